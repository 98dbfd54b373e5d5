"""The outbox and its relay against moto's SQS server: nothing lost, nothing sent twice."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from tests.factories import run_concurrently
from torium_api import create_app, queues
from torium_api.database import transaction
from torium_api.errors import Conflict
from torium_api.extensions import db
from torium_api.outbox import emit
from torium_api.outbox.models import OutboxMessage
from torium_api.outbox.relay import relay_batch


def _emit_many(app, count, queue=queues.NOTIFICATIONS, group_id=None):
    with app.app_context(), transaction():
        return [emit("tests.happened", {"n": i}, queue=queue, group_id=group_id) for i in range(count)]


def _receive_all(app, sqs, queue) -> list[dict]:
    with app.app_context():
        url = queues.url(queue)
    received = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                    MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
        messages = batch.get("Messages", [])
        if not messages:
            return received
        received += messages
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def _pending(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))


def test_a_rolled_back_transaction_emits_nothing(app):
    with app.app_context(), pytest.raises(Conflict), transaction():
        emit("tests.happened", {"n": 1}, queue=queues.NOTIFICATIONS)
        raise Conflict("the business rule failed after the emit")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_failed_request_leaves_no_message(client, app, user, monkeypatch):
    from torium_api.users import services

    def emit_then_crash(*args, **kwargs):
        emit(*args, **kwargs)
        raise RuntimeError("crash after emit")

    monkeypatch.setattr(services, "emit", emit_then_crash)
    response = client.post("/users/mobile", headers=user[1], json={"mobile_number": "+48123123123"})
    assert response.status_code == 500
    assert _pending(app) == 0


def test_fifo_queues_need_an_aggregate(app):
    with app.app_context(), pytest.raises(ValueError):
        emit("orders.placed", {}, queue=queues.ORDERS)


def test_relay_publishes_each_committed_message_once_with_the_envelope(app, sqs):
    ids = _emit_many(app, 25)
    with app.app_context():
        assert relay_batch() == 25
        assert relay_batch() == 0
    received = _receive_all(app, sqs, queues.NOTIFICATIONS)
    bodies = [json.loads(m["Body"]) for m in received]
    assert sorted(b["id"] for b in bodies) == sorted(str(i) for i in ids)
    assert set(bodies[0]) == {"id", "type", "occurred_at", "payload"}
    assert bodies[0]["type"] == "tests.happened"
    assert received[0]["MessageAttributes"]["type"]["StringValue"] == "tests.happened"
    assert _pending(app) == 0


def test_fifo_messages_carry_the_aggregate_group_and_the_outbox_id_as_dedup_id(app, sqs):
    [message_id] = _emit_many(app, 1, queue=queues.ORDERS, group_id="order:42")
    with app.app_context():
        relay_batch()
    [received] = _receive_all(app, sqs, queues.ORDERS)
    assert received["Attributes"]["MessageGroupId"] == "order:42"
    assert received["Attributes"]["MessageDeduplicationId"] == str(message_id)


def test_sqs_down_then_up_loses_nothing(app, sqs, test_config):
    _emit_many(app, 12)
    down = create_app({**test_config, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    with down.app_context():
        assert relay_batch() == 0
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert all(r.sent_at is None and r.attempts == 1 and r.last_error for r in rows)
        assert all(r.available_at > datetime.now(UTC) for r in rows)  # backing off
        assert relay_batch() == 0  # not yet due
        db.session.execute(update(OutboxMessage).values(available_at=func.now()))
        db.session.commit()
        assert relay_batch() == 12
    assert len(_receive_all(app, sqs, queues.NOTIFICATIONS)) == 12
    assert _pending(app) == 0


def test_two_relays_in_parallel_send_every_row_exactly_once(app, sqs):
    ids = _emit_many(app, 150)

    def relay():
        published = 0
        with app.app_context():
            while (count := relay_batch(limit=20)) or _pending(app):
                published += count
        return published

    counts = run_concurrently(relay, relay)
    assert sum(counts) == 150 and all(counts)  # both relays took part
    bodies = [json.loads(m["Body"])["id"] for m in _receive_all(app, sqs, queues.NOTIFICATIONS)]
    assert sorted(bodies) == sorted(str(i) for i in ids)  # each exactly once


def test_partial_batch_failure_reschedules_only_the_failed_rows(app, sqs, monkeypatch):
    from torium_api import aws

    _emit_many(app, 3)
    with app.app_context():
        real = aws.client("sqs")

        class HalfFailing:
            def send_message_batch(self, QueueUrl, Entries):
                result = real.send_message_batch(QueueUrl=QueueUrl, Entries=Entries[:2])
                result["Failed"] = [{"Id": Entries[2]["Id"], "Code": "InternalError", "Message": "x",
                                     "SenderFault": False}]
                return result

        monkeypatch.setitem(app.extensions["torium_aws"], "sqs", HalfFailing())
        assert relay_batch() == 2
    assert _pending(app) == 1
