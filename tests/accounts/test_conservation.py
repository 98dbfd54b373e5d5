"""Money is conserved exactly, under concurrency: the sum of every wallet plus the platform's accounts (fees and
escrow) equals what entered (the provider's credited payments) minus what left (payouts not returned), to the minor
unit, while many buyers, sellers and admins act at once on real threads with their own database connections:
payments arriving (some twice), orders placed, the saga's steps, cancellations, refunds racing the sellers'
withdrawals, payouts paid or failed, corrections. Every account's balance is the sum of its ledger and never
negative; every order's entries sum to zero; escrow holds exactly the orders paid and not completed."""

import itertools
import json
import random
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.factories import make_product, run_concurrently
from torium_api.accounts.models import Account, AccountKind, EntryKind, LedgerEntry, Payout, PayoutStatus
from torium_api.config import DEV_WEBHOOK_SECRET
from torium_api.database import transaction
from torium_api.extensions import db
from torium_api.orders import services as orders
from torium_api.orders.models import Order, OrderLine, OrderStatus
from torium_api.payments.models import PaymentEvent
from torium_api.payments.signature import header_for
from torium_api.products.models import Product

BUYERS, SELLERS, ORDERS_EACH, STOCK = 24, 6, 3, 1_000
ADDRESS = {"name": "C", "line1": "x", "city": "y", "postal_code": "00-001", "country": "PL"}
WHY = {"reason": "conservation test"}


def _pay(client, user_id: int, amount: int, event_id: str):
    raw = json.dumps({"id": event_id, "type": "payment.succeeded", "created": 1,
                      "data": {"user_id": user_id, "amount_cents": amount, "currency": "PLN"}}).encode()
    return client.post("/payments/webhook", data=raw, content_type="application/json",
                       headers={"Torium-Signature": header_for(DEV_WEBHOOK_SECRET, int(time.time()), raw)})


def _step(app, step, order_id):
    def run():
        with app.app_context(), transaction():
            step(order_id)
    return run


def _books(app) -> dict:
    """Every invariant, computed from independent sources (payment events and payouts, not only the ledger)."""
    with app.app_context():
        entered = db.session.scalar(select(func.coalesce(func.sum(PaymentEvent.amount_cents), 0))
                                    .where(PaymentEvent.credited))
        left = db.session.scalar(select(func.coalesce(func.sum(Payout.amount_cents), 0))
                                 .where(Payout.status != PayoutStatus.FAILED))
        adjusted = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                                     .where(LedgerEntry.kind == EntryKind.ADJUSTMENT))
        held = db.session.scalar(select(func.coalesce(func.sum(Account.balance_cents), 0)))
        ledger = (select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents).label("total"))
                  .group_by(LedgerEntry.account_id).subquery())
        mismatched = db.session.execute(select(Account.id).outerjoin(ledger, ledger.c.account_id == Account.id).where(
            (func.coalesce(ledger.c.total, 0) != Account.balance_cents) | (Account.balance_cents < 0))).all()
        unbalanced_orders = db.session.execute(
            select(LedgerEntry.reference).where(LedgerEntry.reference.like("order:%"))
            .group_by(LedgerEntry.reference).having(func.sum(LedgerEntry.amount_cents) != 0)).all()
        escrow = db.session.scalar(select(func.coalesce(func.sum(Account.balance_cents), 0))
                                   .where(Account.kind == AccountKind.ESCROW))
        paid = db.session.scalar(select(func.coalesce(func.sum(Order.total_cents), 0))
                                 .where(Order.status == OrderStatus.PAID))
        taken = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(Order).where(
            Order.status.notin_((OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.CANCELLED))))
        stock = db.session.scalar(select(func.sum(Product.stock)))
        products = db.session.scalar(select(func.count()).select_from(Product))
    return {"entered": entered, "left": left, "adjusted": adjusted, "held": held, "mismatched": mismatched,
            "unbalanced_orders": unbalanced_orders, "escrow": escrow, "paid": paid,
            "stock_missing": products * STOCK - stock - taken}


def _assert_conserved(app) -> dict:
    books = _books(app)
    assert books["held"] == books["entered"] - books["left"] + books["adjusted"], books
    assert books["mismatched"] == [] and books["unbalanced_orders"] == [], books
    assert books["escrow"] == books["paid"] and books["stock_missing"] == 0, books
    return books


