"""The SQS consumer: one message = one transaction = at most one effect.

Per message: parse the envelope → in one transaction claim its id in
``processed_messages`` (a duplicate delivery finds it taken and does nothing) and run
the handler → commit → only then delete the SQS message. A failing handler rolls
back and leaves the message to be redelivered (with backoff); after
``QUEUE_MAX_RECEIVES`` receives SQS moves it to the queue's dead-letter queue. A
message that cannot be parsed goes to the DLQ at once. A message of a type this worker
has no handler for (during a rolling deploy the newer code may emit types an older
worker does not know) goes back to the queue with a growing delay, and is dead-lettered
only after ``QUEUE_MAX_RECEIVES`` receives or ``UNKNOWN_TYPE_MAX_SECONDS``.

``handle`` raises only ``StepFailed`` (naming the step: parse, dead-letter, defer) for
what it could not do; the runner logs it, backs off and retries the message.
"""

import json
import logging
import re
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from torium_api import aws, clock, correlation, queues
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.monitoring.supervision import StepFailed, database_unavailable
from torium_api.outbox.models import ProcessedMessage

log = logging.getLogger(__name__)
MAX_RETRY_DELAY = 900
TYPE = re.compile(r"[A-Za-z0-9_.:-]{1,100}")  # <domain>.<event>; fits processed_messages.type (100)
RECEIVE_ATTRIBUTES = ["ApproximateReceiveCount", "SentTimestamp", "MessageGroupId"]


class PoisonMessage(Exception):
    pass


def parse(body) -> dict:
    """The envelope ``{"id", "type", "occurred_at", "payload"}``, or ``PoisonMessage`` for anything else."""
    try:
        envelope = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:  # deep nesting overflows the decoder
        raise PoisonMessage(f"unparseable envelope: {type(exc).__name__}") from None
    if not isinstance(envelope, dict):
        raise PoisonMessage("unparseable envelope: not an object")
    try:
        message_id = str(uuid.UUID(envelope.get("id")))
    except (ValueError, TypeError, AttributeError):  # uuid.UUID(1) is an AttributeError
        raise PoisonMessage("unparseable envelope: id is not a UUID string") from None
    type_ = envelope.get("type")
    if not isinstance(type_, str) or not TYPE.fullmatch(type_) or not isinstance(envelope.get("payload"), dict):
        raise PoisonMessage("envelope lacks type or payload")
    return {**envelope, "id": message_id}


def receive(queue: queues.Queue, wait_seconds: int) -> list[dict]:
    response = aws.client("sqs").receive_message(
        QueueUrl=queues.url(queue), MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
        MessageSystemAttributeNames=RECEIVE_ATTRIBUTES, MessageAttributeNames=["All"],
    )
    return response.get("Messages", [])


def handle(queue: queues.Queue, message: dict, handlers: dict, give_up: dict | None = None) -> str:
    """Process one received SQS message. Returns what happened (for logs and tests).

    "processed" and "duplicate" mean the message may now be deleted (the caller batches deletes);
    "failed" (the handler raised) leaves it to come back; "deferred" put it back for a newer worker;
    "dead-lettered" has already been moved. ``StepFailed`` means a step could not run at all (the
    database unreachable, SQS refusing the dead-letter copy, ...): the caller retries the message.
    """
    try:
        envelope = parse(message.get("Body"))
    except PoisonMessage as exc:
        return _dead_letter(queue, message, str(exc))
    except Exception as exc:
        raise StepFailed("parse") from exc
    handler = handlers.get(envelope["type"])
    if handler is None:
        return _unknown_type(queue, message, envelope)
    return _run(queue, message, envelope, handler, give_up)


def _run(queue: queues.Queue, message: dict, envelope: dict, handler, give_up: dict | None) -> str:
    request_id = message.get("MessageAttributes", {}).get("request_id", {}).get("StringValue")
    extra = {"message_id": envelope["id"], "type": envelope["type"], "queue": queue.key, "request_id": request_id}
    receives = _receives(message)
    try:
        with correlation.bound(request_id), transaction():  # what the handler emits keeps the request's id
            if not _claim(envelope):
                outcome = "duplicate"
            else:
                handler(envelope["payload"], message_id=envelope["id"])
                outcome = "processed"
    except Exception as exc:
        if database_unavailable(exc):  # not the handler's fault: no give-up; the loop backs off and retries
            raise StepFailed("handle") from exc
        log.exception("handler failed (receive %d of %d)", receives, current_app.config["QUEUE_MAX_RECEIVES"],
                      extra=extra)
        if receives >= current_app.config["QUEUE_MAX_RECEIVES"] and (give_up or {}).get(envelope["type"]):
            _give_up(give_up[envelope["type"]], envelope, extra)
        retry_later(queue, message)
        return "failed"
    log.info("message %s", outcome, extra=extra)
    return outcome


