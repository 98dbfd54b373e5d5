"""Order administration and where the money goes: escrow on payment, sellers and the platform paid on completion,
returned on cancellation, taken back on refund; exact to the minor unit."""

import pytest
from sqlalchemy import func, select

from tests.factories import (
    completed_order,
    data_of,
    make_order,
    make_payout,
    make_product,
    place_order,
    run_background,
    table_counts,
)
from torium_api.accounts.models import Account, AccountKind, LedgerEntry
from torium_api.audit import AuditEntry
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.orders import services as orders
from torium_api.orders.models import OrderStatus
from torium_api.orders.services import platform_fee

WHY = {"reason": "customer called"}


def _balance(app, owner) -> int:
    with app.app_context():
        where = Account.kind == owner if isinstance(owner, AccountKind) else Account.user_id == owner
        return db.session.scalar(select(Account.balance_cents).where(where)) or 0


def _order_entries(app, order_id) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(Account.kind, Account.user_id, LedgerEntry.kind, LedgerEntry.amount_cents)
                                  .join(Account).where(LedgerEntry.reference == f"order:{order_id}")
                                  .order_by(LedgerEntry.id)).all()


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


@pytest.mark.parametrize("amount, bps, fee", [(5, 1000, 1), (4, 1000, 0), (15, 1000, 2), (25, 1000, 3), (1, 0, 0),
                                              (1, 10_000, 1), (5997, 1000, 600), (9999, 333, 333),
                                              (10**10 * 1000, 1000, 10**12)])
def test_the_fee_is_rounded_half_up_to_a_whole_minor_unit(amount, bps, fee):
    assert platform_fee(amount, bps) == fee


def test_completion_pays_the_seller_and_the_platform_from_escrow(app, client, shop):
    order = completed_order(app, client, shop.buyer[1], (shop.wax, 3), (shop.helmet, 1))
    fee = 600 + 3000  # 10 % of 5,997 (599.7, rounded half up) and of 30,000
    assert _balance(app, shop.buyer[0]) == 100_000 - 35_997
    assert _balance(app, shop.seller[0]) == 35_997 - fee
    assert _balance(app, AccountKind.PLATFORM) == fee and _balance(app, AccountKind.ESCROW) == 0
    entries = _order_entries(app, order["id"])
    assert sorted((a.value, k.value, n) for a, _, k, n in entries) == sorted([
        ("wallet", "payment", -35_997), ("escrow", "payment", 35_997),
        ("escrow", "settlement", -35_997), ("platform", "fee", fee), ("wallet", "sale", 35_997 - fee)])
    assert sum(n for *_, n in entries) == 0
    sales = data_of(client.get("/sellers/me/sales", headers=shop.seller[1]))["items"]
    assert [(s["order_id"], s["gross_cents"], s["fee_cents"], s["net_cents"]) for s in sales] == [
        (order["id"], 35_997, fee, 35_997 - fee)]


def test_the_fee_is_the_one_in_force_when_the_order_was_placed(app, client, shop, monkeypatch):
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BPS", 333)
    order = place_order(client, shop.buyer[1], (shop.wax, 1))  # 3.33 % of 1,999 = 66.57 → 67
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BPS", 5000)
    run_background(app)
    assert _balance(app, AccountKind.PLATFORM) == 67 and _balance(app, shop.seller[0]) == 1999 - 67
    data_of(client.post(f"/admin/orders/{order['id']}/refund", headers=shop.admin[1], json=WHY))
    assert _balance(app, AccountKind.PLATFORM) == 0 and _balance(app, shop.seller[0]) == 0
    assert _balance(app, shop.buyer[0]) == 100_000


def test_each_seller_of_an_order_is_paid_their_own_lines(app, client, tokens, shop):
    second_id, _ = tokens.user("second@shop.example", groups=["seller"])
    skis = make_product(app, second_id, name="Skis", price_cents=50_000, stock=2)
    order = completed_order(app, client, shop.buyer[1], (shop.wax, 1), (skis, 1))
    assert _balance(app, shop.seller[0]) == 1999 - 200 and _balance(app, second_id) == 50_000 - 5000
    assert _balance(app, AccountKind.PLATFORM) == 5200
    assert sum(n for *_, n in _order_entries(app, order["id"])) == 0


