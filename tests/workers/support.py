"""Helpers for the worker tests: envelopes, a counting handler and an SQS client that fails on demand."""

import json
import threading
import uuid

from botocore.exceptions import EndpointConnectionError

from torium_api import queues


def envelope(type_="tests.counted", payload=None, id_=None) -> str:
    return json.dumps({"id": str(id_ or uuid.uuid4()), "type": type_, "occurred_at": "2026-11-22T10:00:00+00:00",
                       "payload": payload if payload is not None else {}})


def send(app, sqs, *bodies, queue=queues.NOTIFICATIONS, group=None) -> None:
    with app.app_context():
        url = queues.url(queue)
    for body in bodies:
        extra = {"MessageGroupId": group, "MessageDeduplicationId": str(uuid.uuid4())} if queue.fifo else {}
        sqs.send_message(QueueUrl=url, MessageBody=body, **extra)


def queue_counts(app, sqs, queue=queues.NOTIFICATIONS) -> tuple[int, int]:
    """(visible, in flight) of a queue."""
    with app.app_context():
        url = queues.url(queue)
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


def dead_letters(app, sqs, queue=queues.NOTIFICATIONS) -> list[dict]:
    """The DLQ's messages (body and reason), left in place."""
    with app.app_context():
        url = queues.dlq_url(queue)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0,
                                   MessageAttributeNames=["All"]).get("Messages", [])
    return [{"body": m["Body"], "reason": m.get("MessageAttributes", {}).get("reason", {}).get("StringValue")}
            for m in messages]


class Counter:
    """A handler that records each message id it is called with (thread-safe)."""

    def __init__(self, on_call=None):
        self.ids: list[str] = []
        self._lock = threading.Lock()
        self.on_call = on_call

    def __call__(self, payload, *, message_id):
        with self._lock:
            self.ids.append(message_id)
            count = len(self.ids)
        if self.on_call:
            self.on_call(count)


class FlakySQS:
    """The real SQS client, except that ``method`` raises ``error`` on its first ``failures`` matching calls."""

    def __init__(self, real, method: str, failures: int = 1, error: Exception | None = None, when=None):
        self.real, self.method, self.left = real, method, failures
        self.error = error or EndpointConnectionError(endpoint_url="http://sqs.invalid")
        self.when = when or (lambda kwargs: True)
        self.failed = 0
        self.failed_calls: list[dict] = []  # the arguments of each call made to fail
        self._lock = threading.Lock()

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if name != self.method:
            return attribute

        def flaky(*args, **kwargs):
            with self._lock:
                fail = self.left > 0 and self.when(kwargs)
                if fail:
                    self.left -= 1
                    self.failed += 1
                    self.failed_calls.append(kwargs)
            if fail:
                raise self.error
            return attribute(*args, **kwargs)

        return flaky


def make_flaky(app, monkeypatch, method: str, **kwargs) -> FlakySQS:
    from torium_api import aws

    with app.app_context():
        flaky = FlakySQS(aws.client("sqs"), method, **kwargs)
    monkeypatch.setitem(app.extensions["torium_aws"], "sqs", flaky)
    return flaky


def fast_supervision(app, monkeypatch, stall_seconds: float = 300) -> None:
    """Back off for milliseconds, not seconds, so a test sees many retries quickly."""
    monkeypatch.setitem(app.config, "WORKER_BACKOFF_MAX_SECONDS", 0.02)
    monkeypatch.setitem(app.config, "WORKER_STALL_SECONDS", stall_seconds)
