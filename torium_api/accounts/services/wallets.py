"""Wallets: the owner's balance, ledger and movements; the admins' view of every wallet and their corrections."""

from flask import current_app

from torium_api.accounts.models import Account, AccountKind, EntryKind, LedgerEntry, Payout, PayoutStatus
from torium_api.accounts.services.ledger import balance_of, find_account_id, move
from torium_api.actor import Actor
from torium_api.errors import Forbidden
from torium_api.extensions import db
from torium_api.paging import CursorPage, keyset_page
from torium_api.users.models import User


def get_account(actor: Actor) -> dict:
    return {"balance_cents": balance_of(actor.id), "currency": current_app.config["CURRENCY"]}


def deposit(actor: Actor, amount_cents: int) -> dict:
    """Money from nowhere: development and the demo only (DEPOSITS_ENABLED). Elsewhere money enters through the
    payment provider's webhook (payments domain)."""
    if not current_app.config["DEPOSITS_ENABLED"]:
        raise Forbidden("Deposits are disabled: money enters through the payment provider")
    entry, account = move(actor.id, amount_cents, EntryKind.DEPOSIT)
    return {"entry": entry, "account": account}


def withdraw(actor: Actor, amount_cents: int) -> dict:
    """A payout request: the money leaves the wallet now (never below zero) and an admin pays it out (or, if the
    transfer fails, returns it)."""
    payout = Payout(user_id=actor.id, amount_cents=amount_cents, currency=current_app.config["CURRENCY"],
                    status=PayoutStatus.REQUESTED)
    db.session.add(payout)
    db.session.flush()
    entry, account = move(actor.id, -amount_cents, EntryKind.WITHDRAWAL, reference=payout.reference)
    return {"entry": entry, "account": account, "payout": payout}


def list_entries(actor: Actor, cursor: str | None = None, limit: int = 20) -> CursorPage:
    """The caller's ledger, newest first, in keyset pages."""
    return _entries(actor.id, cursor, limit)


def _entries(user_id: int, cursor: str | None, limit: int) -> CursorPage:
    query = db.select(LedgerEntry).join(Account).where(Account.user_id == user_id)
    return keyset_page(query, "ledger", cursor, limit, id_column=LedgerEntry.id)


def all_entries(user_id: int) -> list[LedgerEntry]:
    """A user's whole ledger, oldest first (their data export)."""
    return list(db.session.scalars(db.select(LedgerEntry).join(Account).where(Account.user_id == user_id)
                                   .order_by(LedgerEntry.id)))


def ledger_of(actor: Actor, user_id: int, cursor: str | None = None, limit: int = 20) -> CursorPage:
    """Admins: any user's ledger, newest first."""
    actor.require_admin("read another user's ledger")
    return _entries(user_id, cursor, limit)


def user_balance(user_id: int) -> int:
    return balance_of(user_id)


def adjust(actor: Actor, user_id: int, amount_cents: int) -> dict:
    """Admins: correct a balance by a signed amount (its own ledger kind; never below zero). The reason goes to
    the audit log with the action."""
    actor.require_admin("adjust balances")
    entry, account = move(user_id, amount_cents, EntryKind.ADJUSTMENT)
    return {"entry": entry, "account": account}


def platform_accounts() -> dict:
    """The platform's fees and the escrow of orders paid but not completed."""
    return {"fees_cents": balance_of(AccountKind.PLATFORM), "escrow_cents": balance_of(AccountKind.ESCROW),
            "currency": current_app.config["CURRENCY"], "fees_account_id": find_account_id(AccountKind.PLATFORM),
            "escrow_account_id": find_account_id(AccountKind.ESCROW)}


def list_customers(actor: Actor, q: str | None = None, cursor: str | None = None, limit: int = 20) -> CursorPage:
    """Back office: users and their balances, by id, optionally those whose e-mail contains ``q``."""
    actor.require_admin("list customers")
    query = (db.select(User.id, User.email, db.func.coalesce(Account.balance_cents, 0))
             .outerjoin(Account, Account.user_id == User.id))
    if q:
        query = query.where(User.email.icontains(q, autoescape=True))
    page = keyset_page(query, "customers", cursor, limit, id_column=User.id, ascending=True, tuples=True)
    currency = current_app.config["CURRENCY"]
    return CursorPage([{"user_id": i, "email": e, "balance_cents": b, "currency": currency} for i, e, b in page.items],
                      page.next_cursor)
