import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from torium_api.extensions import db
from torium_api.orm import TimestampMixin, pg_enum


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    PAID = "paid"
    COMPLETED = "completed"
    RECEIVED = "received"
    NOT_RECEIVED = "not_received"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"  # after completion, by an admin: the sellers' credits and the fee went back to the buyer


IN_PROGRESS = (OrderStatus.PENDING, OrderStatus.RESERVED, OrderStatus.PAID)
DELIVERED = (OrderStatus.COMPLETED, OrderStatus.RECEIVED, OrderStatus.NOT_RECEIVED)  # settled: sellers were paid
MAX_QUANTITY = 1000  # per product in one order
MAX_LINES = 50


class FailureReason(enum.StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    FULFILMENT_TIMEOUT = "fulfilment_timeout"
    PROCESSING_ERROR = "processing_error"


class Order(TimestampMixin, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_cents > 0", name="total_positive"),
        Index("ix_orders_user_id_id", "user_id", "id"),
        Index("ix_orders_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(pg_enum(OrderStatus, "order_status"))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    shipping_address: Mapped[dict] = mapped_column(JSONB)
    failure_reason: Mapped[FailureReason | None] = mapped_column(pg_enum(FailureReason, "order_failure_reason"))
    failure_detail: Mapped[dict | None] = mapped_column(JSONB)
    retries: Mapped[int] = mapped_column(Integer, server_default="0")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when escrow paid the sellers and the fee (NULL: completed before payouts)")
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list["OrderLine"]] = relationship(order_by="OrderLine.product_id", lazy="selectin",
                                                    cascade="all, delete-orphan")
    shipment: Mapped["Shipment | None"] = relationship(lazy="selectin")

    @property
    def topic(self) -> str:
        return f"order:{self.id}"


class OrderLine(db.Model):
    """A line priced by the server from the catalogue at the moment of ordering."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_cents > 0", name="unit_price_positive"),
        CheckConstraint("fee_cents >= 0 AND fee_cents <= unit_price_cents * quantity", name="fee_within_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    product_name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True,
                                           comment="the product's seller when it was ordered: who is paid")
    fee_cents: Mapped[int] = mapped_column(BigInteger, server_default="0",
                                           comment="the platform's share, fixed when ordered (PLATFORM_FEE_BPS)")

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def net_cents(self) -> int:
        """What the seller is paid for the line."""
        return self.total_cents - self.fee_cents


class Shipment(db.Model):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    tracking_number: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
