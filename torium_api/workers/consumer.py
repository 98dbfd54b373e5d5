"""The SQS consumer: one message = one transaction = at most one effect.

Per message: parse the envelope → in one transaction claim its id in
``processed_messages`` (a duplicate delivery finds it taken and does nothing) and run
the handler → commit → only then delete the SQS message. A failing handler rolls
back and leaves the message to be redelivered (with backoff); after
``QUEUE_MAX_RECEIVES`` receives SQS moves it to the queue's dead-letter queue. A
message that cannot be parsed, or has no handler, goes to the DLQ at once.
"""

import json
import logging
import uuid
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from torium_api import aws, correlation, queues
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.outbox.models import ProcessedMessage

log = logging.getLogger(__name__)
MAX_RETRY_DELAY = 900


class PoisonMessage(Exception):
    pass


def parse(body: str) -> dict:
    try:
        envelope = json.loads(body)
        uuid.UUID(envelope["id"])
    except (ValueError, TypeError, KeyError) as exc:
        raise PoisonMessage(f"unparseable envelope: {type(exc).__name__}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str) \
            or not isinstance(envelope.get("payload"), dict):
        raise PoisonMessage("envelope lacks type or payload")
    return envelope


def receive(queue: queues.Queue, wait_seconds: int) -> list[dict]:
    response = aws.client("sqs").receive_message(
        QueueUrl=queues.url(queue), MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=["ApproximateReceiveCount"], MessageAttributeNames=["All"],
    )
    return response.get("Messages", [])


def handle(queue: queues.Queue, message: dict, handlers: dict, give_up: dict | None = None) -> str:
    """Process one received SQS message. Returns what happened (for logs and tests).

    "processed" and "duplicate" mean the message may now be deleted (the caller batches
    deletes); "failed" leaves it to come back; "dead-lettered" has already been moved.
    """
    url = queues.url(queue)
    try:
        envelope = parse(message["Body"])
        handler = handlers.get(envelope["type"])
        if handler is None:
            raise PoisonMessage(f"no handler for type {envelope['type']!r}")
    except PoisonMessage as exc:
        _dead_letter(queue, message, str(exc))
        return "dead-lettered"
    request_id = message.get("MessageAttributes", {}).get("request_id", {}).get("StringValue")
    extra = {"message_id": envelope["id"], "type": envelope["type"], "queue": queue.key, "request_id": request_id}
    try:
        with correlation.bound(request_id), transaction():  # what the handler emits keeps the request's id
            if not _claim(envelope):
                outcome = "duplicate"
            else:
                handler(envelope["payload"], message_id=envelope["id"])
                outcome = "processed"
    except Exception:
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        log.exception("handler failed (receive %d of %d)", receives, current_app.config["QUEUE_MAX_RECEIVES"],
                      extra=extra)
        if receives >= current_app.config["QUEUE_MAX_RECEIVES"] and (give_up or {}).get(envelope["type"]):
            _give_up(give_up[envelope["type"]], envelope, extra)
        _retry_later(url, message, receives)
        return "failed"
    log.info("message %s", outcome, extra=extra)
    return outcome


def delete(queue: queues.Queue, messages: list[dict]) -> None:
    """Delete handled messages, 10 per call. A crash before this only causes a redelivery (skipped)."""
    sqs, url = aws.client("sqs"), queues.url(queue)
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
        response = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        for failed in response.get("Failed", []):
            log.warning("delete failed (%s); the message will be redelivered and skipped",
                        failed.get("Code"), extra={"queue": queue.key})


def _give_up(hook, envelope: dict, extra: dict) -> None:
    """Last attempt failed: let the owning domain settle what the message was about (e.g. fail the order)."""
    try:
        with transaction():
            hook(envelope["payload"], "the message failed on every attempt")
        log.error("gave up on a message; it goes to the DLQ", extra=extra)
    except Exception:
        log.exception("give-up hook failed; the scheduler's reaper will settle it", extra=extra)


def _claim(envelope: dict) -> bool:
    """Insert the message id; a concurrent duplicate blocks here until the first one commits."""
    statement = insert(ProcessedMessage).values(id=envelope["id"], type=envelope["type"])
    claimed = db.session.execute(statement.on_conflict_do_nothing().returning(ProcessedMessage.id))
    return claimed.first() is not None


def _retry_later(url: str, message: dict, receives: int) -> None:
    base = current_app.config["WORKER_RETRY_BASE_SECONDS"]
    delay = min(base * 2 ** (receives - 1), MAX_RETRY_DELAY)
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay)
    except (BotoCoreError, ClientError):
        log.warning("could not set retry delay; the visibility timeout applies")


def _dead_letter(queue: queues.Queue, message: dict, reason: str) -> None:
    sqs = aws.client("sqs")
    entry = {"QueueUrl": queues.dlq_url(queue), "MessageBody": message["Body"],
             "MessageAttributes": {"reason": {"DataType": "String", "StringValue": reason[:250]}}}
    if queue.fifo:
        entry.update(MessageGroupId="poison", MessageDeduplicationId=message["MessageId"])
    sqs.send_message(**entry)
    sqs.delete_message(QueueUrl=queues.url(queue), ReceiptHandle=message["ReceiptHandle"])
    log.error("poison message moved to the DLQ: %s", reason, extra={"queue": queue.key})


def release(queue: queues.Queue, messages: list[dict]) -> None:
    """Give received-but-unprocessed messages back at once (used on shutdown)."""
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                   for i, m in enumerate(messages[start:start + 10])]
        try:
            aws.client("sqs").change_message_visibility_batch(QueueUrl=queues.url(queue), Entries=entries)
        except (BotoCoreError, ClientError):
            log.warning("could not release messages; they return after the visibility timeout")


def purge_processed(older_than: timedelta = timedelta(days=15)) -> None:
    """Dedupe records outlive the DLQ retention (14 days), so a redriven message is still recognised."""
    db.session.execute(db.delete(ProcessedMessage).where(ProcessedMessage.processed_at < db.func.now() - older_than))
