"""The wallet routes' permission matrix: every route × every role; a refusal changes nothing."""

import pytest

from tests.factories import fund, shop_snapshot

ROLES = {"admin": ["admin"], "seller": ["seller"], "customer": []}
WHO = (*ROLES, "anonymous")


def _routes():
    """(name, method, path, body, {who: status}); everyone has 100 in the wallet."""
    return [
        ("customers", "get", "/accounts", None, dict(admin=200, seller=403, customer=403)),
        ("my account", "get", "/accounts/me", None, dict(admin=200, seller=200, customer=200)),
        ("deposit", "post", "/accounts/me/deposits", {"amount_cents": 5}, dict(admin=201, seller=201, customer=201)),
        ("withdraw", "post", "/accounts/me/withdrawals", {"amount_cents": 5},
         dict(admin=201, seller=201, customer=201)),
        ("overdraw", "post", "/accounts/me/withdrawals", {"amount_cents": 101},
         dict(admin=409, seller=409, customer=409)),
        ("ledger", "get", "/accounts/me/transactions", None, dict(admin=200, seller=200, customer=200)),
        ("payouts", "get", "/accounts/me/payouts", None, dict(admin=200, seller=200, customer=200)),
    ]


@pytest.fixture
def wallets(app, tokens) -> dict:
    headers = {"anonymous": {}}
    for who, groups in ROLES.items():
        user_id, headers[who] = tokens.user(f"{who}@wallet.example", groups=groups)
        fund(app, user_id, 100)
    return headers


@pytest.mark.parametrize("route, who", [pytest.param(r, w, id=f"{r[0]}-{w}") for r in _routes() for w in WHO])
def test_permission_matrix(app, client, wallets, route, who):
    name, method, path, body, expected = route
    expected = {**expected, "anonymous": 401}[who]
    before = shop_snapshot(app)
    response = client.open(path, method=method.upper(), headers=wallets[who], json=body)
    assert response.status_code == expected, (name, who, response.get_json())
    assert response.get_json()["status"]["code"] == expected
    if expected >= 400:
        assert shop_snapshot(app) == before, f"{name} by {who} was refused but changed data"


def test_every_accounts_route_is_in_the_matrix(app):
    covered = {(method.upper(), path) for _, method, path, *_ in _routes()}
    rules = {(m, r.rule) for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] == "accounts"
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert rules == covered
