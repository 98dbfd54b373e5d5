"""Wallets: balance and ledger move together, never below zero; amounts are strict; retries are safe."""

import pytest
from sqlalchemy import func, select

from tests.factories import data_of, run_concurrently
from torium_api.accounts.models import Account, LedgerEntry
from torium_api.extensions import db
from torium_api.idempotency import IdempotencyRecord


def _deposit(client, headers, amount, **extra):
    return client.post("/accounts/me/deposits", headers={**headers, **extra}, json={"amount_cents": amount})


def _withdraw(client, headers, amount, **extra):
    return client.post("/accounts/me/withdrawals", headers={**headers, **extra}, json={"amount_cents": amount})


def _balance(client, headers) -> int:
    return data_of(client.get("/accounts/me", headers=headers))["balance_cents"]


def _invariant(app) -> list:
    """Accounts whose balance differs from their ledger's sum (must be none) and any negative balance."""
    with app.app_context():
        sums = (select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents).label("total"))
                .group_by(LedgerEntry.account_id).subquery())
        return db.session.execute(select(Account.id).outerjoin(sums, sums.c.account_id == Account.id).where(
            (func.coalesce(sums.c.total, 0) != Account.balance_cents) | (Account.balance_cents < 0))).all()


def test_deposit_and_withdraw_move_balance_and_ledger_together(client, user):
    headers = user[1]
    assert _balance(client, headers) == 0
    deposit = data_of(_deposit(client, headers, 10_000), 201)
    assert deposit["entry"]["kind"] == "deposit" and deposit["entry"]["amount_cents"] == 10_000
    assert deposit["account"] == {"balance_cents": 10_000, "currency": "PLN"}
    withdrawal = data_of(_withdraw(client, headers, 2_500), 201)
    assert withdrawal["entry"]["amount_cents"] == -2_500 and withdrawal["entry"]["balance_after_cents"] == 7_500
    ledger = data_of(client.get("/accounts/me/transactions", headers=headers))["items"]
    assert [e["kind"] for e in ledger] == ["withdrawal", "deposit"]  # newest first
    assert _balance(client, headers) == sum(e["amount_cents"] for e in ledger) == 7_500


def test_withdrawing_more_than_the_balance_is_409_and_changes_nothing(app, client, user):
    _deposit(client, user[1], 1_000)
    response = _withdraw(client, user[1], 1_001)
    assert response.status_code == 409
    assert response.get_json()["status"]["message"] == "Insufficient funds: the balance is 1000, 1001 was asked for"
    assert _balance(client, user[1]) == 1_000
    assert len(data_of(client.get("/accounts/me/transactions", headers=user[1]))["items"]) == 1


@pytest.mark.parametrize("raw", ['"50"', "1e309", "0.001", "-0", "NaN", "1.5", "true", "0", "-5", "100000001",
                                 "null", "[]", "{}"])
def test_bad_amounts_are_422_and_change_nothing(app, client, user, raw):
    _deposit(client, user[1], 500)
    for path in ("/accounts/me/deposits", "/accounts/me/withdrawals"):
        response = client.post(path, data=f'{{"amount_cents": {raw}}}', content_type="application/json",
                               headers=user[1])
        assert response.status_code == 422, (path, raw, response.get_json())
    assert _balance(client, user[1]) == 500


def test_extra_fields_cannot_set_a_balance(client, user):
    response = client.post("/accounts/me/deposits", headers=user[1], json={"amount_cents": 1, "balance_cents": 10**9})
    assert response.status_code == 422
    assert _balance(client, user[1]) == 0


def test_concurrent_deposits_and_withdrawals_end_exact(app, client, user):
    headers = user[1]
    _deposit(client, headers, 100)
    deposits = [lambda: _deposit(app.test_client(), headers, 1).status_code] * 50
    withdrawals = [lambda: _withdraw(app.test_client(), headers, 2).status_code] * 20
    statuses = run_concurrently(*deposits, *withdrawals)
    assert statuses == [201] * 70
    assert _balance(client, headers) == 100 + 50 - 40
    assert _invariant(app) == []


