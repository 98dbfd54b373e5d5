"""Moving money: every balance changes by a guarded UPDATE (never below zero) and gets its ledger entry in the same
transaction, so ``balance == SUM(ledger)`` for every account, the platform's included.

An account is named by its owner: a user id (their wallet) or ``AccountKind.PLATFORM`` / ``AccountKind.ESCROW``.
A movement of several accounts (``transfer``) sums to zero, so money is neither made nor lost, and locks its
accounts first, in ascending id order: every such movement takes its locks in that one order (after the order's row,
which its callers lock first), so two of them never wait on each other in a circle.
"""

from flask import current_app
from sqlalchemy import or_
from sqlalchemy.dialects.postgresql import insert

from torium_api.accounts.models import Account, AccountKind, EntryKind, LedgerEntry
from torium_api.database import locked
from torium_api.errors import Conflict
from torium_api.extensions import db

Owner = int | AccountKind  # a user's wallet, or one of the platform's accounts
SYSTEM = (AccountKind.PLATFORM, AccountKind.ESCROW)


class InsufficientFunds(Conflict):
    message = "Insufficient funds"

    def __init__(self, message: str | None = None, *, owner: Owner | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.owner = owner


def _ensure(owners: set[Owner]) -> None:
    currency = current_app.config["CURRENCY"]
    users = sorted(o for o in owners if not isinstance(o, AccountKind))
    if users:
        db.session.execute(insert(Account).values([{"user_id": u, "currency": currency} for u in users])
                           .on_conflict_do_nothing(index_elements=[Account.user_id]))
    for kind in sorted(o for o in owners if isinstance(o, AccountKind)):
        db.session.execute(insert(Account).values(kind=kind, currency=currency).on_conflict_do_nothing(
            index_elements=[Account.kind], index_where=Account.user_id.is_(None)))


def owner_of(account: Account) -> Owner:
    return account.kind if account.user_id is None else account.user_id


def lock_accounts(owners) -> dict[Owner, Account]:
    """The owners' accounts (created when missing), locked in ascending id order and read fresh."""
    owners = set(owners)
    _ensure(owners)
    users = [o for o in owners if not isinstance(o, AccountKind)]
    kinds = [o for o in owners if isinstance(o, AccountKind)]
    query = db.select(Account).where(or_(Account.user_id.in_(users),
                                         Account.user_id.is_(None) & Account.kind.in_(kinds))).order_by(Account.id)
    return {owner_of(account): account for account in db.session.scalars(locked(query))}


def apply(account: Account, amount_cents: int, kind: EntryKind, reference: str | None) -> LedgerEntry:
    """Change one balance (guarded: never below zero) and record it."""
    balance = db.session.scalar(
        db.update(Account).where(Account.id == account.id, Account.balance_cents + amount_cents >= 0)
        .values(balance_cents=Account.balance_cents + amount_cents, updated_at=db.func.now())
        .returning(Account.balance_cents))
    if balance is None:
        db.session.refresh(account)
        raise InsufficientFunds(f"Insufficient funds: the balance is {account.balance_cents}, "
                                f"{-amount_cents} was asked for", owner=owner_of(account))
    entry = LedgerEntry(account_id=account.id, kind=kind, amount_cents=amount_cents, balance_after_cents=balance,
                        reference=reference)
    db.session.add(entry)
    return entry


def transfer(legs: list[tuple[Owner, int, EntryKind]], reference: str,
             accounts: dict[Owner, Account] | None = None) -> list[LedgerEntry]:
    """Apply ``legs`` (owner, signed amount, kind) together. They must sum to zero; zero legs are skipped.

    ``accounts``: the accounts the caller already locked (``lock_accounts``), to decide on their balances first."""
    legs = [leg for leg in legs if leg[1] != 0]
    if sum(amount for _, amount, _ in legs) != 0:
        raise ValueError(f"a transfer must sum to zero: {legs}")
    accounts = accounts or lock_accounts(owner for owner, _, _ in legs)
    # Credits before debits on one account: a buyer who is also a line's seller gets the refund before the reversal.
    entries = [apply(accounts[owner], amount, kind, reference)
               for owner, amount, kind in sorted(legs, key=lambda leg: (accounts[leg[0]].id, -leg[1]))]
    db.session.flush()
    return entries


def move(user_id: int, amount_cents: int, kind: EntryKind, reference: str | None = None) -> tuple[LedgerEntry,
                                                                                                      Account]:
    """Money entering or leaving the platform through one wallet (deposit, payout, its return, an adjustment):
    add ``amount_cents`` (negative: take) to the user's balance and record it, or raise InsufficientFunds."""
    account = lock_accounts({user_id})[user_id]
    entry = apply(account, amount_cents, kind, reference)
    db.session.flush()
    db.session.refresh(account)
    return entry, account


def find_account_id(owner: Owner) -> int | None:
    where = (Account.user_id == owner) if not isinstance(owner, AccountKind) else \
        (Account.user_id.is_(None) & (Account.kind == owner))
    return db.session.scalar(db.select(Account.id).where(where))


def balance_of(owner: Owner) -> int:
    where = (Account.user_id == owner) if not isinstance(owner, AccountKind) else \
        (Account.user_id.is_(None) & (Account.kind == owner))
    return db.session.scalar(db.select(Account.balance_cents).where(where)) or 0