def test_cancelling_a_paid_order_returns_the_money_from_escrow(app, client, shop):
    order = place_order(client, shop.buyer[1], (shop.helmet, 2))
    with app.app_context(), transaction():
        orders.reserve_stock(order["id"])
    with app.app_context(), transaction():
        orders.charge(order["id"])
    assert _balance(app, AccountKind.ESCROW) == 60_000 and _balance(app, shop.buyer[0]) == 40_000
    cancelled = data_of(client.post(f"/admin/orders/{order['id']}/cancel", headers=shop.admin[1], json=WHY))
    assert cancelled["status"] == "cancelled"
    assert _balance(app, AccountKind.ESCROW) == 0 and _balance(app, shop.buyer[0]) == 100_000
    [entry] = _audit(app, "orders.cancel")
    assert (entry.actor_id, entry.target_id, entry.reason) == (shop.admin[0], order["id"], "customer called")
    assert (entry.before["status"], entry.after["status"]) == ("paid", "cancelled")
    run_background(app)  # the saga's next step finds it cancelled: nothing settles
    assert _balance(app, shop.seller[0]) == 0


def test_only_orders_in_progress_can_be_cancelled_and_only_delivered_ones_refunded(app, client, shop):
    done = completed_order(app, client, shop.buyer[1], (shop.wax, 1))
    pending = place_order(client, shop.buyer[1], (shop.wax, 1))
    before = table_counts(app)
    response = client.post(f"/admin/orders/{done['id']}/cancel", headers=shop.admin[1], json=WHY)
    assert response.status_code == 409 and "refund it instead" in response.get_json()["status"]["message"]
    response = client.post(f"/admin/orders/{pending['id']}/refund", headers=shop.admin[1], json=WHY)
    assert response.status_code == 409 and "cancel it instead" in response.get_json()["status"]["message"]
    assert client.post("/admin/orders/99999/refund", headers=shop.admin[1], json=WHY).status_code == 404
    assert table_counts(app) == before


def test_a_refund_takes_the_sellers_credit_and_the_fee_back(app, client, shop):
    order = completed_order(app, client, shop.buyer[1], (shop.wax, 3), (shop.helmet, 1))
    refund = data_of(client.post(f"/admin/orders/{order['id']}/refund", headers=shop.admin[1], json=WHY))
    assert refund["order"]["status"] == "refunded" and refund["order"]["refunded_at"]
    assert (refund["refunded_cents"], refund["fee_reversed_cents"], refund["shortfall_covered_cents"]) == \
        (35_997, 3600, 0)
    assert refund["sellers"] == [{"seller_id": shop.seller[0], "reversed_cents": 32_397, "shortfall_cents": 0}]
    assert _balance(app, shop.buyer[0]) == 100_000
    assert _balance(app, shop.seller[0]) == _balance(app, AccountKind.PLATFORM) == 0
    assert sum(n for *_, n in _order_entries(app, order["id"])) == 0
    [entry] = _audit(app, "orders.refund")
    assert entry.before["status"] == "completed" and entry.after["status"] == "refunded"
    assert client.post(f"/admin/orders/{order['id']}/refund", headers=shop.admin[1], json=WHY).status_code == 409


def test_a_retried_refund_with_its_idempotency_key_replays_the_first(app, client, shop):
    order = completed_order(app, client, shop.buyer[1], (shop.wax, 1))
    headers = {**shop.admin[1], "Idempotency-Key": "refund-1"}
    first = client.post(f"/admin/orders/{order['id']}/refund", headers=headers, json=WHY)
    again = client.post(f"/admin/orders/{order['id']}/refund", headers=headers, json=WHY)
    assert first.status_code == again.status_code == 200 and first.get_data() == again.get_data()
    assert again.headers["Idempotent-Replayed"] == "true" and len(_audit(app, "orders.refund")) == 1
    assert _balance(app, shop.buyer[0]) == 100_000


