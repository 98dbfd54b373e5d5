"""The transactional outbox: ``emit()`` adds a message to the caller's transaction.

Nothing is sent here. The relay (``outbox/relay.py``, ``flask outbox relay``) publishes
committed rows to SQS; a rolled-back transaction therefore emits nothing.
"""

import uuid

from torium_api import correlation
from torium_api.extensions import db
from torium_api.outbox.models import OutboxMessage
from torium_api.queues import Queue


def emit(type: str, payload: dict, *, queue: Queue, group_id: str | None = None) -> uuid.UUID:
    if queue.fifo and not group_id:
        raise ValueError(f"{queue.key} is a FIFO queue: emit() needs a group_id (the aggregate)")
    message = OutboxMessage(
        id=uuid.uuid4(), type=type, queue=queue.key, group_id=group_id, payload=payload,
        request_id=correlation.current(),
    )
    db.session.add(message)
    return message.id
