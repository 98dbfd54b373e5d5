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


def depths() -> list[dict]:
    """Visible, in-flight and dead-lettered message counts per queue."""
    sqs, rows = aws.client("sqs"), []
    for queue in ALL:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        main = sqs.get_queue_attributes(QueueUrl=url(queue), AttributeNames=names)["Attributes"]
        dead = sqs.get_queue_attributes(QueueUrl=dlq_url(queue), AttributeNames=names[:1])["Attributes"]
        rows.append({"queue": queue.name, "visible": int(main[names[0]]), "in_flight": int(main[names[1]]),
                     "dead": int(dead[names[0]])})
    return rows


def peek_dead(queue: Queue, limit: int = 10) -> list[dict]:
    """Look at dead-lettered messages without consuming them (they become visible again at once)."""
    sqs, dlq = aws.client("sqs"), dlq_url(queue)
    messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=min(limit, 10), WaitTimeSeconds=0,
                                   MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
                                   VisibilityTimeout=0).get("Messages", [])
    return [{"message_id": m["MessageId"], "receives": m.get("Attributes", {}).get("ApproximateReceiveCount"),
             "reason": m.get("MessageAttributes", {}).get("reason", {}).get("StringValue"), "body": m["Body"]}
            for m in messages]


def redrive(queue: Queue, limit: int = 1000) -> int:
    """Move dead-lettered messages back to their queue (after fixing the cause). Consumers deduplicate."""
    sqs, source, dlq, moved = aws.client("sqs"), url(queue), dlq_url(queue), 0
    while moved < limit:
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
        batch = messages.get("Messages", [])
        if not batch:
            break
        for message in batch:
            entry = {"QueueUrl": source, "MessageBody": message["Body"],
                     "MessageAttributes": message.get("MessageAttributes") or {}}
            if queue.fifo:
                group = message.get("Attributes", {}).get("MessageGroupId", "redriven")
                entry.update(MessageGroupId=group, MessageDeduplicationId=f"redrive-{message['MessageId']}")
            sqs.send_message(**entry)
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved
