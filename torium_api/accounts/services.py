"""Wallets. Every movement updates the balance with a guarded UPDATE and writes its ledger entry
in the same transaction, so ``balance == SUM(ledger)`` and the balance is never negative."""

from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from torium_api.accounts.models import Account, EntryKind, LedgerEntry
from torium_api.actor import Actor
from torium_api.errors import Conflict, Forbidden
from torium_api.extensions import db
from torium_api.paging import CursorPage, keyset_page
from torium_api.users.models import User


class InsufficientFunds(Conflict):
    message = "Insufficient funds"


def get_account(actor: Actor) -> dict:
    balance = db.session.scalar(db.select(Account.balance_cents).where(Account.user_id == actor.id))
    return {"balance_cents": balance or 0, "currency": current_app.config["CURRENCY"]}


def move(user_id: int, amount_cents: int, kind: EntryKind, reference: str | None = None) -> tuple[LedgerEntry,
                                                                                                      Account]:
    """Add ``amount_cents`` (negative: take) to the user's balance and record it, or raise InsufficientFunds."""
    db.session.execute(insert(Account).values(user_id=user_id, currency=current_app.config["CURRENCY"])
                       .on_conflict_do_nothing(index_elements=[Account.user_id]))
    balance = db.session.scalar(
        db.update(Account).where(Account.user_id == user_id, Account.balance_cents + amount_cents >= 0)
        .values(balance_cents=Account.balance_cents + amount_cents, updated_at=db.func.now())
        .returning(Account.balance_cents))
    account = db.session.scalar(db.select(Account).where(Account.user_id == user_id))
    if balance is None:
        raise InsufficientFunds(f"Insufficient funds: the balance is {account.balance_cents}, "
                                f"{-amount_cents} was asked for")
    entry = LedgerEntry(account_id=account.id, kind=kind, amount_cents=amount_cents, balance_after_cents=balance,
                        reference=reference)
    db.session.add(entry)
    db.session.flush()
    db.session.refresh(account)
    return entry, account


def deposit(actor: Actor, amount_cents: int) -> dict:
    entry, account = move(actor.id, amount_cents, EntryKind.DEPOSIT)
    return {"entry": entry, "account": account}


def withdraw(actor: Actor, amount_cents: int) -> dict:
    entry, account = move(actor.id, -amount_cents, EntryKind.WITHDRAWAL)
    return {"entry": entry, "account": account}


def list_entries(actor: Actor, cursor: str | None = None, limit: int = 20) -> CursorPage:
    """The caller's ledger, newest first, in keyset pages."""
    query = db.select(LedgerEntry).join(Account).where(Account.user_id == actor.id)
    return keyset_page(query, "ledger", cursor, limit, id_column=LedgerEntry.id)


def list_customers(actor: Actor, q: str | None = None, cursor: str | None = None, limit: int = 20) -> CursorPage:
    """Back office: users and their balances, by id, optionally those whose e-mail contains ``q``."""
    if not actor.is_admin:
        raise Forbidden("Only admins can list customers")
    query = (db.select(User.id, User.email, db.func.coalesce(Account.balance_cents, 0))
             .outerjoin(Account, Account.user_id == User.id))
    if q:
        query = query.where(User.email.icontains(q, autoescape=True))
    page = keyset_page(query, "customers", cursor, limit, id_column=User.id, ascending=True, tuples=True)
    currency = current_app.config["CURRENCY"]
    return CursorPage([{"user_id": i, "email": e, "balance_cents": b, "currency": currency} for i, e, b in page.items],
                      page.next_cursor)
