"""`flask ops status`: one place that tells an operator whether the background work is alive and keeping up."""

import json
from datetime import timedelta

from sqlalchemy import text

from tests.workers.support import envelope
from torium_api import create_app, queues
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.outbox import emit
from torium_api.outbox.models import OutboxMessage


def _world(app, sqs):
    with app.app_context(), transaction():
        db.session.execute(text(
            "INSERT INTO heartbeats (component, host, pid, last_beat_at, last_error, last_error_at) VALUES "
            "('relay', 'ip-a', 11, now() - interval '3 seconds', NULL, NULL), "
            "('scheduler', 'ip-a', 12, now() - interval '5 seconds', NULL, NULL), "
            "('consumer:notifications', 'ip-a', 12, now() - interval '2 seconds', NULL, NULL), "
            "('consumer:domain-events', 'ip-a', 12, now() - interval '4 seconds', NULL, NULL), "
            "('consumer:orders', 'ip-a', 12, now() - interval '10 minutes', "
            "'receive: EndpointConnectionError: no route', now() - interval '1 second')"))
        db.session.execute(text(
            "INSERT INTO scheduled_jobs (name, next_run_at, last_run_at) VALUES "
            "('orders.reap_stuck', now() + interval '50 seconds', now() - interval '10 seconds')"))
        for _ in range(2):
            emit("tests.happened", {}, queue=queues.NOTIFICATIONS)
    with app.app_context(), transaction():
        db.session.execute(db.update(OutboxMessage).values(occurred_at=db.func.now() - timedelta(seconds=90),
                                                           attempts=2, last_error="InternalError: try later"))
    with app.app_context():
        sqs.send_message(QueueUrl=queues.dlq_url(queues.ORDERS), MessageBody=envelope(), MessageGroupId="poison",
                         MessageDeduplicationId="d1")


def test_the_status_shows_heartbeats_backlog_dead_letters_and_jobs(app, sqs):
    _world(app, sqs)
    result = app.test_cli_runner().invoke(args=["ops", "status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    beats = {b["component"]: b for b in report["heartbeats"]["processes"]}
    assert not beats["relay"]["stale"] and 2 <= beats["relay"]["age_seconds"] < 30
    assert beats["consumer:orders"]["stale"] and beats["consumer:orders"]["age_seconds"] >= 600
    assert beats["consumer:orders"]["last_error"].startswith("receive: EndpointConnectionError")
    assert report["heartbeats"]["missing"] == ["consumer:orders"]  # no live process consumes orders
    assert report["outbox"]["unsent"] == 2 and 89 <= report["outbox"]["oldest_unsent_age_seconds"] < 120
    assert report["outbox"]["oldest_error"] == "InternalError: try later"
    depths = {row["queue"]: row["messages"] for row in report["dead_letter_queues"]}
    with app.app_context():
        assert depths == {queues.NOTIFICATIONS.name: 0, queues.DOMAIN_EVENTS.name: 0, queues.ORDERS.name: 1}
    jobs = {job["name"]: job for job in report["scheduled_jobs"]}
    assert 9 <= jobs["orders.reap_stuck"]["seconds_since_last_run"] < 60
    assert jobs["events.fire_due_reminders"]["last_run_at"] is None  # never ran yet
    assert report["ok"] is False


def test_the_text_status_reads_at_a_glance(app, sqs):
    _world(app, sqs)
    result = app.test_cli_runner().invoke(args=["ops", "status"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("background: ATTENTION")
    assert "consumer:orders" in out and "STALE" in out and "NO LIVE PROCESS: consumer:orders" in out
    assert "outbox: 2 unsent, oldest 9" in out and "oldest error: InternalError: try later" in out
    with app.app_context():
        assert f"{queues.ORDERS.dlq_name}" in out and "orders.reap_stuck" in out


def test_an_unreachable_sqs_is_reported_not_a_crash(app, test_config):
    with app.app_context(), transaction():
        emit("tests.happened", {}, queue=queues.NOTIFICATIONS)
    down = create_app({**test_config, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    result = down.test_cli_runner().invoke(args=["ops", "status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert all(row["error"].startswith("SQS unreachable") for row in report["dead_letter_queues"])
    assert report["outbox"]["unsent"] == 1 and report["ok"] is False


def test_an_unreachable_database_is_reported_not_a_crash(test_config):
    down = create_app({**test_config, "DATABASE_URL": "postgresql://postgres@127.0.0.1:9/none"})
    result = down.test_cli_runner().invoke(args=["ops", "status"])
    assert result.exit_code == 0, result.output
    assert "heartbeats: database unreachable" in result.output and "outbox: database unreachable" in result.output


def test_rows_of_processes_restarted_since_are_history_not_noise(app, sqs):
    with app.app_context(), transaction():
        db.session.execute(text(
            "INSERT INTO heartbeats (component, host, pid, started_at, last_beat_at) VALUES "
            "('relay', 'ip-a', 1, now() - interval '1 hour', now() - interval '50 minutes'), "  # killed, restarted
            "('relay', 'ip-a', 2, now() - interval '50 minutes', now()), "
            "('relay', 'ip-b', 3, now() - interval '1 hour', now() - interval '50 minutes')"))  # its host is gone
    report = json.loads(app.test_cli_runner().invoke(args=["ops", "status", "--json"]).output)
    rows = {(b["host"], b["pid"]): (b["stale"], b["superseded"]) for b in report["heartbeats"]["processes"]}
    assert rows == {("ip-a", 1): (True, True), ("ip-a", 2): (False, False), ("ip-b", 3): (True, False)}
    out = app.test_cli_runner().invoke(args=["ops", "status"]).output
    assert "ip-a:1 " not in out and "ip-a:2 " in out and "ip-b:3 " in out and "1 stale rows" in out


def test_all_healthy_says_ok(app, sqs):
    with app.app_context(), transaction():
        db.session.execute(text(
            "INSERT INTO heartbeats (component, host, pid, last_beat_at) SELECT c, 'ip-a', 1, now() FROM "
            "unnest(ARRAY['relay', 'scheduler', 'consumer:notifications', 'consumer:domain-events', "
            "'consumer:orders']) AS c"))
    report = json.loads(app.test_cli_runner().invoke(args=["ops", "status", "--json"]).output)
    assert report["ok"] is True and report["heartbeats"]["missing"] == []
