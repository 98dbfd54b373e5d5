"""The back office's permission matrix: every route this work added × every kind of caller (admin, seller,
customer, disabled user, no token). Each cell is the expected status; every refusal leaves everything as it was."""

from dataclasses import dataclass

import pytest

from tests.factories import (
    Cast,
    fund,
    make_order,
    make_payout,
    make_product,
    make_settled_order,
    money_snapshot,
)
from torium_api import clock

WHO = ("admin", "seller", "customer", "disabled", "anonymous")
WHY = {"reason": "permission matrix"}
ADMIN_ONLY = dict(admin=200, seller=403, customer=403, disabled=403)


@dataclass
class World(Cast):
    """A caller per role, plus what the back office acts on: a customer with a wallet, orders in each state, a
    payout, and a user with nothing who can be erased."""

    ids: dict
    headers: dict


@pytest.fixture
def world(app, client, tokens) -> World:
    ids, headers = {}, {"anonymous": {}}
    for who, groups in (("admin", ["admin"]), ("seller", ["seller"]), ("customer", []), ("victim", []),
                        ("leaver", [])):
        ids[who], headers[who] = tokens.user(f"{who}@matrix.example", groups=groups)
        client.get("/users", headers=headers[who])  # roles in tokens are noted at first sight, not in a cell
    ids["disabled"], headers["disabled"] = tokens.user("disabled@matrix.example", disabled_at=clock.now())
    product = make_product(app, ids["seller"], price_cents=1000, stock=100)
    fund(app, ids["victim"], 10_000)
    ids["pending"] = make_order(app, ids["victim"], product)
    ids["completed"] = make_settled_order(app, ids["victim"], product)
    ids["lost"] = make_settled_order(app, ids["victim"], product, status="not_received")
    ids["payout"] = make_payout(app, ids["victim"], 1_000)
    return World(ids, headers)


def _routes():
    """(name, method, path(world), json(world), {who: status}); anonymous is 401 unless stated."""
    v = "victim"
    return [
        ("list users", "get", lambda w: "/admin/users", None, ADMIN_ONLY),
        ("read user", "get", lambda w: f"/admin/users/{w.ids[v]}", None, ADMIN_ONLY),
        ("update user", "patch", lambda w: f"/admin/users/{w.ids[v]}", lambda w: {"timezone": "Asia/Tokyo", **WHY},
         ADMIN_ONLY),
        ("erase user", "delete", lambda w: f"/admin/users/{w.ids['leaver']}", lambda w: WHY, ADMIN_ONLY),
        ("disable", "post", lambda w: f"/admin/users/{w.ids[v]}/disable", lambda w: WHY, ADMIN_ONLY),
        ("enable", "post", lambda w: f"/admin/users/{w.ids['disabled']}/enable", lambda w: WHY, ADMIN_ONLY),
        ("grant role", "put", lambda w: f"/admin/users/{w.ids[v]}/roles/seller", lambda w: WHY, ADMIN_ONLY),
        ("revoke role", "delete", lambda w: f"/admin/users/{w.ids['seller']}/roles/seller", lambda w: WHY,
         ADMIN_ONLY),
        ("user ledger", "get", lambda w: f"/admin/users/{w.ids[v]}/ledger", None, ADMIN_ONLY),
        ("adjust", "post", lambda w: f"/admin/users/{w.ids[v]}/adjustments",
         lambda w: {"amount_cents": 100, **WHY}, {**ADMIN_ONLY, "admin": 201}),
        ("cancel order", "post", lambda w: f"/admin/orders/{w.ids['pending']}/cancel", lambda w: WHY, ADMIN_ONLY),
        ("refund order", "post", lambda w: f"/admin/orders/{w.ids['completed']}/refund", lambda w: WHY, ADMIN_ONLY),
        ("resolve order", "post", lambda w: f"/admin/orders/{w.ids['lost']}/resolve",
         lambda w: {"resolution": "refund", **WHY}, ADMIN_ONLY),
        ("list payouts", "get", lambda w: "/admin/payouts", None, ADMIN_ONLY),
        ("decide payout", "patch", lambda w: f"/admin/payouts/{w.ids['payout']}",
         lambda w: {"status": "failed", **WHY}, ADMIN_ONLY),
        ("platform", "get", lambda w: "/admin/platform", None, ADMIN_ONLY),
        ("audit log", "get", lambda w: "/admin/audit", None, ADMIN_ONLY),
        ("sales", "get", lambda w: "/sellers/me/sales", None, dict(admin=200, seller=200, customer=403, disabled=403)),
        ("sales totals", "get", lambda w: "/sellers/me/sales/totals", None,
         dict(admin=200, seller=200, customer=403, disabled=403)),
        ("my payouts", "get", lambda w: "/accounts/me/payouts", None,
         dict(admin=200, seller=200, customer=200, disabled=403)),
        ("export", "get", lambda w: "/users/export", None, dict(admin=200, seller=200, customer=200, disabled=403)),
        ("leave", "delete", lambda w: "/users/me", None, dict(admin=200, seller=409, customer=200, disabled=403)),
        # A token is not a signature: the provider's webhook refuses everyone who does not sign.
        ("webhook", "post", lambda w: "/payments/webhook",
         lambda w: {"id": "evt_m", "type": "payment.succeeded", "data": {"user_id": w.ids[v], "amount_cents": 5,
                                                                         "currency": "PLN"}},
         dict(admin=401, seller=401, customer=401, disabled=401)),
    ]


CASES = [pytest.param(route, who, id=f"{route[0]}-{who}") for route in _routes() for who in WHO]


@pytest.mark.parametrize("route, who", CASES)
def test_permission_matrix(app, client, world, route, who):
    name, method, path, body, expected = route
    expected = {**expected, "anonymous": 401}[who]
    before = money_snapshot(app)
    response = client.open(path(world), method=method.upper(), headers=world.h(who),
                           json=body(world) if body else None)
    assert response.status_code == expected, (name, who, response.get_json())
    assert response.get_json()["status"]["code"] == expected
    if expected >= 400:
        assert money_snapshot(app) == before, f"{name} by {who} was refused but changed data"
    else:
        assert money_snapshot(app) != before or method == "get", name


def test_every_route_added_here_is_in_the_matrix(app):
    covered = {(method.upper(), path) for _, method, path, *_ in _routes()}
    new = {(m, r.rule) for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in ("admin", "privacy", "payments")
           or r.rule.startswith(("/sellers/", "/accounts/me/payouts")) for m in r.methods - {"HEAD", "OPTIONS"}}
    concrete = {(m, p.replace("<int:user_id>", "1").replace("<int:order_id>", "1").replace("<int:payout_id>", "1")
                 .replace("<string:role>", "seller")) for m, p in new}
    world = World({k: 1 for k in ("victim", "leaver", "seller", "disabled", "pending", "completed", "lost",
                                  "payout")}, {})
    assert {(m, p(world)) for m, p in covered} == concrete