def test_a_seller_who_already_withdrew_blocks_the_refund_unless_the_platform_covers_it(app, client, shop):
    first = completed_order(app, client, shop.buyer[1], (shop.helmet, 1))  # seller +27,000, platform +3,000
    completed_order(app, client, shop.buyer[1], (shop.helmet, 1))  # again: the seller holds 54,000, the platform 6,000
    make_payout(app, shop.seller[0], 28_000)  # the seller keeps 26,000 of the 27,000 a refund takes back
    url = f"/admin/orders/{first['id']}/refund"
    before = table_counts(app)
    refused = client.post(url, headers=shop.admin[1], json=WHY)
    assert refused.status_code == 409
    assert refused.get_json()["errors"]["cover_shortfall"][0] == \
        f"Seller {shop.seller[0]} holds 26000 of the 27000 to take back."
    assert table_counts(app) == before
    covered = data_of(client.post(url, headers=shop.admin[1], json={**WHY, "cover_shortfall": True}))
    assert covered["sellers"] == [{"seller_id": shop.seller[0], "reversed_cents": 26_000, "shortfall_cents": 1000}]
    assert (covered["refunded_cents"], covered["fee_reversed_cents"], covered["shortfall_covered_cents"]) == \
        (30_000, 3000, 1000)
    assert _balance(app, shop.seller[0]) == 0 and _balance(app, AccountKind.PLATFORM) == 6000 - 3000 - 1000
    assert _balance(app, shop.buyer[0]) == 100_000 - 30_000
    kinds = {(a.value, k.value): n for a, _, k, n in _order_entries(app, first["id"])}
    assert kinds[("platform", "shortfall_cover")] == -1000 and kinds[("wallet", "sale_reversal")] == -26_000
    assert sum(n for *_, n in _order_entries(app, first["id"])) == 0


def test_the_platform_cannot_cover_more_than_it_holds(app, client, shop):
    first = completed_order(app, client, shop.buyer[1], (shop.helmet, 1))
    make_payout(app, shop.seller[0], 27_000)
    before = table_counts(app)
    response = client.post(f"/admin/orders/{first['id']}/refund", headers=shop.admin[1],
                           json={**WHY, "cover_shortfall": True})
    assert response.status_code == 409 and "platform account cannot cover" in response.get_json()["status"]["message"]
    assert table_counts(app) == before


def test_not_received_orders_are_refunded_or_closed_as_delivered(app, client, shop):
    lost = make_order(app, shop.buyer[0], shop.wax, status="not_received")
    found = make_order(app, shop.buyer[0], shop.wax, status="not_received")
    delivered = data_of(client.post(f"/admin/orders/{found}/resolve", headers=shop.admin[1],
                                    json={"resolution": "delivered", **WHY}))
    assert delivered["order"]["status"] == "received" and delivered["refund"] is None
    refund = {"resolution": "refund", **WHY}
    response = client.post(f"/admin/orders/{found}/resolve", headers=shop.admin[1], json=refund)
    assert response.status_code == 409  # resolved already
    response = client.post(f"/admin/orders/{lost}/resolve", headers=shop.admin[1], json=refund)
    assert response.status_code == 409 and "before sellers were paid" in response.get_json()["status"]["message"]
    assert [e.after["resolution"] for e in _audit(app, "orders.resolve")] == ["delivered"]


def test_a_not_received_order_is_refunded_in_full(app, client, shop):
    order = completed_order(app, client, shop.buyer[1], (shop.wax, 2))
    with app.app_context(), transaction():
        orders.lock_order(order["id"]).status = OrderStatus.NOT_RECEIVED  # nobody confirmed it in time
    resolved = data_of(client.post(f"/admin/orders/{order['id']}/resolve", headers=shop.admin[1],
                                   json={"resolution": "refund", **WHY}))
    assert resolved["order"]["status"] == "refunded" and resolved["refund"]["refunded_cents"] == 3998
    assert _balance(app, shop.buyer[0]) == 100_000 and _balance(app, shop.seller[0]) == 0


def test_every_order_moves_exactly_as_much_as_it_takes(app, client, shop):
    for quantity in range(1, 6):
        completed_order(app, client, shop.buyer[1], (shop.wax, quantity))
    with app.app_context():
        per_order = db.session.execute(select(LedgerEntry.reference, func.sum(LedgerEntry.amount_cents))
                                       .group_by(LedgerEntry.reference)
                                       .where(LedgerEntry.reference.like("order:%"))).all()
    assert len(per_order) == 5 and all(total == 0 for _, total in per_order)
