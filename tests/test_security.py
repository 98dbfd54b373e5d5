"""The security matrix: every route, classified; generic attacks run against each one.

ROUTES classifies every (method, rule) of the app: who may call it and whose data it reaches. A route added
without an entry fails `test_every_route_is_in_the_security_matrix`. Every route that reaches someone's data
has a BOLA case in OTHERS_DATA: another user (Bob, who is even a seller) aims it at Alice's group, event,
comment, product, wallet, order, delivery log or phone verification, and the case checks what Bob gets back and
that nothing of Alice's changed.
"""

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from tests.factories import (
    PRODUCT,
    fund,
    make_comment,
    make_delivery,
    make_event,
    make_group,
    make_order,
    make_payout,
    make_product,
    make_user,
    table_counts,
)
from torium_api import clock
from torium_api.config import DEV_WEBHOOK_SECRET
from torium_api.extensions import db
from torium_api.payments.signature import header_for

PUBLIC, USER, ADMIN = "public", "user", "admin"
OWN = "own data only (the token's user)"
CATALOGUE = "catalogue: read by all, changed by its seller or an admin"
GROUP = "group membership and role"
EVENT = "event membership and group role"
ROUTES = {
    # (method, rule): (who may call it, whose data it reaches)
    ("GET", "/health"): (PUBLIC, "-"),
    ("GET", "/openapi.json"): (PUBLIC, "-"),
    ("GET", "/docs"): (PUBLIC, "-"),
    ("GET", "/docs/static/<name>"): (PUBLIC, "-"),  # Swagger UI's files (openapi.swagger_ui_assets)
    ("GET", "/organizations"): (USER, "reference data"),
    ("GET", "/users"): (USER, OWN),
    ("PATCH", "/users/preferences"): (USER, OWN),
    ("POST", "/users/mobile"): (USER, OWN),
    ("PATCH", "/users/mobile"): (USER, OWN),
    ("PATCH", "/users/organization"): (USER, OWN),
    ("PATCH", "/users/device"): (USER, OWN),
    ("GET", "/users/email"): (USER, "invite look-up: an id only, rate-limited"),
    **{(m, r): (USER, GROUP) for m, r in [
        ("GET", "/groups"), ("POST", "/groups"), ("PUT", "/groups"), ("DELETE", "/groups"),
        ("GET", "/groups/invitation"), ("GET", "/groups/invitation/count"), ("GET", "/group/members"),
        ("POST", "/group/members"), ("DELETE", "/group/members"), ("PATCH", "/group/members/status"),
        ("PATCH", "/group/members/role")]},
    **{(m, r): (USER, EVENT) for m, r in [
        ("GET", "/event"), ("POST", "/event"), ("PUT", "/event"), ("DELETE", "/event"), ("POST", "/event/notify"),
        ("GET", "/event/comment"), ("POST", "/event/comment"), ("PUT", "/event/comment"),
        ("DELETE", "/event/comment")]},
    **{(m, r): (USER, CATALOGUE) for m, r in [
        ("GET", "/products"), ("POST", "/products"), ("GET", "/products/<int:product_id>"),
        ("PATCH", "/products/<int:product_id>"), ("DELETE", "/products/<int:product_id>"),
        ("POST", "/products/<int:product_id>/restock"), ("POST", "/products/<int:product_id>/image-upload-url")]},
    **{(m, r): (USER, OWN) for m, r in [
        ("GET", "/accounts/me"), ("POST", "/accounts/me/deposits"), ("POST", "/accounts/me/withdrawals"),
        ("GET", "/accounts/me/transactions"), ("GET", "/orders"), ("POST", "/orders"),
        ("GET", "/orders/<int:order_id>"), ("POST", "/orders/<int:order_id>/cancel"),
        ("POST", "/orders/<int:order_id>/receipt"), ("GET", "/notifications")]},
    ("GET", "/accounts"): (ADMIN, "back office"),
    ("GET", "/admin/orders"): (ADMIN, "back office"),
    # The payment provider: no token, an HMAC signature instead (tests/payments).
    ("POST", "/payments/webhook"): (PUBLIC, "the payment provider's signed events"),
    **{(m, r): (USER, OWN) for m, r in [
        ("GET", "/accounts/me/payouts"), ("GET", "/sellers/me/sales"), ("GET", "/sellers/me/sales/totals"),
        ("DELETE", "/users/me"), ("GET", "/users/export")]},
    **{(m, r): (ADMIN, "back office") for m, r in [
        ("GET", "/admin/users"), ("GET", "/admin/users/<int:user_id>"), ("PATCH", "/admin/users/<int:user_id>"),
        ("DELETE", "/admin/users/<int:user_id>"), ("POST", "/admin/users/<int:user_id>/disable"),
        ("POST", "/admin/users/<int:user_id>/enable"), ("PUT", "/admin/users/<int:user_id>/roles/<string:role>"),
        ("DELETE", "/admin/users/<int:user_id>/roles/<string:role>"), ("GET", "/admin/users/<int:user_id>/ledger"),
        ("POST", "/admin/users/<int:user_id>/adjustments"), ("POST", "/admin/orders/<int:order_id>/cancel"),
        ("POST", "/admin/orders/<int:order_id>/refund"), ("POST", "/admin/orders/<int:order_id>/resolve"),
        ("GET", "/admin/payouts"), ("PATCH", "/admin/payouts/<int:payout_id>"), ("GET", "/admin/platform"),
        ("GET", "/admin/audit")]},
}
LISTS = {"/groups": "page_size", "/group/members": "page_size", "/event": "page_size", "/event/comment": "page_size",
         "/products": "limit",
         "/accounts/me/transactions": "limit", "/accounts": "limit", "/orders": "limit", "/admin/orders": "limit",
         "/notifications": "limit", "/accounts/me/payouts": "limit", "/sellers/me/sales": "limit",
         "/admin/users": "limit", "/admin/users/{user_id}/ledger": "limit", "/admin/payouts": "limit",
         "/admin/audit": "limit"}


