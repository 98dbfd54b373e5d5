import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.extensions import db
from torium_api.orm import pg_enum


class DeliveryStatus(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


class NotificationDelivery(db.Model):
    """One attempt to reach one user on one channel: who, what, how, outcome, when."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_topic", "topic", postgresql_ops={"topic": "text_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str | None] = mapped_column(String(10))
    recipient: Mapped[str | None] = mapped_column(String(1024))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(pg_enum(DeliveryStatus, "delivery_status"))
    detail: Mapped[str | None] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(100), comment="what it was about, e.g. group:1/event:2")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
