"""Each background loop records a heartbeat (its row and the Heartbeat metric) while it makes progress."""

import json
import os
import threading
import time
from datetime import timedelta

from sqlalchemy import select, text

from tests.workers.support import fast_supervision, make_flaky
from torium_api import create_app, queues
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.monitoring import heartbeats
from torium_api.monitoring.heartbeats import Pulse
from torium_api.monitoring.models import Heartbeat
from torium_api.outbox import emit, relay
from torium_api.workers import runner


def _row(app, component: str) -> Heartbeat | None:
    with app.app_context():
        return db.session.scalar(select(Heartbeat).where(Heartbeat.component == component))


def _wait_for(predicate, seconds: float = 10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _metric_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]


def _run_until_beat(app, component: str, target, *args):
    """Run a loop in a thread until its heartbeat row appears, then stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop, *args))
    thread.start()
    try:
        return _wait_for(lambda: (row := _row(app, component)) and row.last_beat_at and row)
    finally:
        stop.set()
        thread.join(timeout=30)


def test_a_consumer_loop_beats_its_row_and_the_consumer_metric(app, sqs, capsys):
    supervisor = runner._supervised(app, "consumer:notifications", "consumer")
    row = _run_until_beat(app, "consumer:notifications", lambda stop: runner.consume(
        app, queues.NOTIFICATIONS, stop, wait_seconds=0, supervisor=supervisor))
    assert (row.pid, row.last_error) == (os.getpid(), None) and row.started_at <= row.last_beat_at
    beats = [m for m in _metric_lines(capsys) if "Heartbeat" in m]
    assert beats and {(m["Component"], m["loop"]) for m in beats} == {("consumer", "consumer:notifications")}


def test_the_scheduler_beats_and_reports_the_outbox_backlog(app, capsys):
    supervisor = runner._supervised(app, "scheduler", "scheduler", report_backlog=True)
    _run_until_beat(app, "scheduler", lambda stop: runner._schedule(app, stop, supervisor, 0.05))
    lines = _metric_lines(capsys)
    assert {m["Component"] for m in lines if "Heartbeat" in m} == {"scheduler"}
    [backlog] = [m for m in lines if "OutboxOldestUnsentAgeSeconds" in m][:1]
    assert (backlog["OutboxOldestUnsentAgeSeconds"], backlog["OutboxUnsent"]) == (0, 0)  # 0, not missing


def test_the_relay_beats_and_reports_the_outbox_backlog(app, sqs, capsys):
    def relay_loop(stop):
        with app.app_context():
            relay.run(stop, idle_seconds=0.05, supervisor=relay.relay_supervisor(app))

    _run_until_beat(app, "relay", relay_loop)
    lines = _metric_lines(capsys)
    assert {m["Component"] for m in lines if "Heartbeat" in m} == {"relay"}
    assert any("OutboxOldestUnsentAgeSeconds" in m and m["loop"] == "relay" for m in lines)


def test_a_failing_loop_records_its_error_without_beating(app, sqs, monkeypatch):
    fast_supervision(app, monkeypatch)
    make_flaky(app, monkeypatch, "receive_message", failures=10**9)
    supervisor = runner._supervised(app, "consumer:orders", "consumer")
    stop = threading.Event()
    thread = threading.Thread(target=runner.consume, args=(app, queues.ORDERS, stop, 0),
                              kwargs={"supervisor": supervisor})
    thread.start()
    try:
        row = _wait_for(lambda: _row(app, "consumer:orders"))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert row.last_beat_at is None and row.last_error_at is not None
    assert row.last_error.startswith("receive: EndpointConnectionError")


def test_beats_are_rate_limited(app):
    clock = [0.0]
    pulse = Pulse(app, "relay", "relay", every=15, monotonic=lambda: clock[0])
    assert pulse.beat() is True
    clock[0] = 14.9
    assert pulse.beat() is False
    clock[0] = 15.0
    assert pulse.beat() is True


def test_a_heartbeat_never_raises_even_without_a_database(test_config, capsys):
    down = create_app({**test_config, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/none"})
    pulse = Pulse(down, "relay", "relay", report_backlog=True)
    assert pulse.beat() is True
    pulse.failed("publish: OperationalError")
    [line] = _metric_lines(capsys)  # the loop made progress, so the heartbeat metric still goes out
    assert line["Component"] == "relay"


def test_the_backlog_counts_unsent_rows_and_the_age_of_the_oldest(app):
    from torium_api.outbox import backlog
    from torium_api.outbox.models import OutboxMessage

    with app.app_context(), transaction():
        assert backlog.measure().unsent == 0 and backlog.measure().oldest_age_seconds == 0
        for _ in range(3):
            emit("tests.happened", {}, queue=queues.NOTIFICATIONS)
    with app.app_context(), transaction():
        db.session.execute(db.update(OutboxMessage).values(occurred_at=db.func.now() - timedelta(seconds=120)))
        newest = emit("tests.happened", {}, queue=queues.NOTIFICATIONS)
        sent = emit("tests.happened", {}, queue=queues.NOTIFICATIONS)
        db.session.flush()
        db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id == sent).values(
            occurred_at=db.func.now() - timedelta(hours=5), sent_at=db.func.now()))
    with app.app_context():
        measured = backlog.measure()
    assert measured.unsent == 4 and newest
    assert 119 <= measured.oldest_age_seconds <= 130  # the oldest unsent, not the sent one


def test_silent_processes_are_purged_after_a_day(app):
    with app.app_context(), transaction():
        db.session.execute(text(
            "INSERT INTO heartbeats (component, host, pid, started_at, last_beat_at) VALUES "
            "('relay', 'old', 1, now() - interval '3 days', now() - interval '2 days'), "
            "('relay', 'new', 2, now() - interval '3 days', now() - interval '1 minute'), "
            "('scheduler', 'never', 3, now() - interval '2 days', NULL)"))
    with app.app_context(), transaction():
        assert heartbeats.purge() == 2
    with app.app_context():
        assert db.session.scalars(select(Heartbeat.host)).all() == ["new"]
