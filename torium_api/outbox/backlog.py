"""How far behind the relay is: unsent outbox rows and the age of the oldest, by the database's clock."""

from dataclasses import dataclass

from sqlalchemy import func, select

from torium_api.extensions import db
from torium_api.outbox.models import OutboxMessage


@dataclass(frozen=True)
class Backlog:
    unsent: int
    oldest_age_seconds: float  # 0 when nothing waits
    max_attempts: int


def measure() -> Backlog:
    """One aggregate over the unsent rows (the partial index ``ix_outbox_messages_pending`` covers them)."""
    unsent, age, attempts = db.session.execute(
        select(func.count(), func.extract("epoch", func.now() - func.min(OutboxMessage.occurred_at)),
               func.max(OutboxMessage.attempts))
        .where(OutboxMessage.sent_at.is_(None))
    ).one()
    return Backlog(unsent=unsent, oldest_age_seconds=max(float(age or 0), 0.0), max_attempts=attempts or 0)


def oldest_error() -> str | None:
    """The last error of the oldest unsent row that failed to publish (what the operator looks at first)."""
    return db.session.scalar(
        select(OutboxMessage.last_error)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.occurred_at).limit(1)
    )
