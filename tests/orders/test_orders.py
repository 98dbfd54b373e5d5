"""Orders and the fulfilment saga, end to end through the outbox, moto's SQS and the worker."""

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.factories import data_of, run_background, run_concurrently
from torium_api import clock, queues, workers
from torium_api.accounts.models import Account, LedgerEntry
from torium_api.dev.local_aws import sent_notifications
from torium_api.extensions import db
from torium_api.orders.models import Order
from torium_api.outbox import emit
from torium_api.outbox.models import OutboxMessage
from torium_api.products.models import Product

ADDRESS = {"name": "Ada Lovelace", "line1": "Krupówki 1", "city": "Zakopane", "postal_code": "34-500",
           "country": "PL"}




def _customer(client, tokens, email="ada@example.com", money=100_000):
    user_id, headers = tokens.user(email)
    if money:
        client.post("/accounts/me/deposits", headers=headers, json={"amount_cents": money})
    return user_id, headers


def _place(client, headers, *lines, **extra):
    body = {"lines": [{"product_id": p, "quantity": q} for p, q in lines], "shipping_address": ADDRESS}
    return client.post("/orders", headers={**headers, **extra}, json=body)


def _balance(client, headers):
    return data_of(client.get("/accounts/me", headers=headers))["balance_cents"]


def _stock(app, product_id):
    with app.app_context():
        return db.session.get(Product, product_id).stock


def test_an_order_is_priced_by_the_server_and_completes(app, client, tokens, store):
    _, headers = _customer(client, tokens)
    response = _place(client, headers, (store["wax"], 2), (store["helmet"], 1), (store["wax"], 1))
    order = data_of(response, 202)
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert order["status"] == "pending" and order["total_cents"] == 3 * 1999 + 30000
    assert [(line["product_name"], line["quantity"], line["unit_price_cents"]) for line in order["lines"]] == [
        ("Wax", 3, 1999), ("Helmet", 1, 30000)]
    run_background(app)
    done = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert done["status"] == "completed" and done["tracking_number"].startswith("TRM")
    assert _balance(client, headers) == 100_000 - order["total_cents"]
    assert (_stock(app, store["wax"]), _stock(app, store["helmet"])) == (7, 2)
    ledger = data_of(client.get("/accounts/me/transactions", headers=headers))["items"]
    assert ledger[0]["kind"] == "payment" and ledger[0]["reference"] == f"order:{order['id']}"


@pytest.mark.parametrize("body", [
    {"lines": []}, {"lines": [{"product_id": 1, "quantity": 0}]}, {"lines": [{"product_id": 1, "quantity": -1}]},
    {"lines": [{"product_id": 1, "quantity": 1.5}]}, {"lines": [{"product_id": 1, "quantity": "2"}]},
    {"lines": [{"product_id": 1, "quantity": 1001}]}, {"lines": [{"product_id": 1, "quantity": 600}] * 2},
    {"lines": [{"product_id": 1, "quantity": 1}] * 51}, {"lines": [{"product_id": 999, "quantity": 1}]},
    {"lines": [{"product_id": 1, "quantity": 1, "price_cents": 1}]}, {"status": "completed"},
    {"total_cents": 1}, {"user_id": 2}, {"id": 7}, {"shipping_address": {**ADDRESS, "country": "Poland"}},
    {"shipping_address": {"name": "x"}}, {"shipping_address": None},
])
def test_bad_orders_are_422_and_create_nothing(app, client, tokens, store, body):
    _, headers = _customer(client, tokens)
    full = {"lines": [{"product_id": store["wax"], "quantity": 1}], "shipping_address": ADDRESS, **body}
    full["lines"] = [{**line, "product_id": store["wax"] if line["product_id"] == 1 else line["product_id"]}
                     for line in full["lines"]]
    response = client.post("/orders", headers=headers, json=full)
    assert response.status_code == 422, response.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_an_unlisted_product_cannot_be_ordered(client, tokens, store):
    _, headers = _customer(client, tokens)
    client.delete(f"/products/{store['helmet']}", headers=store["seller"])
    response = _place(client, headers, (store["wax"], 1), (store["helmet"], 1))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"lines": [f"Unknown or unavailable products: {store['helmet']}"]}


