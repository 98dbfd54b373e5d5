"""What both soaks share: the world they build, the mixed load they run over HTTP, and the invariants they check."""

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select, text

from tests.factories import make_group, post_product
from torium_api import clock
from torium_api.database import transaction
from torium_api.events.models import Event, EventReminder
from torium_api.events.services import reminders
from torium_api.extensions import db
from torium_api.orders.models import IN_PROGRESS, Order, OrderLine, OrderStatus
from torium_api.outbox.models import OutboxMessage, ProcessedMessage
from torium_api.products.models import Product

ADDRESS = {"name": "S", "line1": "x", "city": "y", "postal_code": "00-001", "country": "PL"}
STOCK = 150


@dataclass
class World:
    products: list[int]
    event_ids: list[int]
    actions: list = field(repr=False)


def build(app, client, tokens, rng: random.Random) -> World:
    """Products, customers with money, a group with events (their reminders due now) and the actions to mix."""
    seller = tokens.headers("seller@soak.example", groups=["seller"])
    products = [post_product(client, seller, name=f"P{i}", price_cents=100 + i, stock=STOCK)["id"] for i in range(3)]
    customers = [tokens.user(f"c{i}@soak.example") for i in range(12)]
    admin_id, admin = tokens.user("admin@soak.example")
    outsiders = [tokens.user(f"o{i}@soak.example") for i in range(12)]
    group_id = make_group(app, admin_id, members={cid: "standard" for cid, _ in customers})
    body = {"is_budget": True, "budget": "100", "description": "", "name": "Soak", "reminder": "periodical",
            "schedule_period": "1 day", "event_timestamp": "2031-01-01 10:00:00", "users": [c for c, _ in customers]}
    event_ids = [client.post("/event", headers={**admin, "trm-group-id": str(group_id)}, json=body)
                 .get_json()["data"]["id"] for _ in range(5)]
    for _, headers in customers:
        client.post("/accounts/me/deposits", headers=headers, json={"amount_cents": 5_000})

    def order(c):
        lines = [{"product_id": pid, "quantity": rng.randint(1, 3)} for pid in rng.sample(products, rng.randint(1, 3))]
        return c.post("/orders", headers=rng.choice(customers)[1], json={"lines": lines, "shipping_address": ADDRESS})

    def money(c):
        path = rng.choice(["/accounts/me/deposits", "/accounts/me/withdrawals"])
        return c.post(path, headers=rng.choice(customers)[1], json={"amount_cents": rng.randint(1, 400)})

    def invite(c):
        target_id, target = rng.choice(outsiders)
        if rng.random() < 0.5:
            return c.post("/group/members", json={},
                          headers={**admin, "trm-group-id": str(group_id), "trm-user-id": str(target_id)})
        return c.patch("/group/members/status", headers={**target, "trm-group-id": str(group_id)},
                       json={"status": rng.choice(["confirmed", "rejected"])})

    def edit_event(c):
        when = f"2031-01-{rng.randint(2, 28):02d} {rng.randint(8, 20)}:00:00"
        return c.put("/event", headers=admin, json={**body, "id": rng.choice(event_ids), "event_timestamp": when})

    def tick(c):
        with app.app_context(), transaction():
            reminders.fire_due_reminders()

    with app.app_context():  # make every event's reminder due now, so ticks race for them during the load
        db.session.execute(db.update(Event).values(next_reminder_at=clock.now() - timedelta(minutes=1)))
        db.session.commit()
    return World(products, event_ids, [order] * 4 + [money] * 3 + [invite] * 2 + [edit_event] + [tick])


class Load:
    """``threads`` test clients running random actions until stopped; every outcome noted with its moment."""

    def __init__(self, app, world: World, rng: random.Random, threads: int = 8):
        self.app, self.world, self.rng = app, world, rng
        self.statuses: list[tuple[float, int]] = []
        self.errors: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self):
        c = self.app.test_client()
        while not self._stop.is_set():
            try:
                response = self.rng.choice(self.world.actions)(c)
                if response is not None:
                    self.statuses.append((time.monotonic(), response.status_code))
            except Exception as exc:  # noqa: BLE001 - a crash in a request is a finding, reported by the caller
                self.errors.append((time.monotonic(), repr(exc)))

    def start(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def check_invariants(products, event_ids):
    """Every invariant of the shop, the wallets, the groups, the reminders and the outbox (in an app context)."""
    scalar, execute = db.session.scalar, db.session.execute
    assert scalar(select(func.count()).select_from(Order).where(Order.status.in_(IN_PROGRESS))) == 0
    completed = select(OrderLine.product_id, func.sum(OrderLine.quantity)).join(Order).where(
        Order.status == OrderStatus.COMPLETED).group_by(OrderLine.product_id)
    sold = dict(execute(completed).all())
    for product_id in products:
        stock = db.session.get(Product, product_id).stock
        assert stock >= 0 and stock == STOCK - sold.get(product_id, 0), (product_id, stock, sold)
    assert execute(text("SELECT a.id FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount_cents) s FROM "
                        "ledger_entries GROUP BY account_id) l ON l.account_id = a.id "
                        "WHERE a.balance_cents <> COALESCE(l.s, 0) OR a.balance_cents < 0")).all() == []
    assert execute(text("SELECT reference FROM ledger_entries WHERE kind = 'payment' GROUP BY account_id, reference "
                        "HAVING COUNT(*) > 1")).all() == []  # one payment per order (the buyer's, and escrow's)
    assert execute(text("SELECT o.id FROM orders o JOIN ledger_entries l ON l.reference = 'order:' || o.id "
                        "AND l.kind = 'payment' WHERE o.status IN ('failed', 'cancelled') AND NOT EXISTS ("
                        "SELECT 1 FROM ledger_entries r WHERE r.reference = l.reference AND r.kind = 'refund')")
                   ).all() == []  # a failed order kept no money
    assert execute(text("SELECT group_id, user_id FROM group_members GROUP BY 1, 2 HAVING COUNT(*) > 1")).all() == []
    assert execute(text("SELECT event_id, trigger_at FROM event_reminders GROUP BY 1, 2 HAVING COUNT(*) > 1")
                   ).all() == []
    fired = scalar(select(func.count()).select_from(EventReminder).where(EventReminder.event_id.in_(event_ids)))
    due_messages = scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.type == "events.reminder_due"))
    # edits during the soak move reminders (by design), so not every event fires; each firing is announced once
    assert fired >= 1 and due_messages == fired
    assert scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))) == 0
    unprocessed = scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.id.not_in(select(ProcessedMessage.id))))
    assert unprocessed == 0  # every message published was handled: nothing lost
