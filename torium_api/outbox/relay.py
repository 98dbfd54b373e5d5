"""The relay: publishes committed outbox rows to SQS, at least once, never losing one.

Each pass claims due rows with ``FOR UPDATE SKIP LOCKED`` (so concurrent relays on
several instances never send the same row), sends them with ``send_message_batch``
(10 per call), marks the acknowledged ones sent and reschedules the rest with
exponential backoff, all in one transaction. A crash between send and commit
re-sends: consumers deduplicate on the message id, FIFO queues on the dedup id.
"""

import json
import logging
import threading
from collections import defaultdict
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

from torium_api import aws, queues
from torium_api.database import locked, transaction
from torium_api.extensions import db
from torium_api.monitoring.heartbeats import Pulse
from torium_api.monitoring.supervision import Supervisor
from torium_api.outbox.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300
SQS_BATCH = 10


def relay_batch(limit: int | None = None) -> int:
    """One pass. Returns how many rows were published."""
    limit = limit or current_app.config["RELAY_BATCH_SIZE"]
    with transaction():
        due = (db.select(OutboxMessage)
               .where(OutboxMessage.sent_at.is_(None), OutboxMessage.available_at <= db.func.now())
               .order_by(OutboxMessage.available_at, OutboxMessage.occurred_at).limit(limit))
        rows = db.session.scalars(locked(due, skip_locked=True)).all()
        by_queue = defaultdict(list)
        for row in rows:
            by_queue[row.queue].append(row)
        sent = 0
        for queue_key, queue_rows in by_queue.items():
            for start in range(0, len(queue_rows), SQS_BATCH):
                sent += _publish(queues.BY_KEY[queue_key], queue_rows[start:start + SQS_BATCH])
    return sent


def _publish(queue: queues.Queue, rows: list[OutboxMessage]) -> int:
    entries = [_entry(queue, i, row) for i, row in enumerate(rows)]
    try:
        response = aws.client("sqs").send_message_batch(QueueUrl=queues.url(queue), Entries=entries)
    except (BotoCoreError, ClientError) as exc:
        for row in rows:
            _reschedule(row, f"{type(exc).__name__}: {exc}")
        log.warning("relay: SQS unavailable, %d messages rescheduled", len(rows), extra={"queue": queue.key})
        return 0
    for ok in response.get("Successful", []):
        row = rows[int(ok["Id"])]
        row.sent_at = db.func.now()
        log.info("message published", extra={"message_id": str(row.id), "type": row.type, "queue": queue.key,
                                              "request_id": row.request_id, "attempts": row.attempts})
    for failed in response.get("Failed", []):  # boto3 does not raise on partial failure
        row = rows[int(failed["Id"])]
        _reschedule(row, f"{failed.get('Code')}: {failed.get('Message')}")
        log.warning("message not published; retried later", extra={"message_id": str(row.id), "type": row.type,
                                                                    "error_code": failed.get("Code")})
    return len(response.get("Successful", []))


def _entry(queue: queues.Queue, index: int, row: OutboxMessage) -> dict:
    entry = {
        "Id": str(index),
        "MessageBody": json.dumps(row.envelope(), separators=(",", ":")),
        "MessageAttributes": {"type": {"DataType": "String", "StringValue": row.type}},
    }
    if row.request_id:
        entry["MessageAttributes"]["request_id"] = {"DataType": "String", "StringValue": row.request_id}
    if queue.fifo:
        entry["MessageGroupId"] = row.group_id
        entry["MessageDeduplicationId"] = str(row.id)
    return entry


def _reschedule(row: OutboxMessage, error: str) -> None:
    row.attempts += 1
    delay = min(2 ** row.attempts, MAX_BACKOFF_SECONDS)
    row.available_at = db.func.now() + timedelta(seconds=delay)
    row.last_error = error[:1000]


def purge_sent(older_than: timedelta = timedelta(days=7)) -> int:
    """Delete rows published long ago (the relay keeps the table small)."""
    result = db.session.execute(
        db.delete(OutboxMessage).where(OutboxMessage.sent_at < db.func.now() - older_than)
    )
    return result.rowcount


def run(stop: threading.Event, idle_seconds: float | None = None, supervisor: Supervisor | None = None) -> None:
    """Relay until ``stop`` is set; wait briefly when there is nothing to send.

    A failing pass (the database unreachable, a bug) is logged with backoff and retried. When no pass has
    succeeded for WORKER_STALL_SECONDS it raises ``Stalled``: ``flask outbox relay`` then exits non-zero and
    Elastic Beanstalk restarts it. Each successful pass is progress for ``supervisor``, whose pulse (see
    ``relay_supervisor()``) beats the relay's heartbeat: its row, the ``Heartbeat`` metric and the outbox backlog.
    """
    app = current_app._get_current_object()
    idle = idle_seconds if idle_seconds is not None else app.config["RELAY_IDLE_SECONDS"]
    supervisor = supervisor or Supervisor.for_app(app, "relay")
    log.info("relay started")
    while not stop.is_set():
        try:
            published = relay_batch()
        except Exception as exc:
            stop.wait(supervisor.failed("publish", exc))
            continue
        supervisor.progress()
        if not published:
            stop.wait(idle)
    log.info("relay stopped")


def relay_supervisor(app, stall_seconds: float | None = None) -> Supervisor:
    """The relay's supervisor with its heartbeat (which also reports the outbox backlog)."""
    return Supervisor.for_app(app, "relay", stall_seconds=stall_seconds,
                              pulse=Pulse(app, "relay", "relay", report_backlog=True))