def test_insufficient_funds_fails_the_order_and_changes_nothing(app, client, tokens, store):
    _, headers = _customer(client, tokens, money=1000)
    order = data_of(_place(client, headers, (store["wax"], 1)), 202)
    run_background(app)
    failed = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert (failed["status"], failed["failure_reason"]) == ("failed", "insufficient_funds")
    assert _balance(client, headers) == 1000 and _stock(app, store["wax"]) == 10


def test_out_of_stock_names_the_products_and_reserves_nothing(app, client, tokens, store):
    _, headers = _customer(client, tokens)
    order = data_of(_place(client, headers, (store["wax"], 2), (store["helmet"], 4)), 202)
    run_background(app)
    failed = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert failed["failure_reason"] == "out_of_stock" and failed["failure_detail"] == {"product_ids": [store["helmet"]]}
    assert (_stock(app, store["wax"]), _stock(app, store["helmet"])) == (10, 3)
    assert _balance(client, headers) == 100_000


def test_a_product_withdrawn_after_ordering_fails_as_unavailable(app, client, tokens, store):
    _, headers = _customer(client, tokens)
    order = data_of(_place(client, headers, (store["wax"], 1), (store["helmet"], 1)), 202)
    client.delete(f"/products/{store['helmet']}", headers=store["seller"])
    run_background(app)
    failed = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert failed["failure_reason"] == "product_unavailable" and _stock(app, store["wax"]) == 10


def test_fifty_concurrent_orders_for_ten_units(app, client, tokens, store):
    buyers = [_customer(client, tokens, email=f"buyer{i}@example.com", money=5000) for i in range(50)]
    responses = run_concurrently(*[lambda h=h: _place(app.test_client(), h, (store["wax"], 1))
                                   for _, h in buyers])
    assert {r.status_code for r in responses} == {202}
    run_background(app, rounds=30)
    with app.app_context():
        outcomes = db.session.execute(select(Order.status, Order.failure_reason, func.count())
                                      .group_by(Order.status, Order.failure_reason)).all()
        paid = db.session.scalar(select(func.count()).select_from(LedgerEntry).join(Account).where(
            LedgerEntry.kind == "payment", Account.user_id.is_not(None)))  # the buyers' side (escrow has the other)
    assert sorted((s.value, r.value if r else None, n) for s, r, n in outcomes) == [
        ("completed", None, 10), ("failed", "out_of_stock", 40)]
    assert _stock(app, store["wax"]) == 0 and paid == 10
    balances = sorted(_balance(client, h) for _, h in buyers)
    assert balances == [5000 - 1999] * 10 + [5000] * 40


def test_the_same_step_delivered_twice_or_concurrently_has_one_effect(app, client, tokens, store):
    _, headers = _customer(client, tokens)
    order = data_of(_place(client, headers, (store["wax"], 2)), 202)
    with app.app_context():
        for _ in range(3):  # three more copies of "placed", as a re-driving reaper or a duplicate would
            emit("orders.placed", {"order_id": order["id"]}, queue=queues.ORDERS, group_id=f"order:{order['id']}")
        db.session.commit()
    run_background(app)
    with app.app_context():
        for _ in range(2):
            emit("orders.stock_reserved", {"order_id": order["id"]}, queue=queues.ORDERS, group_id="dup")
            emit("orders.paid", {"order_id": order["id"]}, queue=queues.ORDERS, group_id="dup2")
        db.session.commit()
    run_background(app)
    assert data_of(client.get(f"/orders/{order['id']}", headers=headers))["status"] == "completed"
    assert _stock(app, store["wax"]) == 8
    assert _balance(client, headers) == 100_000 - 2 * 1999


