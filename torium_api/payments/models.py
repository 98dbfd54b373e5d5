from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.extensions import db


class PaymentEvent(db.Model):
    """One event the payment provider reported, once: its id is unique, so a redelivery changes nothing."""

    __tablename__ = "payment_events"
    __table_args__ = (CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    credited: Mapped[bool] = mapped_column(Boolean, comment="a wallet was credited (payment.succeeded)")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def reference(self) -> str:
        return f"payment:{self.id}"
