import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from torium_api.extensions import db
from torium_api.orm import TimestampMixin, pg_enum


class EntryKind(enum.StrEnum):
    DEPOSIT = "deposit"  # money entering: the payment provider (or, in development, from nowhere)
    WITHDRAWAL = "withdrawal"  # money leaving: a payout request
    PAYMENT = "payment"  # an order's charge: the buyer's wallet to escrow
    REFUND = "refund"  # an order's money back to the buyer (from escrow, or from its sellers and the platform)
    SETTLEMENT = "settlement"  # escrow releases a completed order's money ...
    SALE = "sale"  # ... to each seller: their lines minus the platform's fee ...
    FEE = "fee"  # ... and to the platform: the fee
    SALE_REVERSAL = "sale_reversal"  # a refund takes a seller's credit back
    FEE_REVERSAL = "fee_reversal"  # and the platform's fee
    SHORTFALL_COVER = "shortfall_cover"  # the platform pays what a seller who already withdrew cannot
    ADJUSTMENT = "adjustment"  # an admin's correction, with a reason (audit log)
    PAYOUT_RETURN = "payout_return"  # a failed payout's money back in the wallet


class AccountKind(enum.StrEnum):
    WALLET = "wallet"  # a user's
    PLATFORM = "platform"  # the platform's fees
    ESCROW = "escrow"  # orders paid and not yet completed: the buyers' money, held


class Account(TimestampMixin, db.Model):
    """One wallet per user, plus the platform's two accounts (no user). The balance is the sum of its ledger and
    never negative."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("balance_cents >= 0", name="balance_not_negative"),
        CheckConstraint("(kind = 'wallet') = (user_id IS NOT NULL)", name="wallets_have_owners"),
        Index("uq_accounts_system_kind", "kind", unique=True, postgresql_where=text("user_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    kind: Mapped[AccountKind] = mapped_column(pg_enum(AccountKind, "account_kind"), server_default="wallet")
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


class PayoutStatus(enum.StrEnum):
    REQUESTED = "requested"  # the money has left the wallet; the bank transfer is the back office's to make
    PAID = "paid"
    FAILED = "failed"  # the money went back to the wallet (ledger kind payout_return)


class Payout(TimestampMixin, db.Model):
    """Money a user takes out of their wallet to their bank: debited at once, then paid or failed by an admin."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_payouts_user_id_id", "user_id", "id"),
        Index("ix_payouts_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PayoutStatus] = mapped_column(pg_enum(PayoutStatus, "payout_status"))
    note: Mapped[str | None] = mapped_column(String(500), comment="the admin's, when paid or failed")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def reference(self) -> str:
        return f"payout:{self.id}"
