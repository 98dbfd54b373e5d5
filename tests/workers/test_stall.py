"""Loops that cannot make progress end the process (non-zero) instead of idling forever; logs stay readable.

Nothing here kills pytest: the loops raise ``Stalled``, ``runner.run`` returns the exit code, and the watchdog's
hard exit is injected.
"""

import logging
import threading
import time

import pytest

from tests.workers.support import fast_supervision, make_flaky
from torium_api import queues
from torium_api.monitoring import supervision
from torium_api.monitoring.supervision import EXIT_STALLED, Backoff, Stalled, Supervisor, Watchdog
from torium_api.outbox import relay
from torium_api.workers import runner, scheduler


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_backoff_doubles_up_to_the_cap_with_jitter():
    top = Backoff(cap=8, base=1, rng=lambda: 1.0)
    assert [top.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    bottom = Backoff(cap=8, base=1, rng=lambda: 0.0)
    assert [bottom.next() for _ in range(4)] == [0.5, 1, 2, 4]  # jitter takes up to half off
    bottom.reset()
    assert bottom.next() == 0.5


def test_each_failure_logs_one_line_and_a_traceback_at_most_once_a_minute_per_step(caplog):
    clock = FakeClock()
    supervisor = Supervisor("consumer:orders", stall_seconds=3600, backoff_cap=1, monotonic=clock)
    caplog.set_level(logging.WARNING, logger=supervision.__name__)
    for seconds in (0, 10, 20, 61, 62):
        clock.now = 1000 + seconds
        supervisor.failed("receive", ConnectionError("sqs down"))
    supervisor.failed("delete", ConnectionError("sqs down"))
    records = [r for r in caplog.records if r.name == supervision.__name__]
    assert [(r.step, r.attempt, r.exc_info is not None) for r in records] == [
        ("receive", 1, True), ("receive", 2, False), ("receive", 3, False), ("receive", 4, True),
        ("receive", 5, False), ("delete", 1, True)]
    assert [r.getMessage() for r in records] == ["receive failed"] * 5 + ["delete failed"]
    assert all(r.component == "consumer:orders" and r.error == "ConnectionError: sqs down" for r in records)


def test_failing_past_the_stall_time_raises_stalled_and_progress_resets_the_clock():
    clock = FakeClock()
    supervisor = Supervisor("relay", stall_seconds=300, backoff_cap=1, monotonic=clock)
    clock.now += 299
    supervisor.failed("publish", RuntimeError("db down"))  # not yet
    supervisor.progress()
    clock.now += 299
    supervisor.failed("publish", RuntimeError("db down"))  # the clock restarted at the progress
    clock.now += 2
    with pytest.raises(Stalled) as raised:
        supervisor.failed("publish", RuntimeError("db down"))
    assert raised.value.component == "relay" and raised.value.step == "publish"


def test_a_consumer_that_cannot_receive_for_the_stall_time_raises_stalled(app, sqs, monkeypatch):
    fast_supervision(app, monkeypatch)
    make_flaky(app, monkeypatch, "receive_message", failures=10**9)
    started = time.monotonic()
    with pytest.raises(Stalled, match="consumer:notifications"):
        runner.consume(app, queues.NOTIFICATIONS, threading.Event(), wait_seconds=0, stall_seconds=0.3)
    assert time.monotonic() - started < 10


def test_the_watchdog_stops_a_process_whose_loop_is_stuck_inside_a_call():
    clock, stopping, exits = FakeClock(), threading.Event(), []
    exited = threading.Event()
    stuck = Supervisor("consumer:orders", stall_seconds=300, backoff_cap=1, monotonic=clock)
    fine = Supervisor("scheduler", stall_seconds=300, backoff_cap=1, monotonic=clock)
    watchdog = Watchdog([stuck, fine], stopping.set, period=0.01, grace=0.05,
                        hard_exit=lambda code: (exits.append(code), exited.set()))
    watchdog.start()
    clock.now += 100
    fine.progress()
    assert not stopping.wait(0.1)  # nothing stalled yet
    clock.now += 250  # the stuck loop: 350 s without progress; the other progressed 250 s ago
    assert stopping.wait(5) and watchdog.stalled() == [stuck]
    assert exited.wait(5) and exits == [EXIT_STALLED]  # the process did not wind down within the grace


def test_the_worker_exits_non_zero_when_a_consumer_stalls(app, sqs, monkeypatch):
    fast_supervision(app, monkeypatch, stall_seconds=0.5)
    make_flaky(app, monkeypatch, "receive_message", failures=10**9, when=lambda kw: "orders" in kw["QueueUrl"])
    stop, exits = threading.Event(), []
    assert runner.run(app, stop, hard_exit=exits.append) == EXIT_STALLED
    assert stop.is_set() and exits == []  # every loop wound down in order: no hard exit needed


def test_the_worker_exits_non_zero_when_the_scheduler_tick_keeps_failing(app, sqs, monkeypatch):
    fast_supervision(app, monkeypatch, stall_seconds=0.5)
    monkeypatch.setitem(app.config, "SCHEDULER_INTERVAL_SECONDS", 0.05)

    def tick_with_the_database_down(jobs):
        raise ConnectionError("the first transaction of the tick failed")

    monkeypatch.setattr(scheduler, "tick", tick_with_the_database_down)
    assert runner.run(app, threading.Event(), hard_exit=lambda code: None) == EXIT_STALLED


def test_a_consumer_that_dies_anyway_stops_the_worker(app, sqs, monkeypatch):
    fast_supervision(app, monkeypatch)

    def consume_with_a_bug(*args, **kwargs):
        raise AttributeError("a bug the supervision did not catch")

    monkeypatch.setattr(runner, "consume", consume_with_a_bug)
    assert runner.run(app, threading.Event(), hard_exit=lambda code: None) == EXIT_STALLED


def test_a_relay_failing_every_pass_raises_stalled(app, monkeypatch):
    fast_supervision(app, monkeypatch)

    def pass_with_the_database_down(limit=None):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(relay, "relay_batch", pass_with_the_database_down)
    with app.app_context(), pytest.raises(Stalled, match="relay"):
        relay.run(threading.Event(), supervisor=Supervisor.for_app(app, "relay", stall_seconds=0.3))


def test_flask_outbox_relay_exits_with_code_3_when_it_stalls(app, monkeypatch):
    from torium_api import cli

    fast_supervision(app, monkeypatch, stall_seconds=0.3)
    monkeypatch.setattr(cli, "_stop_on_signals", threading.Event)  # leave pytest's own signal handlers alone
    monkeypatch.setattr(relay, "relay_batch", lambda limit=None: 1 / 0)
    result = app.test_cli_runner().invoke(args=["outbox", "relay"])
    assert result.exit_code == EXIT_STALLED, result.output
