import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.extensions import db


class OutboxMessage(db.Model):
    """A message written in the business transaction and published to SQS by the relay."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_pending", "available_at", postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(50))
    group_id: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def envelope(self) -> dict:
        return {"id": str(self.id), "type": self.type, "occurred_at": self.occurred_at.isoformat(),
                "payload": self.payload}


class ProcessedMessage(db.Model):
    """Consumer idempotency: a message id is inserted in the same transaction as its effects."""

    __tablename__ = "processed_messages"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