@pytest.mark.parametrize("step", ["orders.placed", "orders.stock_reserved", "orders.paid"])
def test_a_step_that_always_fails_leaves_no_net_effect_and_a_failed_order(app, client, tokens, store, sqs, step,
                                                                          monkeypatch):
    def broken(payload, *, message_id):
        raise RuntimeError("injected failure")

    monkeypatch.setitem(workers.HANDLERS, step, broken)
    _, headers = _customer(client, tokens)
    order = data_of(_place(client, headers, (store["wax"], 3)), 202)
    run_background(app, rounds=20)
    failed = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert (failed["status"], failed["failure_reason"]) == ("failed", "processing_error")
    assert _stock(app, store["wax"]) == 10 and _balance(client, headers) == 100_000
    with app.app_context():
        url = queues.dlq_url(queues.ORDERS)
        dead = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        for message in dead:  # an in-flight FIFO message would block its group for the next test
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert [json.loads(m["Body"])["type"] for m in dead] == [step]  # the poison message is kept for an operator


def test_the_same_idempotency_key_places_one_order(app, client, tokens, store):
    _, headers = _customer(client, tokens)
    first = _place(client, headers, (store["wax"], 1), **{"Idempotency-Key": "order-1"})
    again = _place(client, headers, (store["wax"], 1), **{"Idempotency-Key": "order-1"})
    assert first.status_code == again.status_code == 202 and first.get_data() == again.get_data()
    assert _place(client, headers, (store["wax"], 2), **{"Idempotency-Key": "order-1"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_other_users_orders_do_not_exist_for_them(app, client, tokens, store):
    _, ada = _customer(client, tokens)
    eve_id, eve = _customer(client, tokens, email="eve@example.com")
    order = data_of(_place(client, ada, (store["wax"], 1)), 202)
    for method, path in (("get", ""), ("post", "/cancel"), ("post", "/receipt")):
        response = client.open(f"/orders/{order['id']}{path}", method=method.upper(), headers=eve)
        assert response.status_code == 404, path
    assert data_of(client.get("/orders", headers=eve))["items"] == []
    assert [o["id"] for o in data_of(client.get("/orders", headers=ada))["items"]] == [order["id"]]
    assert client.get("/admin/orders", headers=ada).status_code == 403
    admin = tokens.headers("boss@example.com", groups=["admin"])
    pending = data_of(client.get("/admin/orders?status=pending", headers=admin))["items"]
    assert [o["id"] for o in pending] == [order["id"]]
    ada_id = data_of(client.get("/users", headers=ada))["user_id"]
    assert [o["id"] for o in data_of(client.get(f"/admin/orders?user_id={ada_id}", headers=admin))["items"]] == \
        [order["id"]]  # user_id filters for admins (it used to be refused as a legacy identity claim)
    assert data_of(client.get(f"/admin/orders?user_id={eve_id}", headers=admin))["items"] == []
    assert data_of(client.get(f"/orders/{order['id']}", headers=admin))["id"] == order["id"]
    assert client.get(f"/orders?user_id={eve_id}", headers=ada).status_code == 403  # names someone else


def test_cancelling_refunds_and_restocks_at_once(app, client, tokens, store):
    from torium_api.database import transaction
    from torium_api.orders import services

    _, headers = _customer(client, tokens)
    pending = data_of(_place(client, headers, (store["wax"], 1)), 202)
    assert data_of(client.post(f"/orders/{pending['id']}/cancel", headers=headers))["status"] == "cancelled"
    paid = data_of(_place(client, headers, (store["wax"], 4)), 202)
    with app.app_context(), transaction():
        services.reserve_stock(paid["id"])
    with app.app_context(), transaction():
        services.charge(paid["id"])
    assert _balance(client, headers) == 100_000 - 4 * 1999 and _stock(app, store["wax"]) == 6
    assert data_of(client.post(f"/orders/{paid['id']}/cancel", headers=headers))["status"] == "cancelled"
    assert _balance(client, headers) == 100_000 and _stock(app, store["wax"]) == 10
    run_background(app)  # the saga's remaining messages find a cancelled order and do nothing
    assert _balance(client, headers) == 100_000 and _stock(app, store["wax"]) == 10
    done = data_of(_place(client, headers, (store["wax"], 1)), 202)
    run_background(app)
    response = client.post(f"/orders/{done['id']}/cancel", headers=headers)
    assert response.status_code == 409 and "completed" in response.get_json()["status"]["message"]


def test_receipt_confirmation_and_the_not_received_timeout(app, client, tokens, store, monkeypatch):
    from torium_api.database import transaction
    from torium_api.orders import services

    _, headers = _customer(client, tokens)
    first = data_of(_place(client, headers, (store["wax"], 1)), 202)
    assert client.post(f"/orders/{first['id']}/receipt", headers=headers).status_code == 409  # not delivered yet
    second = data_of(_place(client, headers, (store["wax"], 1)), 202)
    run_background(app)
    assert data_of(client.post(f"/orders/{first['id']}/receipt", headers=headers))["status"] == "received"
    assert data_of(client.post(f"/orders/{first['id']}/receipt", headers=headers))["status"] == "received"
    later = clock.now() + timedelta(seconds=app.config["ORDER_RECEIPT_TIMEOUT_SECONDS"] + 60)
    monkeypatch.setattr(clock, "now", lambda: later)
    with app.app_context(), transaction():
        assert services.expire_receipts() == 1
    assert data_of(client.get(f"/orders/{second['id']}", headers=headers))["status"] == "not_received"


def test_stuck_orders_are_driven_again_then_failed(app, client, tokens, store, monkeypatch):
    from torium_api.database import transaction
    from torium_api.orders import services

    _, headers = _customer(client, tokens)
    order = data_of(_place(client, headers, (store["wax"], 2)), 202)
    with app.app_context():  # the placing message was lost (say, a relay bug): nothing will come
        db.session.execute(update(OutboxMessage).values(sent_at=func.now()))
        db.session.commit()
    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    for _ in range(app.config["ORDER_MAX_RETRIES"] + 1):
        now[0] += timedelta(seconds=app.config["ORDER_STEP_TIMEOUT_SECONDS"] + 1)
        with app.app_context(), transaction():
            assert services.reap_stuck() == 1
    with app.app_context():
        re_driven = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.type == "orders.placed", OutboxMessage.sent_at.is_(None)))
    assert re_driven == app.config["ORDER_MAX_RETRIES"]
    failed = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert (failed["status"], failed["failure_reason"]) == ("failed", "fulfilment_timeout")


def test_status_changes_reach_the_owner_at_the_local_endpoint(app, client, tokens, store, aws_endpoint):
    email = f"notify-{uuid.uuid4().hex[:8]}@example.com"
    _, headers = _customer(client, tokens, email=email)
    order = data_of(_place(client, headers, (store["wax"], 1)), 202)
    run_background(app)
    mails = [s["text"] for s in sent_notifications(aws_endpoint) if s["recipient"] == email]
    assert mails == [f"Order #{order['id']}: pending: We have your order and are preparing it.",
                     f"Order #{order['id']}: reserved: Your items are reserved for you.",
                     f"Order #{order['id']}: paid: Payment received.",
                     f"Order #{order['id']}: completed: Your order is paid and on its way."]


def test_placing_orders_is_rate_limited_per_user(app, client, tokens, store):
    _, headers = _customer(client, tokens)
    app.config["RATELIMIT_ORDERS"] = "3/minute"
    try:
        statuses = [_place(client, headers, (store["wax"], 1)).status_code for _ in range(4)]
    finally:
        app.config["RATELIMIT_ORDERS"] = "30/minute;500/day"
    assert statuses == [202, 202, 202, 429]
