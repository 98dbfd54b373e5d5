"""Locks read fresh rows (database.locked) in this work's lock helpers too: each test loads the row, commits a change
from a second connection, then takes the lock and must see the change."""

from sqlalchemy import text

from tests.factories import fund, make_payout, make_user
from torium_api.actor import AppRole
from torium_api.extensions import db


def _meanwhile(sql: str, **params) -> None:
    with db.engine.connect() as other:
        other.execute(text(sql), params)
        other.commit()


def test_locked_accounts_read_the_balance_committed_meanwhile(app):
    from torium_api.accounts.models import Account
    from torium_api.accounts.services import lock_accounts

    ada = make_user(app, "ada@example.com")
    fund(app, ada, 500)
    with app.app_context():
        loaded = db.session.scalar(db.select(Account).where(Account.user_id == ada))
        _meanwhile("UPDATE accounts SET balance_cents = 0 WHERE user_id = :id", id=ada)
        assert lock_accounts({ada})[ada] is loaded and loaded.balance_cents == 0


def test_lock_user_reads_the_standing_committed_meanwhile(app):
    from torium_api.users.back_office import lock_user
    from torium_api.users.models import User

    ada = make_user(app, "ada@example.com")
    with app.app_context():
        loaded = db.session.get(User, ada)
        _meanwhile("UPDATE users SET deleted_at = now() WHERE id = :id", id=ada)
        assert lock_user(ada) is loaded and loaded.deleted_at is not None


def test_locking_a_payout_reads_the_status_committed_meanwhile(app):
    from torium_api.accounts.models import Payout
    from torium_api.accounts.services import get_payout

    ada = make_user(app, "ada@example.com")
    fund(app, ada, 500)
    payout_id = make_payout(app, ada, 500)
    with app.app_context():
        loaded = db.session.get(Payout, payout_id)
        _meanwhile("UPDATE payouts SET status = 'paid' WHERE id = :id", id=payout_id)
        assert get_payout(payout_id, for_update=True) is loaded and loaded.status.value == "paid"


def test_lock_role_reads_the_revocation_committed_meanwhile(app):
    from torium_api.users.back_office import lock_role, note_roles
    from torium_api.users.models import RoleGrant

    ada = make_user(app, "ada@example.com")
    with app.app_context():
        note_roles(ada, [AppRole.SELLER])
        db.session.commit()
        loaded = db.session.scalar(db.select(RoleGrant).where(RoleGrant.user_id == ada))
        _meanwhile("UPDATE user_roles SET revoked_at = now() WHERE user_id = :id", id=ada)
        assert lock_role(ada, AppRole.SELLER) is loaded and not loaded.granted
