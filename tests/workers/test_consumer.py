"""The consumer against moto's SQS server: exactly-once effects, retries, DLQ, graceful stop."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from tests.factories import drain
from tests.workers.support import Counter, queue_counts
from torium_api import queues, workers
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.notifications import Channel, request_notification
from torium_api.notifications.models import NotificationDelivery
from torium_api.outbox.models import ProcessedMessage
from torium_api.outbox.relay import relay_batch
from torium_api.workers import runner

ROOT = Path(__file__).resolve().parents[2]


def _envelope(type_="notifications.requested", payload=None, id_=None) -> str:
    return json.dumps({"id": str(id_ or uuid.uuid4()), "type": type_, "occurred_at": "2026-11-22T10:00:00+00:00",
                       "payload": payload or {}})


def _send(app, sqs, body, queue=queues.NOTIFICATIONS):
    with app.app_context():
        sqs.send_message(QueueUrl=queues.url(queue), MessageBody=body)


def _consume(app, queue=queues.NOTIFICATIONS) -> int:
    return runner.consume(app, queue, threading.Event(), wait_seconds=0, drain=True)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _dlq_bodies(app, sqs, queue=queues.NOTIFICATIONS) -> list[str]:
    with app.app_context():
        url = queues.dlq_url(queue)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [m["Body"] for m in messages]


def _email_payload(user_id):
    return {"user_id": user_id, "channel": "EMAIL", "subject": "Hello", "text": "once only", "data": {}}


def test_a_message_delivered_twice_has_its_effect_once(app, sqs, user):
    body = _envelope(payload=_email_payload(user[0]))
    _send(app, sqs, body)
    _send(app, sqs, body)  # SQS is at-least-once: the same envelope arrives again
    assert _consume(app) == 2
    assert _count(app, NotificationDelivery) == 1
    assert _count(app, ProcessedMessage) == 1
    with app.app_context():
        assert drain(sqs, queues.url(queues.NOTIFICATIONS)) == 0  # both deleted


def test_emit_to_handler_end_to_end(app, sqs, user):
    with app.app_context(), transaction():
        request_notification(user[0], subject="Hi", text="through the outbox", channel=Channel.EMAIL)
    with app.app_context():
        assert relay_batch() == 1
    assert _consume(app) == 1
    with app.app_context():
        delivery = db.session.scalar(select(NotificationDelivery))
        assert (delivery.channel, delivery.recipient, delivery.body) == ("EMAIL", "ada@example.com",
                                                                         "through the outbox")


def test_an_always_failing_handler_ends_in_the_dlq_without_blocking_others(app, sqs, user, monkeypatch):
    calls = []

    def always_fails(payload, *, message_id):
        calls.append(message_id)
        raise RuntimeError("boom")

    monkeypatch.setitem(workers.HANDLERS, "tests.always_fails", always_fails)
    poison = _envelope("tests.always_fails")
    _send(app, sqs, poison)
    for _ in range(3):
        _send(app, sqs, _envelope(payload=_email_payload(user[0])))
    _consume(app)
    assert len(calls) == app.config["QUEUE_MAX_RECEIVES"]  # tried, retried, then given up
    assert _count(app, NotificationDelivery) == 3  # the others went through
    assert _dlq_bodies(app, sqs) == [poison]
    assert _count(app, ProcessedMessage) == 3  # the failure left no trace of "done"


def test_a_failing_handler_rolls_back_its_writes(app, sqs, user, monkeypatch):
    from torium_api.notifications import services

    def fail_after_logging(*args, **kwargs):
        raise RuntimeError("SES exploded after we logged")

    monkeypatch.setattr(services.senders, "send_email", fail_after_logging)
    _send(app, sqs, _envelope(payload=_email_payload(user[0])))
    _consume(app)
    assert _count(app, NotificationDelivery) == 0
    assert _count(app, ProcessedMessage) == 0


def test_unparseable_messages_go_to_the_dlq_at_once(app, sqs):
    for body in ("not json", json.dumps({"type": "x"}), json.dumps([1]), json.dumps({"id": 1, "type": "x"})):
        _send(app, sqs, body)
    _consume(app)
    assert len(_dlq_bodies(app, sqs)) == 4
    with app.app_context():
        assert drain(sqs, queues.url(queues.NOTIFICATIONS)) == 0


def test_a_stop_mid_batch_finishes_the_message_in_hand_and_gives_the_rest_back(app, sqs, monkeypatch):
    """What SIGTERM does (its handler sets the stop event), at an exact point: during the 5th message."""
    stop, total = threading.Event(), 8
    handler = Counter(on_call=lambda count: stop.set() if count == 5 else None)
    monkeypatch.setitem(workers.HANDLERS, "tests.counted", handler)
    for _ in range(total):
        _send(app, sqs, _envelope("tests.counted"))
    handled = runner.consume(app, queues.NOTIFICATIONS, stop, wait_seconds=0, concurrency=1)
    assert handled == 5 and len(handler.ids) == 5  # the 5th finished; the 6th was never started
    assert _count(app, ProcessedMessage) == 5
    assert queue_counts(app, sqs) == (total - 5, 0)  # done ones deleted, the rest given back: nothing in flight
    assert _consume(app) == total - 5
    assert len(handler.ids) == len(set(handler.ids)) == total and _count(app, ProcessedMessage) == total


def test_sigterm_stops_the_worker_process_cleanly_and_loses_nothing(app, sqs, user, database_url, aws_endpoint,
                                                                    test_config):
    total = 60
    with app.app_context(), transaction():
        for i in range(total):
            request_notification(user[0], subject="Load", text=f"message {i}", channel=Channel.EMAIL)
    with app.app_context():
        assert relay_batch() == total
    env = {**os.environ, "DATABASE_URL": database_url, "AWS_ENDPOINT_URL": aws_endpoint,
           "QUEUE_PREFIX": test_config["QUEUE_PREFIX"], "WORKER_WAIT_SECONDS": "1", "LOG_LEVEL": "WARNING",
           "SES_SENDER": app.config["SES_SENDER"], "WORKER_RETRY_BASE_SECONDS": "0"}
    env.pop("AWS_ACCESS_KEY_ID", None)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "application", "worker", "run"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _count(app, NotificationDelivery) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    if _count(app, NotificationDelivery) < 1:
        worker.kill()
        raise AssertionError("the worker never started handling: " + worker.stderr.read().decode()[-3000:])
    worker.send_signal(signal.SIGTERM)  # wherever it lands: mid-batch, mid-poll or after the last message
    assert worker.wait(timeout=60) == 0, worker.stderr.read().decode()[-2000:]
    # what the stopped worker had received but not handled was given back: nothing is left in flight
    assert queue_counts(app, sqs)[1] == 0
    _consume(app)  # another worker finishes the rest
    with app.app_context():
        bodies = db.session.scalars(select(NotificationDelivery.body)).all()
    assert sorted(bodies) == sorted(f"message {i}" for i in range(total))  # each exactly once
    assert queue_counts(app, sqs) == (0, 0)


def test_operators_see_depths_and_dead_letters_and_can_redrive(app, sqs, user, monkeypatch):
    runner_cli = app.test_cli_runner()
    poison = _envelope("tests.broken_for_now", {"n": 1})
    monkeypatch.setitem(workers.HANDLERS, "tests.broken_for_now", lambda payload, *, message_id: 1 / 0)
    _send(app, sqs, poison)
    _consume(app)
    depth = runner_cli.invoke(args=["queues", "depth"]).output
    notifications_line = next(line for line in depth.splitlines() if "notifications\t" in line)
    assert "visible=0" in notifications_line and "dead=1" in notifications_line
    dlq_output = runner_cli.invoke(args=["queues", "dlq", "notifications"]).output
    [shown] = [json.loads(line) for line in dlq_output.splitlines() if line]
    assert shown["body"] == poison and shown["receives"]
    processed = []
    monkeypatch.setitem(workers.HANDLERS, "tests.broken_for_now",
                        lambda payload, *, message_id: processed.append(payload))  # the cause is fixed
    assert runner_cli.invoke(args=["queues", "redrive", "notifications"]).output.strip() == "redrove 1"
    _consume(app)
    assert processed == [{"n": 1}]
    assert "dead=0" in runner_cli.invoke(args=["queues", "depth"]).output.splitlines()[0]
