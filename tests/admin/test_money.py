"""A user's ledger, balance corrections, payouts (requested → paid | failed), the platform's accounts, a seller's
totals."""

from datetime import UTC, datetime

from sqlalchemy import select, update

from tests.factories import completed_order, data_of, fund, table_counts
from torium_api import clock
from torium_api.accounts.models import Account, AccountKind
from torium_api.audit import AuditEntry
from torium_api.extensions import db
from torium_api.orders.models import Order

WHY = {"reason": "goodwill after a late delivery"}


def _balance(app, user_id) -> int:
    with app.app_context():
        return db.session.scalar(select(Account.balance_cents).where(Account.user_id == user_id)) or 0


def test_admins_read_any_users_ledger_newest_first(app, client, shop):
    fund(app, shop.buyer[0], 1)
    ledger = data_of(client.get(f"/admin/users/{shop.buyer[0]}/ledger?limit=1", headers=shop.admin[1]))
    assert [(e["kind"], e["amount_cents"]) for e in ledger["items"]] == [("deposit", 1)] and ledger["next_cursor"]
    assert client.get("/admin/users/99999/ledger", headers=shop.admin[1]).status_code == 404


def test_an_adjustment_corrects_a_balance_with_its_own_kind_and_a_reason(app, client, shop):
    url = f"/admin/users/{shop.buyer[0]}/adjustments"
    up = data_of(client.post(url, headers=shop.admin[1], json={"amount_cents": 2_500, **WHY}), 201)
    assert (up["entry"]["kind"], up["entry"]["amount_cents"], up["account"]["balance_cents"]) == \
        ("adjustment", 2_500, 102_500)
    down = data_of(client.post(url, headers=shop.admin[1], json={"amount_cents": -102_500, **WHY}), 201)
    assert down["account"]["balance_cents"] == 0
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.before, e.after["balance_cents"], e.reason) for e in entries] == [
            ("accounts.adjust", {"balance_cents": 100_000}, 102_500, WHY["reason"]),
            ("accounts.adjust", {"balance_cents": 102_500}, 0, WHY["reason"])]


def test_an_adjustment_never_takes_a_balance_below_zero_and_bad_ones_change_nothing(app, client, shop):
    url = f"/admin/users/{shop.buyer[0]}/adjustments"
    before = table_counts(app)
    response = client.post(url, headers=shop.admin[1], json={"amount_cents": -100_001, **WHY})
    assert response.status_code == 409
    for body in ({"amount_cents": 0, **WHY}, {"amount_cents": 1.5, **WHY}, {"amount_cents": "5", **WHY},
                 {"amount_cents": 10**9, **WHY}, {"amount_cents": 5}, {"amount_cents": 5, "reason": "x"}):
        assert client.post(url, headers=shop.admin[1], json=body).status_code == 422, body
    assert client.post("/admin/users/99999/adjustments", headers=shop.admin[1],
                       json={"amount_cents": 5, **WHY}).status_code == 404
    assert table_counts(app) == before and _balance(app, shop.buyer[0]) == 100_000


def test_a_retried_adjustment_with_its_key_happens_once(app, client, shop):
    headers = {**shop.admin[1], "Idempotency-Key": "adj-7"}
    url = f"/admin/users/{shop.buyer[0]}/adjustments"
    responses = [client.post(url, headers=headers, json={"amount_cents": 700, **WHY}) for _ in range(3)]
    assert {r.status_code for r in responses} == {201} and len({r.get_data() for r in responses}) == 1
    assert _balance(app, shop.buyer[0]) == 100_700
    assert client.post(url, headers=headers, json={"amount_cents": 800, **WHY}).status_code == 422


def test_a_withdrawal_is_a_payout_an_admin_pays(app, client, shop):
    withdrawal = data_of(client.post("/accounts/me/withdrawals", headers=shop.buyer[1], json={"amount_cents": 4_000}),
                         201)
    payout = withdrawal["payout"]
    assert (payout["status"], payout["amount_cents"], withdrawal["entry"]["reference"]) == \
        ("requested", 4_000, f"payout:{payout['id']}")
    mine = data_of(client.get("/accounts/me/payouts", headers=shop.buyer[1]))["items"]
    assert [p["id"] for p in mine] == [payout["id"]]
    listed = data_of(client.get(f"/admin/payouts?status=requested&user_id={shop.buyer[0]}", headers=shop.admin[1]))
    assert [p["id"] for p in listed["items"]] == [payout["id"]]
    paid = data_of(client.patch(f"/admin/payouts/{payout['id']}", headers=shop.admin[1],
                                json={"status": "paid", "reason": "bank transfer 2026-11-30"}))
    assert (paid["status"], paid["note"]) == ("paid", "bank transfer 2026-11-30") and paid["decided_at"]
    assert _balance(app, shop.buyer[0]) == 96_000
    again = client.patch(f"/admin/payouts/{payout['id']}", headers=shop.admin[1], json={"status": "failed", **WHY})
    assert again.status_code == 409 and _balance(app, shop.buyer[0]) == 96_000