def _rules(app):
    return {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}


def _url(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", "1", rule)


def test_every_route_is_in_the_security_matrix(app):
    assert _rules(app) == set(ROUTES), "classify new routes in tests/test_security.py"


# --- BOLA: another user's data is out of reach through every route ---------------------------------------

ALICE_CODE = "314159"


@dataclass
class Victim:
    """Alice's world and Bob's token. ``ids``: what of Alice's each case aims at."""

    ids: dict
    bob: dict
    bob_id: int


@pytest.fixture
def victim(app, tokens) -> Victim:
    from torium_api.groups.models import GroupInvitation, InvitationStatus
    from torium_api.users.models import MobileVerification
    from torium_api.users.services import _hash_code

    alice = make_user(app, "alice@example.com", timezone="Europe/Warsaw", device_token="alice-device")
    carol = make_user(app, "carol@example.com")
    bob_id, bob = tokens.user("bob@example.com", groups=["seller"])
    group = make_group(app, alice, members={carol: "standard"}, name="Alice's")
    carols_group = make_group(app, carol, name="Carol's")
    event = make_event(app, group, alice, [carol])
    comment = make_comment(app, event, alice, "alice was here")
    listed = make_product(app, alice, name="Alice's wax")
    unlisted = make_product(app, alice, name="Alice's secret", active=False)
    fund(app, alice, 50_000)
    order = make_order(app, alice, listed, status="completed")
    payout = make_payout(app, alice, 1_000)
    delivery = make_delivery(app, alice, body="for alice only")
    with app.app_context():
        db.session.add(GroupInvitation(group_id=carols_group, user_id=alice, invited_by_id=carol,
                                       status=InvitationStatus.PENDING))
        db.session.add(MobileVerification(user_id=alice, mobile_number="+48111222333", code_salt="salt",
                                          code_hash=_hash_code("salt", ALICE_CODE),
                                          expires_at=clock.now() + timedelta(minutes=10)))
        db.session.commit()
    return Victim(dict(alice=alice, group=group, carols_group=carols_group, event=event, comment=comment,
                       listed=listed, unlisted=unlisted, order=order, delivery=delivery, payout=payout), bob, bob_id)


def _alices_things(app, alice: int) -> tuple:
    """Everything of Alice's any route could read or change."""
    from torium_api.accounts.models import Account, LedgerEntry, Payout
    from torium_api.events.models import Event, EventComment, EventMember
    from torium_api.groups.models import Group, GroupInvitation, GroupMember
    from torium_api.orders.models import Order
    from torium_api.products.models import Product
    from torium_api.users.models import MobileVerification, RoleGrant, User

    def rows(*columns, where=True):
        return db.session.execute(select(*columns).where(where).order_by(*columns)).all()

    with app.app_context():
        groups = select(GroupMember.group_id).where(GroupMember.user_id == alice).scalar_subquery()
        events = select(Event.id).where(Event.group_id.in_(groups)).scalar_subquery()
        account = select(Account.id).where(Account.user_id == alice).scalar_subquery()
        return (rows(User.email, User.timezone, User.device_token, User.mobile_number, User.organization_id,
                     User.reminder_preferences, User.username, User.disabled_at, User.deleted_at,
                     where=User.id == alice),
                rows(RoleGrant.role, RoleGrant.revoked_at, where=RoleGrant.user_id == alice),
                rows(Payout.id, Payout.status, where=Payout.user_id == alice),
                rows(Group.id, Group.name, Group.description, where=Group.id.in_(groups)),
                rows(GroupMember.group_id, GroupMember.user_id, GroupMember.role,
                     where=GroupMember.group_id.in_(groups)),
                rows(GroupInvitation.group_id, GroupInvitation.user_id, GroupInvitation.status,
                     where=(GroupInvitation.user_id == alice) | GroupInvitation.group_id.in_(groups)),
                rows(Event.id, Event.name, Event.starts_at, where=Event.id.in_(events)),
                rows(EventMember.event_id, EventMember.user_id, where=EventMember.event_id.in_(events)),
                rows(EventComment.id, EventComment.comment, where=EventComment.event_id.in_(events)),
                rows(Product.id, Product.name, Product.price_cents, Product.stock, Product.active, Product.version,
                     where=Product.seller_id == alice),
                rows(Account.balance_cents, where=Account.user_id == alice),
                rows(LedgerEntry.id, LedgerEntry.amount_cents, where=LedgerEntry.account_id == account),
                rows(Order.id, Order.status, where=Order.user_id == alice),
                rows(MobileVerification.id, MobileVerification.attempts, MobileVerification.closed_at,
                     where=MobileVerification.user_id == alice))


def _ids(data) -> set:
    items = data["items"] if isinstance(data, dict) and "items" in data else data
    return {item.get("id", item.get("group_id", item.get("user_id"))) for item in items}


def _none_of(*keys):
    return lambda v, data: not (_ids(data) & {v.ids[k] for k in keys})


BOB_ONLY = {"name": "Mine", "description": ""}
WHY = {"reason": "because I can"}
# Every back-office route aimed at Alice's account, order or payout: Bob (a seller, not an admin) gets 403.
_ADMIN_AIMED_AT_ALICE = {
    ("GET", "/admin/users"): lambda v: ("/admin/users?q=alice", {}, None),
    ("GET", "/admin/users/<int:user_id>"): lambda v: (f"/admin/users/{v.ids['alice']}", {}, None),
    ("PATCH", "/admin/users/<int:user_id>"): lambda v: (f"/admin/users/{v.ids['alice']}", {},
                                                        {"timezone": "Asia/Tokyo", **WHY}),
    ("DELETE", "/admin/users/<int:user_id>"): lambda v: (f"/admin/users/{v.ids['alice']}", {}, WHY),
    ("POST", "/admin/users/<int:user_id>/disable"): lambda v: (f"/admin/users/{v.ids['alice']}/disable", {}, WHY),
    ("POST", "/admin/users/<int:user_id>/enable"): lambda v: (f"/admin/users/{v.ids['alice']}/enable", {}, WHY),
    ("PUT", "/admin/users/<int:user_id>/roles/<string:role>"): lambda v: (
        f"/admin/users/{v.bob_id}/roles/admin", {}, WHY),
    ("DELETE", "/admin/users/<int:user_id>/roles/<string:role>"): lambda v: (
        f"/admin/users/{v.ids['alice']}/roles/seller", {}, WHY),
    ("GET", "/admin/users/<int:user_id>/ledger"): lambda v: (f"/admin/users/{v.ids['alice']}/ledger", {}, None),
    ("POST", "/admin/users/<int:user_id>/adjustments"): lambda v: (
        f"/admin/users/{v.ids['alice']}/adjustments", {}, {"amount_cents": -50_000, **WHY}),
    ("POST", "/admin/orders/<int:order_id>/cancel"): lambda v: (f"/admin/orders/{v.ids['order']}/cancel", {}, WHY),
    ("POST", "/admin/orders/<int:order_id>/refund"): lambda v: (f"/admin/orders/{v.ids['order']}/refund", {}, WHY),
    ("POST", "/admin/orders/<int:order_id>/resolve"): lambda v: (
        f"/admin/orders/{v.ids['order']}/resolve", {}, {"resolution": "refund", **WHY}),
    ("GET", "/admin/payouts"): lambda v: (f"/admin/payouts?user_id={v.ids['alice']}", {}, None),
    ("PATCH", "/admin/payouts/<int:payout_id>"): lambda v: (f"/admin/payouts/{v.ids['payout']}", {},
                                                            {"status": "failed", **WHY}),
    ("GET", "/admin/platform"): lambda v: ("/admin/platform", {}, None),
    ("GET", "/admin/audit"): lambda v: (f"/admin/audit?target_type=user&target_id={v.ids['alice']}", {}, None),
}
# (method, rule): (request(v) -> (url, extra headers, json), expected status, check(v, data) -> bool)
OTHERS_DATA = {
    ("GET", "/users"): (lambda v: ("/users", {}, None), 200, lambda v, d: d["user_id"] == v.bob_id),
    ("PATCH", "/users/preferences"): (lambda v: ("/users/preferences", {}, {"timezone": "Asia/Tokyo"}), 200, None),
    ("POST", "/users/mobile"): (lambda v: ("/users/mobile", {}, {"mobile_number": "+48111222333"}), 200, None),
    ("PATCH", "/users/mobile"): (lambda v: ("/users/mobile", {}, {"code": ALICE_CODE}), 422, None),
    ("PATCH", "/users/organization"): (lambda v: ("/users/organization", {}, {"organization_id": 1}), 200, None),
    ("PATCH", "/users/device"): (lambda v: ("/users/device", {}, {"device_token": "bobs-device"}), 200, None),
    ("GET", "/users/email"): (lambda v: ("/users/email", {"trm-email": "alice@example.com"}, None), 200,
                              lambda v, d: d == {"user_id": v.ids["alice"]}),
    ("GET", "/groups"): (lambda v: ("/groups", {}, None), 200, lambda v, d: d == []),
    ("POST", "/groups"): (lambda v: ("/groups", {}, BOB_ONLY), 200, None),
    ("PUT", "/groups"): (lambda v: ("/groups", {}, {"id": v.ids["group"], **BOB_ONLY}), 404, None),
    ("DELETE", "/groups"): (lambda v: ("/groups", {}, {"id": v.ids["group"]}), 404, None),
    ("GET", "/groups/invitation"): (lambda v: ("/groups/invitation", {}, None), 200, lambda v, d: d == []),
    ("GET", "/groups/invitation/count"): (lambda v: ("/groups/invitation/count", {}, None), 200,
                                          lambda v, d: d == {"count": 0}),
    ("GET", "/group/members"): (lambda v: ("/group/members", {"trm-group-id": str(v.ids["group"])}, None), 404,
                                None),
    ("POST", "/group/members"): (lambda v: ("/group/members", {"trm-group-id": str(v.ids["group"]),
                                                               "trm-user-id": str(v.bob_id)}, None), 404, None),
    ("DELETE", "/group/members"): (lambda v: ("/group/members", {"trm-group-id": str(v.ids["group"]),
                                                                 "trm-user-id": str(v.ids["alice"])}, None), 404,
                                   None),
    ("PATCH", "/group/members/status"): (lambda v: ("/group/members/status",
                                                    {"trm-group-id": str(v.ids["carols_group"])},
                                                    {"status": "confirmed"}), 404, None),
    ("PATCH", "/group/members/role"): (lambda v: ("/group/members/role", {"trm-group-id": str(v.ids["group"])},
                                                  {"status": "standard", "user_id": v.ids["alice"]}), 404, None),
    ("GET", "/event"): (lambda v: ("/event", {}, None), 200, lambda v, d: d == []),
    ("POST", "/event"): (lambda v: ("/event", {"trm-group-id": str(v.ids["group"])},
                                    {"name": "E", "description": "", "event_timestamp": "2030-01-01 10:00:00",
                                     "is_budget": False, "reminder": "once", "schedule_period": "1 day",
                                     "users": []}), 404, None),
    ("PUT", "/event"): (lambda v: ("/event", {}, {"id": v.ids["event"], "name": "E", "description": "",
                                                  "event_timestamp": "2030-01-01 10:00:00", "is_budget": False,
                                                  "reminder": "once", "schedule_period": "1 day", "users": []}),
                        404, None),
    ("DELETE", "/event"): (lambda v: ("/event", {}, {"id": v.ids["event"]}), 404, None),
    ("POST", "/event/notify"): (lambda v: ("/event/notify", {}, {"event_id": v.ids["event"]}), 404, None),
    ("GET", "/event/comment"): (lambda v: ("/event/comment", {"trm-event-id": str(v.ids["event"])}, None), 404,
                                None),
    ("POST", "/event/comment"): (lambda v: ("/event/comment", {}, {"event_id": v.ids["event"], "comment": "hi"}),
                                 404, None),
    ("PUT", "/event/comment"): (lambda v: ("/event/comment", {}, {"id": v.ids["comment"], "comment": "mine"}),
                                404, None),
    ("DELETE", "/event/comment"): (lambda v: ("/event/comment", {}, {"id": v.ids["comment"]}), 404, None),
    ("GET", "/products"): (lambda v: ("/products?include_inactive=true", {}, None), 200,
                           _none_of("listed", "unlisted")),
    ("POST", "/products"): (lambda v: ("/products", {}, PRODUCT), 201, lambda v, d: d["seller_id"] == v.bob_id),
    ("GET", "/products/<int:product_id>"): (lambda v: (f"/products/{v.ids['unlisted']}", {}, None), 404, None),
    ("PATCH", "/products/<int:product_id>"): (lambda v: (f"/products/{v.ids['listed']}", {"If-Match": "*"},
                                                         {"price_cents": 1}), 403, None),
    ("DELETE", "/products/<int:product_id>"): (lambda v: (f"/products/{v.ids['listed']}", {}, None), 403, None),
    ("POST", "/products/<int:product_id>/restock"): (lambda v: (f"/products/{v.ids['listed']}/restock", {},
                                                                {"quantity": 5}), 403, None),
    ("POST", "/products/<int:product_id>/image-upload-url"): (
        lambda v: (f"/products/{v.ids['listed']}/image-upload-url", {}, None), 403, None),
    ("GET", "/accounts/me"): (lambda v: ("/accounts/me", {}, None), 200, lambda v, d: d["balance_cents"] == 0),
    ("POST", "/accounts/me/deposits"): (lambda v: ("/accounts/me/deposits", {}, {"amount_cents": 5}), 201,
                                        lambda v, d: d["account"]["balance_cents"] == 5),
    ("POST", "/accounts/me/withdrawals"): (lambda v: ("/accounts/me/withdrawals", {}, {"amount_cents": 5}), 409,
                                           None),
    ("GET", "/accounts/me/transactions"): (lambda v: ("/accounts/me/transactions", {}, None), 200,
                                           lambda v, d: d["items"] == []),
    ("GET", "/orders"): (lambda v: ("/orders", {}, None), 200, lambda v, d: d["items"] == []),
    ("POST", "/orders"): (lambda v: ("/orders", {}, {"lines": [{"product_id": v.ids["listed"], "quantity": 1}],
                                                     "shipping_address": {"name": "B", "line1": "x", "city": "y",
                                                                          "postal_code": "00-001",
                                                                          "country": "PL"}}), 202,
                          lambda v, d: d["user_id"] == v.bob_id),
    ("GET", "/orders/<int:order_id>"): (lambda v: (f"/orders/{v.ids['order']}", {}, None), 404, None),
    ("POST", "/orders/<int:order_id>/cancel"): (lambda v: (f"/orders/{v.ids['order']}/cancel", {}, None), 404,
                                                None),
    ("POST", "/orders/<int:order_id>/receipt"): (lambda v: (f"/orders/{v.ids['order']}/receipt", {}, None), 404,
                                                 None),
    ("GET", "/notifications"): (lambda v: ("/notifications", {}, None), 200, lambda v, d: d["items"] == []),
    ("GET", "/accounts"): (lambda v: ("/accounts", {}, None), 403, None),
    ("GET", "/admin/orders"): (lambda v: (f"/admin/orders?user_id={v.ids['alice']}", {}, None), 403, None),
    ("GET", "/accounts/me/payouts"): (lambda v: ("/accounts/me/payouts", {}, None), 200,
                                      lambda v, d: d["items"] == []),
    ("GET", "/sellers/me/sales"): (lambda v: ("/sellers/me/sales", {}, None), 200, lambda v, d: d["items"] == []),
    ("GET", "/sellers/me/sales/totals"): (lambda v: ("/sellers/me/sales/totals", {}, None), 200, lambda v, d: d == []),
    ("DELETE", "/users/me"): (lambda v: ("/users/me", {}, None), 200, lambda v, d: d["user_id"] == v.bob_id),
    ("GET", "/users/export"): (lambda v: ("/users/export", {}, None), 200, lambda v, d: (
        d["profile"]["user_id"] == v.bob_id and d["orders"] == d["groups"] == d["comments"] == d["ledger"] == [])),
    **{key: (request, 403, None) for key, request in _ADMIN_AIMED_AT_ALICE.items()},
}


def test_every_route_that_reaches_someones_data_has_a_bola_case():
    reaching = {key for key, (who, scope) in ROUTES.items() if who != PUBLIC and scope != "reference data"}
    assert set(OTHERS_DATA) == reaching


@pytest.mark.parametrize("key", sorted(OTHERS_DATA), ids=lambda k: f"{k[0]} {k[1]}")
def test_another_users_data_is_out_of_reach(app, client, victim, key):
    request, expected, check = OTHERS_DATA[key]
    url, headers, body = request(victim)
    before = _alices_things(app, victim.ids["alice"])
    response = client.open(url, method=key[0], headers={**victim.bob, **headers}, json=body)
    assert response.status_code == expected, (key, response.get_json())
    if check is not None:
        assert check(victim, response.get_json()["data"]), (key, response.get_json())
    assert _alices_things(app, victim.ids["alice"]) == before, f"{key} changed Alice's data"


def _b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _forged(tokens) -> dict:
    claims = tokens.claims("attacker@example.com", groups=["admin"])
    good = tokens.token("attacker@example.com", groups=["admin"])
    header, _, signature = good.split(".")
    pem = tokens.keys.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_header = _b64({"alg": "HS256", "typ": "JWT", "kid": tokens.keys.kid})
    hs_signature = _b64(hmac.new(pem, f"{hs_header}.{_b64(claims)}".encode(), hashlib.sha256).digest())
    return {
        "expired": tokens.token("attacker@example.com", exp=int(time.time()) - 600),
        "alg none": f"{_b64({'alg': 'none', 'kid': tokens.keys.kid})}.{_b64(claims)}.",
        "HS256 with the public key": f"{hs_header}.{_b64(claims)}.{hs_signature}",
        "wrong issuer": tokens.token("attacker@example.com", iss="https://evil.example/issuer"),
        "tampered payload": f"{header}.{_b64({**claims, 'sub': 'someone-else'})}.{signature}",
        "ID token": tokens.token("attacker@example.com", token_use="id", aud="torium-local"),
    }


def test_every_protected_route_refuses_every_forged_token(app, client, tokens):
    forged = _forged(tokens)
    for method, rule in sorted(k for k, v in ROUTES.items() if v[0] != PUBLIC):
        for kind, token in forged.items():
            response = client.open(_url(rule), method=method, json={}, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (method, rule, kind)
            assert response.get_json()["status"]["message"] == "Authentication required"


def test_admin_routes_refuse_everyone_else(client, tokens):
    for groups in ([], ["seller"]):
        headers = tokens.headers("notadmin@example.com", groups=groups)
        for method, rule in (k for k, v in ROUTES.items() if v[0] == ADMIN):
            assert client.open(_url(rule), method=method, headers=headers).status_code == 403, (rule, groups)


def test_roles_cannot_be_claimed_in_a_body_or_header(client, tokens):
    headers = tokens.headers("customer@example.com")
    for extra in ({"role": "admin"}, {"groups": ["admin"]}, {"cognito:groups": ["admin"]}):
        response = client.post("/products", headers=headers, json={"name": "x", "category": "ski",
                                                                    "price_cents": 1, **extra})
        assert response.status_code in (403, 422)
    assert client.get("/accounts", headers={**headers, "cognito-groups": "admin", "X-Role": "admin"}).status_code == 403


MASS_ASSIGNMENT = {"id": 1, "user_id": 1, "seller_id": 1, "role": "admin", "status": "completed",
                   "balance_cents": 10**9, "price_cents": 1, "total_cents": 1, "created_at": "2020-01-01T00:00:00Z",
                   "version": 99}
EVENT_BODY = {"name": "E", "description": "", "event_timestamp": "2030-01-01 10:00:00", "is_budget": False,
              "reminder": "once", "schedule_period": "1 day", "users": []}
ADDRESS = {"name": "B", "line1": "x", "city": "y", "postal_code": "00-001", "country": "PL"}
# A body (and headers) each route's schemas accept, so that adding one field is the only thing wrong with it.
VALID = {
    ("PATCH", "/users/preferences"): ({}, {"reminder_preferences": "EMAIL"}),
    ("POST", "/users/mobile"): ({}, {"mobile_number": "+48123456789"}),
    ("PATCH", "/users/mobile"): ({}, {"code": "123456"}),
    ("PATCH", "/users/organization"): ({}, {"organization_id": 1}),
    ("PATCH", "/users/device"): ({}, {"device_token": "t"}),
    ("POST", "/groups"): ({}, {"name": "G", "description": ""}),
    ("PUT", "/groups"): ({}, {"id": 1, "name": "G", "description": ""}),
    ("PATCH", "/group/members/status"): ({"trm-group-id": "1"}, {"status": "confirmed"}),
    ("PATCH", "/group/members/role"): ({"trm-group-id": "1"}, {"status": "standard", "user_id": 2}),
    ("POST", "/event"): ({"trm-group-id": "1"}, EVENT_BODY),
    ("PUT", "/event"): ({}, {**EVENT_BODY, "id": 1}),
    ("POST", "/event/notify"): ({}, {"event_id": 1}),
    ("POST", "/event/comment"): ({}, {"event_id": 1, "comment": "c"}),
    ("PUT", "/event/comment"): ({}, {"id": 1, "comment": "c"}),
    ("POST", "/products"): ({}, PRODUCT),
    ("PATCH", "/products/<int:product_id>"): ({"If-Match": "*"}, {"name": "N"}),
    ("POST", "/products/<int:product_id>/restock"): ({}, {"quantity": 1}),
    ("POST", "/accounts/me/deposits"): ({}, {"amount_cents": 1}),
    ("POST", "/accounts/me/withdrawals"): ({}, {"amount_cents": 1}),
    ("POST", "/orders"): ({}, {"lines": [{"product_id": 1, "quantity": 1}], "shipping_address": ADDRESS}),
    ("PATCH", "/admin/users/<int:user_id>"): ({}, {"username": "renamed", **WHY}),
    ("POST", "/admin/users/<int:user_id>/disable"): ({}, WHY),
    ("POST", "/admin/users/<int:user_id>/enable"): ({}, WHY),
    ("PUT", "/admin/users/<int:user_id>/roles/<string:role>"): ({}, WHY),
    ("POST", "/admin/users/<int:user_id>/adjustments"): ({}, {"amount_cents": 5, **WHY}),
    ("POST", "/admin/orders/<int:order_id>/cancel"): ({}, WHY),
    ("POST", "/admin/orders/<int:order_id>/refund"): ({}, {**WHY, "cover_shortfall": False}),
    ("POST", "/admin/orders/<int:order_id>/resolve"): ({}, {"resolution": "delivered", **WHY}),
    ("PATCH", "/admin/payouts/<int:payout_id>"): ({}, {"status": "paid", **WHY}),
    # Signed by the provider: the headers are made for the exact body sent (a callable of it).
    ("POST", "/payments/webhook"): (lambda raw: {"Torium-Signature": header_for(DEV_WEBHOOK_SECRET, int(time.time()),
                                                                                raw)},
                                    {"id": "evt_1", "type": "payment.succeeded", "created": 1,
                                     "data": {"user_id": 1, "amount_cents": 100, "currency": "PLN"}}),
}


def _body_schema(app, method: str, rule: str) -> dict | None:
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    operation = spec["paths"][re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)][method.lower()]
    if "requestBody" not in operation:
        return None
    name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    return spec["components"]["schemas"][name]


def test_every_route_with_a_body_has_a_valid_one_here(app):
    with_body = {(m, r) for m, r in ROUTES if m in ("POST", "PUT", "PATCH", "DELETE") and _body_schema(app, m, r)}
    deletes = {key for key in with_body if key[0] == "DELETE"}  # bodies of ids only: checked by the id cases below
    assert with_body - deletes == set(VALID)


@pytest.mark.parametrize("key", sorted(VALID), ids=lambda k: f"{k[0]} {k[1]}")
def test_mass_assignment_fields_are_refused_on_every_body(app, client, tokens, key):
    """Each server-owned field, added to a body that is otherwise valid, is a 422 naming exactly that field,
    and nothing is written (not even an outbox row)."""
    method, rule = key
    extra_headers, body = VALID[key]
    headers = {**tokens.headers("mass@example.com", groups=["admin", "seller"]),
               **({} if callable(extra_headers) else extra_headers)}
    accepted = set(_body_schema(app, method, rule).get("properties", {}))
    client.get("/users", headers=headers)  # the user exists before the counts are taken
    refused = [field for field in MASS_ASSIGNMENT if field not in accepted]
    assert refused, key
    for field in refused:
        before = table_counts(app)
        raw = json.dumps({**body, field: MASS_ASSIGNMENT[field]}).encode()
        signed = extra_headers(raw) if callable(extra_headers) else {}
        response = client.open(_url(rule), method=method, headers={**headers, **signed}, data=raw,
                               content_type="application/json")
        assert response.status_code == 422, (key, field, response.get_json())
        assert response.get_json()["errors"] == {field: ["Unknown field."]}, (key, field, response.get_json())
        assert table_counts(app) == before, (key, field)


def test_oversized_bodies_are_refused_everywhere(app, client, tokens):
    headers = tokens.headers("big@example.com")
    body = json.dumps({"name": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    for method, rule in sorted(k for k, v in ROUTES.items() if k[0] in ("POST", "PUT", "PATCH", "DELETE")):
        response = client.open(_url(rule), method=method, headers=headers, data=body, content_type="application/json")
        assert response.status_code == 413, (method, rule)


@pytest.mark.parametrize("path", sorted(LISTS))
def test_page_sizes_are_capped_on_every_list(client, tokens, path):
    headers = tokens.headers("pager@example.com", groups=["admin"])
    url = re.sub(r"\{\w+\}", "1", path)
    response = client.get(f"{url}?{LISTS[path]}=100000", headers={**headers, "trm-group-id": "1", "trm-event-id": "1"})
    assert response.status_code == 422


def test_every_list_route_is_known_to_the_page_size_test(app):
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    paginated = {path for path, ops in spec["paths"].items() for op in ops.values() if isinstance(op, dict)
                 and any(p.get("name") in ("page_size", "limit") for p in op.get("parameters", []))}
    assert paginated == set(LISTS)


@pytest.mark.parametrize("path", ["/groups", "/group/members", "/event"])
def test_huge_page_numbers_are_422_not_a_database_overflow(client, tokens, path):
    headers = tokens.headers("pager@example.com")
    response = client.get(f"{path}?page=108486921271865082839564288", headers={**headers, "trm-group-id": "1"})
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/groups", "/event"])
def test_unknown_query_parameters_are_refused_on_paginated_lists(client, tokens, path):
    headers = tokens.headers("pager@example.com")
    assert client.get(f"{path}?colour=red", headers=headers).status_code == 422
    assert client.get(f"{path}?=false", headers=headers).status_code == 422
    assert client.get(f"{path}?page=1&page_size=5", headers=headers).status_code == 200
