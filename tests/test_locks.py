"""Locks read fresh rows: every helper that locks a row decides on its committed values, even when the session
loaded the row before. Each test loads the row, commits a change from a second connection, then takes the lock."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.factories import actor, fund, make_event, make_group, make_order, make_product, make_user
from torium_api import clock
from torium_api.actor import AppRole
from torium_api.errors import Conflict
from torium_api.extensions import db


def _meanwhile(sql: str, **params) -> None:
    """Another transaction (another request, a worker) commits this while ours holds its old copy (call it inside
    the test's app context: a nested one would hand the test a new session and hide the bug)."""
    with db.engine.connect() as other:
        other.execute(text(sql), params)
        other.commit()


@pytest.fixture
def ada(app):
    return make_user(app, "ada@example.com")


def test_lock_order_reads_the_status_committed_meanwhile(app, ada):
    from torium_api.orders.models import Order
    from torium_api.orders.services.transitions import lock_order

    order_id = make_order(app, ada, make_product(app, ada), status="paid")
    with app.app_context():
        loaded = db.session.get(Order, order_id)  # the session holds it (as a request that read it first does)
        assert loaded.status.value == "paid"
        _meanwhile("UPDATE orders SET status = 'completed' WHERE id = :id", id=order_id)
        assert lock_order(order_id) is loaded and loaded.status.value == "completed"


def test_cancelling_an_order_completed_meanwhile_refunds_nothing(app, ada):
    """The reported bug: cancel_order loaded the order, locked it, and decided on the old status."""
    from torium_api.accounts.models import Account
    from torium_api.orders import services
    from torium_api.orders.models import Order

    fund(app, ada, 10_000)
    order_id = make_order(app, ada, make_product(app, ada, stock=5), status="paid")
    with app.app_context():
        loaded = db.session.get(Order, order_id)  # as the request did before it locked  # noqa: F841
        _meanwhile("UPDATE orders SET status = 'completed' WHERE id = :id", id=order_id)
        with pytest.raises(Conflict, match="completed order cannot be cancelled"):
            services.cancel_order(actor(ada), order_id)
        db.session.rollback()
        assert db.session.scalar(db.select(Account.balance_cents).where(Account.user_id == ada)) == 10_000


def test_lock_event_reads_the_time_committed_meanwhile(app, ada):
    from torium_api.events.models import Event
    from torium_api.events.services.events import lock_event

    event_id = make_event(app, make_group(app, ada), ada)
    later = clock.now() + timedelta(days=400)
    with app.app_context():
        loaded = db.session.get(Event, event_id)
        _meanwhile("UPDATE events SET starts_at = :at WHERE id = :id", at=later, id=event_id)
        assert lock_event(event_id) is loaded and loaded.starts_at == later


def test_lock_group_reads_the_name_committed_meanwhile(app, ada):
    from torium_api.groups.models import Group
    from torium_api.groups.services import lock_group

    group_id = make_group(app, ada, name="Old")
    with app.app_context():
        loaded = db.session.get(Group, group_id)
        assert loaded.name == "Old"
        _meanwhile("UPDATE groups SET name = 'New' WHERE id = :id", id=group_id)
        assert lock_group(group_id) is loaded and loaded.name == "New"


def test_locking_a_product_reads_the_version_committed_meanwhile(app, ada):
    from torium_api.products import services
    from torium_api.products.models import Product

    product_id = make_product(app, ada)
    with app.app_context():
        loaded = db.session.get(Product, product_id)
        _meanwhile("UPDATE products SET version = 7 WHERE id = :id", id=product_id)
        seller = actor(ada, AppRole.SELLER)
        assert services.get_product(seller, product_id, for_update=True) is loaded and loaded.version == 7


def test_confirming_a_code_reads_the_attempts_committed_meanwhile(app, ada):
    from torium_api.users import services
    from torium_api.users.models import MobileVerification
    from torium_api.users.services import WrongCode, _hash_code

    with app.app_context():
        verification = MobileVerification(user_id=ada, mobile_number="+48123456789", code_salt="s",
                                          code_hash=_hash_code("s", "111111"),
                                          expires_at=clock.now() + timedelta(minutes=5))
        db.session.add(verification)
        db.session.commit()
        assert verification.attempts == 0  # the session holds this copy
        _meanwhile("UPDATE mobile_verifications SET attempts = :n WHERE id = :id",
                   n=app.config["MOBILE_CODE_MAX_ATTEMPTS"], id=verification.id)
        with pytest.raises(WrongCode):  # out of attempts now, even with the right code
            services.confirm_mobile(actor(ada), "111111")
