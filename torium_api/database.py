"""Sessions and the one way to commit: ``transaction()``."""

from contextlib import contextmanager

from torium_api.errors import DomainError
from torium_api.extensions import db


@contextmanager
def transaction():
    """Commit the session when the block succeeds, roll it back when it raises.

    Adapters (views, the worker, CLI commands) own the transaction; services never commit. A
    ``DomainError`` whose ``commit_anyway`` is true still commits what the service wrote before raising
    (a failed verification attempt is counted).

    A ``transaction()`` opened inside another joins it and the outer one commits. One adapter needs that:
    the ``Idempotency-Key`` wrapper (``idempotency.py``) claims its key in a transaction around the view,
    whose own ``transaction()`` must commit together with the claim, not before it.
    """
    depth = db.session.info.get("transaction_depth", 0)
    db.session.info["transaction_depth"] = depth + 1
    try:
        if depth:
            yield db.session
            return
        try:
            yield db.session
        except DomainError as exc:
            if exc.commit_anyway:
                db.session.commit()
            else:
                db.session.rollback()
            raise
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
    finally:
        db.session.info["transaction_depth"] = depth


def locked(statement, *, of=None, skip_locked: bool = False):
    """``statement`` as ``SELECT … FOR UPDATE`` whose rows replace what the session already holds.

    A session keeps the attributes it loaded; without ``populate_existing`` a row loaded before the lock keeps
    its old values after it, and a decision taken under the lock (refund? restock?) would use them."""
    return statement.with_for_update(of=of, skip_locked=skip_locked).execution_options(populate_existing=True)