def test_concurrent_withdrawals_never_overdraw(app, client, user):
    headers = user[1]
    _deposit(client, headers, 50)
    statuses = run_concurrently(*[lambda: _withdraw(app.test_client(), headers, 10).status_code] * 12)
    assert sorted(statuses) == [201] * 5 + [409] * 7
    assert _balance(client, headers) == 0
    assert _invariant(app) == []


def test_the_same_idempotency_key_replays_the_first_response(app, client, user):
    first = _deposit(client, user[1], 700, **{"Idempotency-Key": "dep-1"})
    again = _deposit(client, user[1], 700, **{"Idempotency-Key": "dep-1"})
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data() and again.headers["Idempotent-Replayed"] == "true"
    assert _balance(client, user[1]) == 700
    different = _deposit(client, user[1], 800, **{"Idempotency-Key": "dep-1"})
    assert different.status_code == 422
    assert _balance(client, user[1]) == 700


def test_keys_are_per_user_and_per_route(client, tokens):
    _, ada = tokens.user("ada@example.com")
    _, bob = tokens.user("bob@example.com")
    assert _deposit(client, ada, 300, **{"Idempotency-Key": "k"}).status_code == 201
    assert _deposit(client, bob, 300, **{"Idempotency-Key": "k"}).status_code == 201
    assert _withdraw(client, ada, 300, **{"Idempotency-Key": "k"}).status_code == 201  # another route
    assert _balance(client, ada) == 0 and _balance(client, bob) == 300


def test_concurrent_requests_with_one_key_have_one_effect(app, client, user):
    calls = [lambda: _deposit(app.test_client(), user[1], 250, **{"Idempotency-Key": "race"})] * 8
    responses = run_concurrently(*calls)
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_data() for r in responses}) == 1
    assert _balance(client, user[1]) == 250


def test_a_failed_request_does_not_burn_its_key(app, client, user):
    assert _withdraw(client, user[1], 100, **{"Idempotency-Key": "w1"}).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    _deposit(client, user[1], 100)
    assert _withdraw(client, user[1], 100, **{"Idempotency-Key": "w1"}).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 101, "has space", "ünïcode"])
def test_malformed_idempotency_keys_are_422(client, user, key):
    response = client.post("/accounts/me/deposits", headers={**user[1], "Idempotency-Key": key},
                           json={"amount_cents": 1})
    assert response.status_code == 422
    assert _balance(client, user[1]) == 0


def test_ledger_pages_are_newest_first_and_complete(client, user):
    for amount in range(1, 46):
        _deposit(client, user[1], amount)
    seen, cursor = [], None
    while True:
        page = data_of(client.get("/accounts/me/transactions?limit=10" + (f"&cursor={cursor}" if cursor else ""),
                                headers=user[1]))
        seen += [e["amount_cents"] for e in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == list(range(45, 0, -1))


def test_admins_list_customers_with_balances_searchable_and_paged(client, tokens):
    admin = tokens.headers("boss@example.com", groups=["admin"])
    for i in range(12):
        _, headers = tokens.user(f"client{i}@example.com")
        _deposit(client, headers, 100 + i)
    page = data_of(client.get("/accounts?q=CLIENT1&limit=5", headers=admin))
    assert [c["email"] for c in page["items"]] == ["client1@example.com", "client10@example.com",
                                                  "client11@example.com"]
    assert page["items"][0] == {"user_id": page["items"][0]["user_id"], "email": "client1@example.com",
                                "balance_cents": 101, "currency": "PLN"}
    emails, cursor = [], None
    while True:
        page = data_of(client.get("/accounts?limit=5" + (f"&cursor={cursor}" if cursor else ""), headers=admin))
        emails += [c["email"] for c in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert len(emails) == len(set(emails)) == 13  # 12 clients and the admin
    assert client.get("/accounts?q=%25", headers=admin).get_json()["data"]["items"] == []  # % is literal
