"""The long-running relay: a failing pass is logged with backoff and retried; the loop lives on."""

import json
import threading
import time

from sqlalchemy import func, select

from tests.workers.support import fast_supervision
from torium_api import queues
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.outbox import emit, relay
from torium_api.outbox.models import OutboxMessage


def test_the_relay_survives_failing_passes_and_publishes_everything_once(app, sqs, monkeypatch, caplog):
    fast_supervision(app, monkeypatch)
    with app.app_context(), transaction():
        ids = {str(emit("tests.happened", {"n": i}, queue=queues.NOTIFICATIONS)) for i in range(12)}
    real, failures = relay.relay_batch, []

    def pass_failing_three_times(limit=None):
        if len(failures) < 3:
            failures.append(1)
            raise ConnectionError("the database went away")
        return real(limit)

    monkeypatch.setattr(relay, "relay_batch", pass_failing_three_times)
    stop = threading.Event()

    def loop():
        with app.app_context():
            relay.run(stop, idle_seconds=0.01)

    thread = threading.Thread(target=loop)
    thread.start()
    deadline = time.monotonic() + 15
    try:
        while time.monotonic() < deadline and _unsent(app):
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive() and _unsent(app) == 0 and len(failures) == 3
    with app.app_context():
        url = queues.url(queues.NOTIFICATIONS)
    received = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        received += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(batch)])
    assert sorted(json.loads(m["Body"])["id"] for m in received) == sorted(ids)  # each once
    publish_failures = [r for r in caplog.records if getattr(r, "step", None) == "publish"]
    assert [r.attempt for r in publish_failures] == [1, 2, 3]


def _unsent(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