def test_a_failed_payout_returns_the_money_to_the_wallet(app, client, shop):
    payout = data_of(client.post("/accounts/me/withdrawals", headers=shop.buyer[1], json={"amount_cents": 4_000}),
                     201)["payout"]
    failed = data_of(client.patch(f"/admin/payouts/{payout['id']}", headers=shop.admin[1],
                                  json={"status": "failed", "reason": "IBAN rejected"}))
    assert failed["status"] == "failed" and _balance(app, shop.buyer[0]) == 100_000
    ledger = data_of(client.get("/accounts/me/transactions", headers=shop.buyer[1]))["items"]
    assert [(e["kind"], e["amount_cents"], e["reference"]) for e in ledger[:2]] == [
        ("payout_return", 4_000, f"payout:{payout['id']}"), ("withdrawal", -4_000, f"payout:{payout['id']}")]
    for body in ({"status": "requested", **WHY}, {"status": "paid"}, {"status": "paid", **WHY, "amount_cents": 1}):
        assert client.patch(f"/admin/payouts/{payout['id']}", headers=shop.admin[1], json=body).status_code == 422
    assert client.patch("/admin/payouts/9999", headers=shop.admin[1], json={"status": "paid", **WHY}).status_code == 404


def test_the_platform_accounts_show_fees_and_escrow(app, client, shop):
    completed_order(app, client, shop.buyer[1], (shop.helmet, 1))
    assert data_of(client.get("/admin/platform", headers=shop.admin[1]))["fees_cents"] == 3000
    assert data_of(client.get("/admin/platform", headers=shop.admin[1]))["escrow_cents"] == 0


def test_a_sellers_totals_per_day_and_month_in_their_zone(app, client, shop, monkeypatch):
    first = completed_order(app, client, shop.buyer[1], (shop.wax, 2))
    second = completed_order(app, client, shop.buyer[1], (shop.helmet, 1))
    third = completed_order(app, client, shop.buyer[1], (shop.wax, 1))
    client.post(f"/admin/orders/{second['id']}/refund", headers=shop.admin[1], json=WHY)
    settled = {first["id"]: datetime(2026, 11, 14, 23, 30, tzinfo=UTC),  # already the 15th in Warsaw (default zone)
               second["id"]: datetime(2026, 11, 15, 10, 0, tzinfo=UTC),
               third["id"]: datetime(2026, 10, 6, 10, 0, tzinfo=UTC)}  # 40 days back: outside the default 30
    with app.app_context():
        for order_id, at in settled.items():
            db.session.execute(update(Order).where(Order.id == order_id).values(settled_at=at))
        db.session.commit()
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 15, 12, 0, tzinfo=UTC))
    days = data_of(client.get("/sellers/me/sales/totals?period=day", headers=shop.seller[1]))
    assert days == [{"period": "2026-11-15", "orders": 2, "items": 3, "gross_cents": 3998 + 30_000,
                     "fee_cents": 400 + 3000, "net_cents": 3598 + 27_000, "refunded_net_cents": 27_000}]
    months = data_of(client.get("/sellers/me/sales/totals?period=month", headers=shop.seller[1]))
    assert [(m["period"], m["orders"], m["gross_cents"], m["net_cents"]) for m in months] == [
        ("2026-10", 1, 1999, 1799), ("2026-11", 2, 33_998, 30_598)]
    window = client.get("/sellers/me/sales/totals?period=day&since=2026-11-14&until=2026-11-16",
                        headers=shop.seller[1])
    assert [d["period"] for d in data_of(window)] == ["2026-11-15"]  # nothing settled on the 14th, Warsaw time
    for bad in ("period=week", "since=2026-13-01", "since=1999-01-01", "since=2026-11-30&until=2026-11-01",
                "period=day&since=2020-01-01&until=2026-01-01", "colour=red"):
        assert client.get(f"/sellers/me/sales/totals?{bad}", headers=shop.seller[1]).status_code == 422, bad
    assert client.get("/sellers/me/sales/totals", headers=shop.buyer[1]).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Account.balance_cents).where(Account.kind == AccountKind.ESCROW)) == 0


def test_a_retried_payout_decision_with_its_key_replays_instead_of_409(app, client, shop):
    payout = data_of(client.post("/accounts/me/withdrawals", headers=shop.buyer[1], json={"amount_cents": 500}),
                     201)["payout"]
    headers = {**shop.admin[1], "Idempotency-Key": "payout-decision-1"}
    first = client.patch(f"/admin/payouts/{payout['id']}", headers=headers, json={"status": "failed", **WHY})
    again = client.patch(f"/admin/payouts/{payout['id']}", headers=headers, json={"status": "failed", **WHY})
    assert first.status_code == again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert _balance(app, shop.buyer[0]) == 100_000  # returned once