@pytest.mark.parametrize("seed", [7, 2026])
def test_money_is_conserved_exactly_under_concurrency(app, tokens, monkeypatch, seed, capsys):
    rng = random.Random(seed)
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BPS", 333)  # 3.33 %: fees that round
    monkeypatch.setitem(app.config, "RATELIMIT_ORDERS", "1000/minute")
    admin = tokens.user("admin@conservation.example", groups=["admin"])[1]
    sellers = [tokens.user(f"seller{i}@conservation.example", groups=["seller"]) for i in range(SELLERS)]
    buyers = [tokens.user(f"buyer{i}@conservation.example") for i in range(BUYERS)]
    products = [make_product(app, seller_id, name=f"P{i}{j}", price_cents=999 + 37 * i + 101 * j, stock=STOCK)
                for i, (seller_id, _) in enumerate(sellers) for j in range(2)]
    for _, headers in (*sellers, *buyers, (None, admin)):
        app.test_client().get("/users", headers=headers)
    counter = itertools.count()

    def place(headers):
        lines = [{"product_id": p, "quantity": rng.randint(1, 3)} for p in rng.sample(products, rng.randint(1, 3))]
        return app.test_client().post("/orders", headers=headers, json={"lines": lines, "shipping_address": ADDRESS})

    # 1. Payments arrive (a third of them twice) while every buyer places their orders.
    payments = [(buyer_id, rng.randint(2_000, 12_000), f"evt_{seed}_{next(counter)}") for buyer_id, _ in buyers
                for _ in range(2)]  # not always enough for three orders: some fail for insufficient funds
    deliveries = payments + rng.sample(payments, len(payments) // 3)
    calls = [lambda p=p: _pay(app.test_client(), *p) for p in deliveries]
    calls += [lambda h=h: place(h) for _, h in buyers for _ in range(ORDERS_EACH)]
    rng.shuffle(calls)
    first = run_concurrently(*calls)
    assert {r.status_code for r in first} <= {200, 202}, Counter(r.status_code for r in first)
    _assert_conserved(app)
    with app.app_context():
        order_ids = db.session.scalars(select(Order.id).order_by(Order.id)).all()

    # 2. The saga's steps, in parallel and shuffled, while buyers cancel some orders and more payments arrive.
    with app.app_context():
        owner = {o: next(h for uid, h in buyers if uid == u)
                 for o, u in db.session.execute(select(Order.id, Order.user_id))}
    steps = [[_step(app, s, o) for s in (orders.reserve_stock, orders.charge, orders.ship)] for o in order_ids]
    cancels = [lambda o=o: app.test_client().post(f"/orders/{o}/cancel", headers=owner[o])
               for o in rng.sample(order_ids, len(order_ids) // 6)]
    chains = [lambda chain=chain: [step() for step in chain] for chain in steps]
    late = [lambda p=p: _pay(app.test_client(), *p) for p in
            [(b, rng.randint(100, 900), f"evt_{seed}_{next(counter)}") for b, _ in rng.sample(buyers, 8)]]
    run_concurrently(*rng.sample(chains + cancels + late, len(chains + cancels + late)))
    _assert_conserved(app)

    # 3. Admins refund completed orders while their sellers withdraw everything they can, payouts are decided,
    #    balances corrected.
    with app.app_context():
        done = db.session.scalars(select(Order.id).where(Order.status == OrderStatus.COMPLETED)).all()
        balances = dict(db.session.execute(select(Account.user_id, Account.balance_cents)
                                           .where(Account.user_id.is_not(None))).all())
    refunds = [lambda o=o, cover=rng.random() < 0.5: app.test_client().post(
        f"/admin/orders/{o}/refund", headers=admin, json={**WHY, "cover_shortfall": cover})
        for o in rng.sample(done, len(done) // 3)]
    withdrawals = [lambda h=h, a=max(balances.get(uid, 0) // 2, 1): app.test_client().post(
        "/accounts/me/withdrawals", headers=h, json={"amount_cents": a}) for uid, h in sellers for _ in range(2)]
    spending = [lambda h=h: app.test_client().post("/accounts/me/withdrawals", headers=h, json={"amount_cents": 999})
                for _, h in rng.sample(buyers, 6)]
    corrections = [lambda u=u, a=a: app.test_client().post(f"/admin/users/{u}/adjustments", headers=admin,
                                                           json={"amount_cents": a, **WHY})
                   for (u, _), a in zip(rng.sample(buyers, 4), (250, -100, 1, -7), strict=True)]
    third = run_concurrently(*rng.sample(refunds + withdrawals + spending + corrections,
                                         len(refunds + withdrawals + spending + corrections)))
    assert {r.status_code for r in third} <= {200, 201, 409}, Counter(r.status_code for r in third)
    with app.app_context():
        requested = db.session.scalars(select(Payout.id).where(Payout.status == PayoutStatus.REQUESTED)).all()
    decisions = [lambda p=p, s=rng.choice(["paid", "failed"]): app.test_client().patch(
        f"/admin/payouts/{p}", headers=admin, json={"status": s, **WHY}) for p in requested]
    more_refunds = [lambda o=o: app.test_client().post(f"/admin/orders/{o}/refund", headers=admin,
                                                       json={**WHY, "cover_shortfall": True}) for o in done]
    fourth = run_concurrently(*rng.sample(decisions + more_refunds, len(decisions + more_refunds)))
    assert {r.status_code for r in fourth} <= {200, 409}, Counter(r.status_code for r in fourth)
    books = _assert_conserved(app)

    with app.app_context():
        outcome = Counter(s.value for s in db.session.scalars(select(Order.status)))
        covered = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.kind == EntryKind.SHORTFALL_COVER))
    assert outcome["refunded"] >= 5 and outcome["failed"] >= 1 and outcome["cancelled"] >= 1
    assert outcome["completed"] + outcome["refunded"] >= len(order_ids) // 3
    assert books["escrow"] == 0  # every order finished its saga: nothing held
    threads = len(calls) + len(chains + cancels + late) + len(third) + len(fourth)
    with capsys.disabled():
        print(f"\n[conservation seed={seed}] buyers={BUYERS} sellers={SELLERS} orders={len(order_ids)} "
              f"{dict(outcome)} refund attempts={len(refunds) + len(more_refunds)} shortfalls covered={covered} "
              f"payouts={len(requested)} threads={threads} entered={books['entered']} left={books['left']} "
              f"adjusted={books['adjusted']} held={books['held']}")