def _unknown_type(queue: queues.Queue, message: dict, envelope: dict) -> str:
    """Give a newer worker the chance to handle it; dead-letter it only at the bound (with the reason)."""
    config, receives = current_app.config, _receives(message)
    age = _age_seconds(message)
    if receives >= config["QUEUE_MAX_RECEIVES"] or age >= config["UNKNOWN_TYPE_MAX_SECONDS"]:
        reason = (f"no handler for type {envelope['type']!r} after {receives} receives "
                  f"({age:.0f} s old; bounds: {config['QUEUE_MAX_RECEIVES']} receives, "
                  f"{config['UNKNOWN_TYPE_MAX_SECONDS']} s)")
        return _dead_letter(queue, message, reason)
    delay = unknown_type_delay(receives)
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=queues.url(queue), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay)
    except Exception as exc:
        raise StepFailed("defer") from exc
    log.warning("no handler for type %r (an older worker during a deploy?); back in the queue in %d s",
                envelope["type"], delay, extra={"message_id": envelope["id"], "queue": queue.key,
                                                "receives": receives})
    return "deferred"


def unknown_type_delay(receives: int) -> int:
    """UNKNOWN_TYPE_RETRY_SECONDS, doubling with each receive, capped."""
    base = current_app.config["UNKNOWN_TYPE_RETRY_SECONDS"]
    return min(base * 2 ** min(max(receives - 1, 0), 20), MAX_RETRY_DELAY)


def delete(queue: queues.Queue, messages: list[dict]) -> None:
    """Delete handled messages, 10 per call. Raises when a call fails: the caller keeps them and retries.

    A message SQS reports in ``Failed`` is left alone: it will be redelivered and found done (a duplicate).
    """
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


def _receives(message: dict) -> int:
    try:
        return max(int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1")), 1)
    except ValueError:
        return 1


def _age_seconds(message: dict) -> float:
    """Seconds since SQS accepted the message (its SentTimestamp, in ms)."""
    try:
        sent = int(message["Attributes"]["SentTimestamp"]) / 1000
    except (KeyError, ValueError):
        return 0.0
    return max(clock.now().timestamp() - sent, 0.0)


def retry_later(queue: queues.Queue, message: dict) -> None:
    """Make the message visible again after a backoff that grows with its receive count (best effort)."""
    base = current_app.config["WORKER_RETRY_BASE_SECONDS"]
    delay = min(base * 2 ** min(_receives(message) - 1, 20), MAX_RETRY_DELAY)
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=queues.url(queue), ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay)
    except Exception as exc:  # noqa: BLE001 - it comes back after the visibility timeout anyway
        log.warning("could not set retry delay (%s); the visibility timeout applies", type(exc).__name__)


def _dead_letter(queue: queues.Queue, message: dict, reason: str) -> str:
    """Copy the message to the DLQ with the reason, then delete it. A failure leaves it in the queue (retried)."""
    try:
        sqs = aws.client("sqs")
        entry = {"QueueUrl": queues.dlq_url(queue), "MessageBody": message["Body"],
                 "MessageAttributes": {"reason": {"DataType": "String", "StringValue": reason[:250]}}}
        if queue.fifo:
            entry.update(MessageGroupId="poison", MessageDeduplicationId=message["MessageId"])
        sqs.send_message(**entry)
        sqs.delete_message(QueueUrl=queues.url(queue), ReceiptHandle=message["ReceiptHandle"])
    except Exception as exc:
        raise StepFailed("dead-letter") from exc
    log.error("message moved to the DLQ: %s", reason, extra={"queue": queue.key, "sqs_message_id": message.get(
        "MessageId")})
    return "dead-lettered"


def release(queue: queues.Queue, messages: list[dict]) -> None:
    """Give received-but-unprocessed messages back at once (used on shutdown). Raises when a call fails."""
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                   for i, m in enumerate(messages[start:start + 10])]
        aws.client("sqs").change_message_visibility_batch(QueueUrl=queues.url(queue), Entries=entries)


def purge_processed(older_than: timedelta = timedelta(days=15)) -> None:
    """Dedupe records outlive the DLQ retention (14 days), so a redriven message is still recognised."""
    db.session.execute(db.delete(ProcessedMessage).where(ProcessedMessage.processed_at < db.func.now() - older_than))
