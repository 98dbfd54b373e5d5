"""Payouts: a wallet owner takes money out (``wallets.withdraw``); an admin follows it and records the outcome.

requested → paid (the bank transfer went out) | failed (it did not: the money returns to the wallet, ledger kind
``payout_return``). Only a requested payout can be decided, once, under its row lock.
"""

from torium_api import clock
from torium_api.accounts.models import EntryKind, Payout, PayoutStatus
from torium_api.accounts.services.ledger import move
from torium_api.actor import Actor
from torium_api.database import locked
from torium_api.errors import Conflict, NotFound
from torium_api.extensions import db
from torium_api.paging import CursorPage, keyset_page


def my_payouts(actor: Actor, cursor: str | None = None, limit: int = 20) -> CursorPage:
    return keyset_page(db.select(Payout).where(Payout.user_id == actor.id), "payouts", cursor, limit,
                       id_column=Payout.id)


def all_payouts(user_id: int) -> list[Payout]:
    return list(db.session.scalars(db.select(Payout).where(Payout.user_id == user_id).order_by(Payout.id)))


def list_payouts(actor: Actor, *, status: PayoutStatus | None = None, user_id: int | None = None,
                 cursor: str | None = None, limit: int = 20) -> CursorPage:
    """Admins: every payout, newest first (filter by status, user)."""
    actor.require_admin("list payouts")
    query = db.select(Payout)
    if status is not None:
        query = query.where(Payout.status == status)
    if user_id is not None:
        query = query.where(Payout.user_id == user_id)
    return keyset_page(query, "all-payouts", cursor, limit, id_column=Payout.id)


def get_payout(payout_id: int, *, for_update: bool = False) -> Payout:
    query = db.select(Payout).where(Payout.id == payout_id)
    payout = db.session.scalar(locked(query) if for_update else query)
    if payout is None:
        raise NotFound("Payout not found")
    return payout


def decide_payout(actor: Actor, payout_id: int, status: PayoutStatus, note: str) -> Payout:
    """Admins: a requested payout was paid, or failed (its money goes back to the wallet in this transaction)."""
    actor.require_admin("decide payouts")
    payout = get_payout(payout_id, for_update=True)
    if payout.status is not PayoutStatus.REQUESTED:
        raise Conflict(f"This payout is already {payout.status.value}")
    if status is PayoutStatus.FAILED:
        move(payout.user_id, payout.amount_cents, EntryKind.PAYOUT_RETURN, reference=payout.reference)
    elif status is not PayoutStatus.PAID:
        raise Conflict("A payout can only become paid or failed")
    payout.status, payout.note, payout.decided_at = status, note, clock.now()
    return payout
