"""The payment provider's webhook: the only way money enters outside development. Signed (HMAC-SHA256 over
"<t>.<body>"), bounded in time, idempotent by the provider's event id; any bad signature is a 401 that changes
nothing."""

import json
import time

import pytest
from sqlalchemy import select

from tests.factories import data_of, make_user, run_concurrently, table_counts
from torium_api import clock
from torium_api.accounts.models import Account, LedgerEntry
from torium_api.config import DEV_WEBHOOK_SECRET, ConfigError, load_config, validate
from torium_api.extensions import db
from torium_api.payments.models import PaymentEvent
from torium_api.payments.signature import BadSignature, header_for, sign, verify

PATH = "/payments/webhook"


def _event(user_id: int, amount: int = 5_000, event_id: str = "evt_1", type_: str = "payment.succeeded", **data):
    return {"id": event_id, "type": type_, "created": int(time.time()),
            "data": {"user_id": user_id, "amount_cents": amount, "currency": "PLN", "payment_id": "pay_1", **data}}


def _post(client, event, *, secret: str = DEV_WEBHOOK_SECRET, timestamp: int | None = None, header: str | None = None,
          body: bytes | None = None, **headers):
    raw = body if body is not None else json.dumps(event).encode()
    signed = header if header is not None else header_for(secret, timestamp or int(time.time()), raw)
    return client.post(PATH, data=raw, content_type="application/json",
                       headers={"Torium-Signature": signed, **headers})


def _balance(app, user_id) -> int:
    with app.app_context():
        return db.session.scalar(select(Account.balance_cents).where(Account.user_id == user_id)) or 0


@pytest.fixture
def payer(app):
    return make_user(app, "payer@example.com")


def test_a_signed_successful_payment_credits_the_wallet_once(app, client, payer):
    response = _post(client, _event(payer))
    assert data_of(response) == {"event_id": "evt_1", "credited": True, "duplicate": False}
    assert _balance(app, payer) == 5_000
    with app.app_context():
        entry = db.session.scalar(select(LedgerEntry))
        event = db.session.scalar(select(PaymentEvent))
        assert (entry.kind.value, entry.amount_cents, entry.reference) == ("deposit", 5_000, f"payment:{event.id}")
        assert (event.provider_event_id, event.user_id, event.amount_cents, event.credited) == \
            ("evt_1", payer, 5_000, True)


def test_a_redelivery_changes_nothing_and_answers_200(app, client, payer):
    assert _post(client, _event(payer)).status_code == 200
    before = table_counts(app)
    again = _post(client, _event(payer), timestamp=int(time.time()) + 5)  # re-signed later, as a provider retries
    assert data_of(again) == {"event_id": "evt_1", "credited": True, "duplicate": True}
    assert table_counts(app) == before and _balance(app, payer) == 5_000


def test_concurrent_deliveries_of_one_event_credit_once(app, payer):
    responses = run_concurrently(*[lambda: _post(app.test_client(), _event(payer))] * 8)
    assert [r.status_code for r in responses] == [200] * 8
    assert sum(not r.get_json()["data"]["duplicate"] for r in responses) == 1
    assert _balance(app, payer) == 5_000


def test_many_events_at_once_each_credit_exactly(app, payer):
    calls = [lambda i=i: _post(app.test_client(), _event(payer, amount=100 + i, event_id=f"evt_{i}"))
             for i in range(20)]
    assert {r.status_code for r in run_concurrently(*calls)} == {200}
    assert _balance(app, payer) == sum(100 + i for i in range(20))


@pytest.mark.parametrize("case", ["missing", "empty", "garbage", "no v1", "no t", "two t", "not hex", "wrong secret",
                                  "tampered body", "stale", "future", "too long", "signed other timestamp"])
