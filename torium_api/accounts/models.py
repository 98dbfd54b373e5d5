import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.extensions import db
from torium_api.orm import TimestampMixin, pg_enum


class EntryKind(enum.StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    PAYMENT = "payment"
    REFUND = "refund"


class Account(TimestampMixin, db.Model):
    """One wallet per user. The balance is the sum of its ledger and never negative."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance_cents >= 0", name="balance_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")


class LedgerEntry(db.Model):
    """An immutable movement of money; written in the same transaction as the balance change."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after_cents >= 0", name="balance_after_not_negative"),
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
        Index("uq_ledger_entries_reference", "account_id", "kind", "reference", unique=True,
              postgresql_where="reference IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    kind: Mapped[EntryKind] = mapped_column(pg_enum(EntryKind, "ledger_entry_kind"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    balance_after_cents: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(100), comment="e.g. order:42 (one payment per order)")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
