"""The security matrix: every route, classified; generic attacks run against each one.

ROUTES classifies every (method, rule) of the app. A route added without an entry fails
`test_every_route_is_in_the_security_matrix`. Each entry says who may call it and which test proves that
another user's token cannot reach someone else's data through it (BOLA); that test must exist.
"""

import base64
import hashlib
import hmac
import importlib
import json
import re
import time

import pytest
from cryptography.hazmat.primitives import serialization

PUBLIC, USER, ADMIN = "public", "user", "admin"
OWN = "own data only (the token's user)"
CATALOGUE = "catalogue: read by all, changed by its seller or an admin"
USERS, ORDERS = "tests.users.test_views", "tests.orders.test_orders"
ROUTES = {
    # (method, rule): (who, scope, the test proving others' data is out of reach)
    ("GET", "/health"): (PUBLIC, "-", None),
    ("GET", "/openapi.json"): (PUBLIC, "-", None),
    ("GET", "/docs"): (PUBLIC, "-", None),
    ("GET", "/organizations"): (USER, "reference data", None),
    ("GET", "/users"): (USER, OWN, "tests.users.test_views:test_each_token_sees_only_its_own_profile"),
    ("PATCH", "/users/preferences"): (USER, OWN, "tests.users.test_views:test_each_token_sees_only_its_own_profile"),
    ("POST", "/users/mobile"): (USER, OWN, "tests.users.test_views:test_another_users_code_does_not_verify_me"),
    ("PATCH", "/users/mobile"): (USER, OWN, "tests.users.test_views:test_another_users_code_does_not_verify_me"),
    ("PATCH", "/users/organization"): (USER, OWN, f"{USERS}:test_no_profile_route_writes_for_another_user"),
    ("PATCH", "/users/device"): (USER, OWN, f"{USERS}:test_no_profile_route_writes_for_another_user"),
    ("GET", "/users/email"): (USER, "invite look-up, rate-limited",
                              "tests.users.test_views:test_get_users_email_is_rate_limited_per_user"),
    **{(m, r): (USER, "group membership and role", "tests.groups.test_permissions:test_permission_matrix")
       for m, r in [("GET", "/groups"), ("POST", "/groups"), ("PUT", "/groups"), ("DELETE", "/groups"),
                    ("GET", "/groups/invitation"), ("GET", "/groups/invitation/count"), ("GET", "/group/members"),
                    ("POST", "/group/members"), ("DELETE", "/group/members"), ("PATCH", "/group/members/status"),
                    ("PATCH", "/group/members/role")]},
    **{(m, r): (USER, "event membership and group role", "tests.events.test_views:test_permission_matrix")
       for m, r in [("GET", "/event"), ("POST", "/event"), ("PUT", "/event"), ("DELETE", "/event"),
                    ("POST", "/event/notify"), ("GET", "/event/comment"), ("POST", "/event/comment"),
                    ("PUT", "/event/comment"), ("DELETE", "/event/comment")]},
    **{(m, r): (USER, CATALOGUE, "tests.products.test_views:test_authorization_matrix")
       for m, r in [("GET", "/products"), ("POST", "/products"), ("GET", "/products/<int:product_id>"),
                    ("PATCH", "/products/<int:product_id>"), ("DELETE", "/products/<int:product_id>"),
                    ("POST", "/products/<int:product_id>/restock"),
                    ("POST", "/products/<int:product_id>/image-upload-url")]},
    **{(m, r): (USER, OWN, "tests.accounts.test_wallet:test_keys_are_per_user_and_per_route")
       for m, r in [("GET", "/accounts/me"), ("POST", "/accounts/me/deposits"), ("POST", "/accounts/me/withdrawals"),
                    ("GET", "/accounts/me/transactions")]},
    ("GET", "/accounts"): (ADMIN, "back office", "tests.products.test_views:test_authorization_matrix"),
    **{(m, r): (USER, OWN, "tests.orders.test_orders:test_other_users_orders_do_not_exist_for_them")
       for m, r in [("GET", "/orders"), ("POST", "/orders"), ("GET", "/orders/<int:order_id>"),
                    ("POST", "/orders/<int:order_id>/cancel"), ("POST", "/orders/<int:order_id>/receipt")]},
    ("GET", "/admin/orders"): (ADMIN, "back office", f"{ORDERS}:test_other_users_orders_do_not_exist_for_them"),
    ("GET", "/notifications"): (USER, OWN, "tests.notifications.test_delivery:test_the_delivery_log_shows_only_mine"),
}
LISTS = {"/groups": "page_size", "/group/members": "page_size", "/event": "page_size", "/products": "limit",
         "/accounts/me/transactions": "limit", "/accounts": "limit", "/orders": "limit", "/admin/orders": "limit",
         "/notifications": "limit"}


def _rules(app):
    return {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}


def _url(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", "1", rule)


def test_every_route_is_in_the_security_matrix(app):
    assert _rules(app) == set(ROUTES), "classify new routes in tests/test_security.py"


@pytest.mark.parametrize("key", sorted(k for k, v in ROUTES.items() if v[2]), ids=lambda k: f"{k[0]} {k[1]}")
def test_each_routes_bola_test_exists(key):
    module, name = ROUTES[key][2].split(":")
    assert callable(getattr(importlib.import_module(module), name))


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


@pytest.mark.parametrize("key", sorted(k for k in ROUTES if k[0] in ("POST", "PUT", "PATCH")),
                         ids=lambda k: f"{k[0]} {k[1]}")
def test_mass_assignment_fields_are_refused_on_every_body(app, client, tokens, key):
    method, rule = key
    headers = tokens.headers("mass@example.com", groups=["admin", "seller"])
    spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    operation = spec["paths"][path][method.lower()]
    if "requestBody" not in operation:
        pytest.skip("takes no body")
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    accepted = set(spec["components"]["schemas"][schema_ref].get("properties", {}))
    for field, value in MASS_ASSIGNMENT.items():
        if field in accepted:
            continue
        response = client.open(_url(rule), method=method, headers=headers, json={field: value})
        assert response.status_code in (401, 403, 404, 422), (key, field, response.status_code)
        if response.status_code == 422:
            assert field in (response.get_json().get("errors") or {}) or response.get_json()["errors"], (key, field)


def test_oversized_bodies_are_refused_everywhere(app, client, tokens):
    headers = tokens.headers("big@example.com")
    body = json.dumps({"name": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    for method, rule in sorted(k for k, v in ROUTES.items() if k[0] in ("POST", "PUT", "PATCH", "DELETE")):
        response = client.open(_url(rule), method=method, headers=headers, data=body, content_type="application/json")
        assert response.status_code == 413, (method, rule)


@pytest.mark.parametrize("path", sorted(LISTS))
def test_page_sizes_are_capped_on_every_list(client, tokens, path):
    headers = tokens.headers("pager@example.com", groups=["admin"])
    response = client.get(f"{path}?{LISTS[path]}=100000", headers={**headers, "trm-group-id": "1"})
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