def test_any_bad_signature_is_401_and_changes_nothing(app, client, payer, case):
    event, now = _event(payer), int(time.time())
    raw = json.dumps(event).encode()
    good = sign(DEV_WEBHOOK_SECRET, now, raw)
    headers = {
        "missing": None, "empty": "", "garbage": "nonsense", "no v1": f"t={now}", "no t": f"v1={good}",
        "two t": f"t={now},t={now},v1={good}", "not hex": f"t={now},v1={'z' * 64}",
        "wrong secret": header_for("whsec_someone_else_entirely_0000", now, raw),
        "tampered body": header_for(DEV_WEBHOOK_SECRET, now, raw.replace(b"5000", b"9000")),
        "stale": header_for(DEV_WEBHOOK_SECRET, now - 301, raw),
        "future": header_for(DEV_WEBHOOK_SECRET, now + 301, raw),
        "too long": f"t={now}," + ",".join([f"v1={good}"] * 20),
        "signed other timestamp": f"t={now - 10},v1={good}",
    }
    before = table_counts(app)
    header = headers[case]
    response = client.post(PATH, data=raw, content_type="application/json",
                           headers={} if header is None else {"Torium-Signature": header})
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["status"]["message"].startswith("Invalid webhook signature: ")
    assert response.headers["WWW-Authenticate"].startswith("Torium-Signature")
    assert table_counts(app) == before and _balance(app, payer) == 0


