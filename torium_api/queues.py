"""The queues, named here and nowhere else.

Every queue has a dead-letter queue (``<name>-dlq``) and a redrive policy after
``QUEUE_MAX_RECEIVES`` receives. FIFO queues keep per-aggregate order (orders).
"""

from dataclasses import dataclass

from flask import current_app

from torium_api import aws


@dataclass(frozen=True)
class Queue:
    key: str
    fifo: bool = False

    @property
    def name(self) -> str:
        suffix = ".fifo" if self.fifo else ""
        return f"{current_app.config['QUEUE_PREFIX']}{self.key}{suffix}"

    @property
    def dlq_name(self) -> str:
        suffix = ".fifo" if self.fifo else ""
        return f"{current_app.config['QUEUE_PREFIX']}{self.key}-dlq{suffix}"


NOTIFICATIONS = Queue("notifications")
DOMAIN_EVENTS = Queue("domain-events")
ORDERS = Queue("orders", fifo=True)

ALL = (NOTIFICATIONS, DOMAIN_EVENTS, ORDERS)
BY_KEY = {queue.key: queue for queue in ALL}


def url(queue: Queue) -> str:
    cache = current_app.extensions.setdefault("torium_queue_urls", {})
    if queue.key not in cache:
        cache[queue.key] = aws.client("sqs").get_queue_url(QueueName=queue.name)["QueueUrl"]
    return cache[queue.key]


def dlq_url(queue: Queue) -> str:
    return aws.client("sqs").get_queue_url(QueueName=queue.dlq_name)["QueueUrl"]


def create_all() -> list[str]:
    """Create every queue and its DLQ (idempotent). Returns the queue URLs."""
    sqs, config = aws.client("sqs"), current_app.config
    created = []
    for queue in ALL:
        fifo_attrs = {"FifoQueue": "true"} if queue.fifo else {}
        dlq = sqs.create_queue(
            QueueName=queue.dlq_name, Attributes={**fifo_attrs, "MessageRetentionPeriod": "1209600"}
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{config["QUEUE_MAX_RECEIVES"]}"}}'
        attrs = {
            **fifo_attrs,
            "VisibilityTimeout": str(config["QUEUE_VISIBILITY_TIMEOUT"]),
            "MessageRetentionPeriod": "345600",
            "RedrivePolicy": redrive,
        }
        created.append(sqs.create_queue(QueueName=queue.name, Attributes=attrs)["QueueUrl"])
    current_app.extensions.pop("torium_queue_urls", None)
    return created