def test_the_window_is_the_configured_tolerance_both_ways(app, client, payer, monkeypatch):
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    t = int(now.timestamp())
    assert _post(client, _event(payer, event_id="early"), timestamp=t - 299).status_code == 200
    assert _post(client, _event(payer, event_id="late"), timestamp=t + 299).status_code == 200
    monkeypatch.setitem(app.config, "PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 10)
    assert _post(client, _event(payer, event_id="old"), timestamp=t - 11).status_code == 401
    assert _balance(app, payer) == 2 * 5_000


def test_a_user_token_is_not_a_signature(app, client, tokens, payer):
    raw = json.dumps(_event(payer)).encode()
    response = client.post(PATH, data=raw, content_type="application/json",
                           headers=tokens.headers("payer@example.com", groups=["admin"]))
    assert response.status_code == 401 and _balance(app, payer) == 0


def test_either_of_two_secrets_verifies_while_one_is_rotated_out(app, client, payer, monkeypatch):
    old, new = "whsec_old_secret_000000000000000", "whsec_new_secret_111111111111111"
    monkeypatch.setitem(app.config, "PAYMENT_WEBHOOK_SECRET", [new, old])
    assert _post(client, _event(payer, event_id="a"), secret=old).status_code == 200
    assert _post(client, _event(payer, event_id="b"), secret=new).status_code == 200
    raw, now = json.dumps(_event(payer, event_id="c")).encode(), int(time.time())
    both = f"t={now},v1={sign('whsec_unknown_0000000000000000000', now, raw)},v1={sign(new, now, raw)}"
    assert _post(client, None, body=raw, header=both).status_code == 200
    assert _post(client, _event(payer, event_id="d"), secret=DEV_WEBHOOK_SECRET).status_code == 401
    assert _balance(app, payer) == 3 * 5_000


@pytest.mark.parametrize("change, field", [
    ({"user_id": 999_999}, "data.user_id"), ({"currency": "EUR"}, "data.currency"),
])
def test_a_payment_that_cannot_be_credited_is_422_and_recorded_nowhere(app, client, payer, change, field):
    before = table_counts(app)
    event = _event(payer)
    event["data"].update(change)
    response = _post(client, event)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert table_counts(app) == before


def test_a_payment_for_an_erased_user_is_refused(app, client, tokens):
    user_id, headers = tokens.user("gone@example.com")
    assert client.delete("/users/me", headers=headers).status_code == 200
    response = _post(client, _event(user_id))
    assert response.status_code == 422 and _balance(app, user_id) == 0


@pytest.mark.parametrize("body", [
    {"id": "evt_x", "type": "payment.succeeded", "data": {"user_id": 1, "amount_cents": 1.5, "currency": "PLN"}},
    {"id": "evt_x", "type": "payment.succeeded", "data": {"user_id": 1, "amount_cents": "100", "currency": "PLN"}},
    {"id": "evt_x", "type": "payment.succeeded", "data": {"user_id": 1, "amount_cents": -5, "currency": "PLN"}},
    {"id": "evt_x", "type": "payment.succeeded", "data": {"user_id": 1, "currency": "PLN"}},
    {"id": "evt x!", "type": "payment.succeeded", "data": {}},
    {"id": "evt_x", "type": "payment.succeeded", "data": {}, "balance_cents": 10**9},
])
def test_a_signed_but_invalid_body_is_422_and_changes_nothing(app, client, payer, body):
    before = table_counts(app)
    body = json.loads(json.dumps(body).replace('"user_id": 1', f'"user_id": {payer}'))
    assert _post(client, body).status_code == 422
    assert table_counts(app) == before


def test_other_event_types_are_kept_and_credit_nothing(app, client, payer):
    event = {"id": "evt_f", "type": "payment.failed", "created": 1, "data": {"payment_id": "pay_9"}}
    assert data_of(_post(client, event)) == {"event_id": "evt_f", "credited": False, "duplicate": False}
    assert data_of(_post(client, event))["duplicate"] is True
    assert _balance(app, payer) == 0


def test_verify_returns_the_signed_time_and_checks_every_part():
    body, secret = b'{"a":1}', "whsec_unit_000000000000000000000"
    assert verify(header_for(secret, 1_000, body), body, [secret], now=1_100, tolerance=300) == 1_000
    for header in (None, "", "t=1000", f"t=1000,v1={sign(secret, 1000, body)[:-1]}",
                   f"t=-5,v1={sign(secret, -5, body)}", f"t=1000,v1={sign(secret, 1000, body).upper()}"):
        with pytest.raises(BadSignature):
            verify(header, body, [secret], now=1_100, tolerance=300)


# --- deposits from nowhere: development and the demo only ------------------------------------------------------

def test_deposits_are_refused_where_they_are_off(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "DEPOSITS_ENABLED", False)
    before = table_counts(app)
    response = client.post("/accounts/me/deposits", headers=user[1], json={"amount_cents": 100})
    assert response.status_code == 403
    assert response.get_json()["status"]["message"] == \
        "Deposits are disabled: money enters through the payment provider"
    assert table_counts(app) == before


def test_deposits_are_on_only_in_development_and_refused_in_production():
    assert load_config({"TORIUM_ENV": "development"})["DEPOSITS_ENABLED"] is True
    assert load_config({"TORIUM_ENV": "production"})["DEPOSITS_ENABLED"] is False
    assert load_config({"TORIUM_ENV": "development", "DEPOSITS_ENABLED": "false"})["DEPOSITS_ENABLED"] is False


def test_production_needs_a_real_webhook_secret_and_no_deposits():
    from tests.test_deploy import PRODUCTION

    validate(load_config(PRODUCTION))
    for change, message in (({"PAYMENT_WEBHOOK_SECRET": ""}, "PAYMENT_WEBHOOK_SECRET is required"),
                            ({"PAYMENT_WEBHOOK_SECRET": "short"}, "PAYMENT_WEBHOOK_SECRET must be"),
                            ({"PAYMENT_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET}, "PAYMENT_WEBHOOK_SECRET must be"),
                            ({"DEPOSITS_ENABLED": "true"}, "DEPOSITS_ENABLED must be off"),
                            ({"PLATFORM_FEE_BPS": "10001"}, "PLATFORM_FEE_BPS must be")):
        with pytest.raises(ConfigError, match=message) as error:
            validate(load_config({**PRODUCTION, **change}))
        assert PRODUCTION["PAYMENT_WEBHOOK_SECRET"] not in str(error.value)


def test_a_redelivery_after_the_user_left_is_still_just_acknowledged(app, client, tokens):
    user_id, headers = tokens.user("paid-then-left@example.com")
    assert _post(client, _event(user_id, event_id="evt_before")).status_code == 200
    client.post("/accounts/me/withdrawals", headers=headers, json={"amount_cents": 5_000})
    assert client.delete("/users/me", headers=headers).status_code == 200
    again = _post(client, _event(user_id, event_id="evt_before"))
    assert again.status_code == 200 and again.get_json()["data"]["duplicate"] is True  # the provider may stop
