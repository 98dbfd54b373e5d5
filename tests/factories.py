"""Builders for test data: tokens signed by the app's local issuer key, and one ``make_<thing>`` per model.

Builders write rows directly (no HTTP round trip, no permission checks) and return ids; each takes the app
and commits its own small transaction. Tests that exercise a route build the world with these and then call
the route. Shared helpers live here, not in conftests.
"""

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import event, func, select

from torium_api import clock
from torium_api.actor import Actor, AppRole
from torium_api.database import transaction
from torium_api.dev.local_issuer import LocalKeySource
from torium_api.extensions import db

KEEP_TABLES = {"alembic_version", "organizations"}  # reference rows seeded by migrations: never emptied
ADDRESS = {"name": "Ada Lovelace", "line1": "Krupówki 1", "city": "Zakopane", "postal_code": "34-500",
           "country": "PL"}
EVENT = {"is_budget": True, "budget": "150", "description": "Bring skis", "event_timestamp": "2030-02-01 18:30:00.00",
         "reminder": "periodical", "schedule_period": "1 week", "name": "Ski trip"}
PRODUCT = {"name": "Red ski wax", "description": "Fast wax for cold snow", "category": "ski", "price_cents": 4999,
           "stock": 10}


def data_of(response, status: int = 200):
    """The envelope's data, after checking the HTTP status (the body is shown when it differs)."""
    assert response.status_code == status, response.get_json()
    return response.get_json()["data"]


def sub_of(email: str) -> str:
    """The ``sub`` TokenFactory puts in an e-mail's tokens (so a built user and its tokens are one person)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"test:{email}"))


class TokenFactory:
    """Mints RS256 tokens exactly as Cognito shapes them, signed with the key the app trusts."""

    def __init__(self, app):
        self.app = app
        verifier = app.extensions["torium_auth"]["verifier"]
        assert isinstance(verifier.keys, LocalKeySource)
        self.keys, self.issuer = verifier.keys, verifier.issuer
        self.client_id = sorted(verifier.client_ids)[0]

    def claims(self, email: str, groups=(), **overrides) -> dict:
        now = int(time.time())
        claims = {
            "sub": sub_of(email), "iss": self.issuer, "client_id": self.client_id, "token_use": "access", "iat": now,
            "auth_time": now, "exp": now + 900, "jti": str(uuid.uuid4()), "username": email, "email": email,
            "email_verified": True, "cognito:groups": list(groups),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, email: str = "ada@example.com", groups=(), *, key=None, headers=None, **overrides) -> str:
        return jwt.encode(self.claims(email, groups, **overrides), key or self.keys.private_key,
                          algorithm="RS256", headers={"kid": self.keys.kid, **(headers or {})})

    def headers(self, email: str = "ada@example.com", groups=(), **overrides) -> dict:
        return {"Authorization": f"Bearer {self.token(email, groups, **overrides)}"}

    def user(self, email: str, groups=(), **fields) -> tuple[int, dict]:
        """A user row built directly (with the roles of ``groups`` on record, as for a user seen before), and
        headers with a token for them: (id, headers)."""
        user_id = make_user(self.app, email, **fields)
        if groups:
            from torium_api.actor import AppRole
            from torium_api.users import back_office

            with self.app.app_context(), transaction():
                back_office.note_roles(user_id, [AppRole(g) for g in groups if g in {r.value for r in AppRole}])
        return user_id, self.headers(email, groups)

    def signed_in_user(self, client, email: str, groups=()) -> tuple[int, dict]:
        """A user created the way a first request creates one (for tests of that path)."""
        headers = self.headers(email, groups)
        response = client.get("/users", headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]["user_id"], headers


# --- builders, one per model ---------------------------------------------------------------------

def make_user(app, email: str, **fields) -> int:
    from torium_api.users.models import User

    with app.app_context(), transaction():
        user = User(cognito_sub=sub_of(email), email=email, **fields)
        db.session.add(user)
        db.session.flush()
        return user.id


def actor(user_id: int, *roles: AppRole) -> Actor:
    """An Actor for a service call inside an app context."""
    from torium_api.users.models import User

    return Actor(db.session.get(User, user_id), frozenset(roles))


def make_group(app, admin_id: int, *, members: dict | None = None, invited=(), name: str = "Trip") -> int:
    """A group with an admin, extra members {user_id: role} and pending invitations; returns its id."""
    from torium_api.groups.models import Group, GroupInvitation, GroupMember, InvitationStatus, Role

    with app.app_context(), transaction():
        group = Group(name=name, description="a group", created_by_id=admin_id)
        db.session.add(group)
        db.session.flush()
        db.session.add(GroupMember(group_id=group.id, user_id=admin_id, role=Role.ADMIN))
        for user_id, role in (members or {}).items():
            db.session.add(GroupMember(group_id=group.id, user_id=user_id, role=Role(role)))
        for user_id in invited:
            db.session.add(GroupInvitation(group_id=group.id, user_id=user_id, invited_by_id=admin_id,
                                           status=InvitationStatus.PENDING))
        return group.id


def make_event(app, group_id: int, creator_id: int, members=(), *, starts_at: datetime | None = None,
               name: str = "Ski trip", **fields) -> int:
    """An event of the group with the creator and ``members`` (group members) as event members."""
    from torium_api.events.models import Event, EventMember
    from torium_api.events.schedule import Period, Reminder
    from torium_api.events.services import reminders

    values = {"description": "Bring skis", "is_budget": True, "budget": 150, "reminder": Reminder.PERIODICAL,
              "schedule_period": Period.WEEK, "timezone": "Europe/Warsaw", **fields}
    with app.app_context(), transaction():
        event = Event(group_id=group_id, created_by_id=creator_id, name=name,
                      starts_at=starts_at or clock.now() + timedelta(days=30), **values)
        db.session.add(event)
        db.session.flush()
        for user_id in dict.fromkeys([creator_id, *members]):
            db.session.add(EventMember(event_id=event.id, group_id=group_id, user_id=user_id))
        reminders.schedule(event)
        return event.id


def make_comment(app, event_id: int, author_id: int, text: str = "first!") -> int:
    from torium_api.events.models import EventComment

    with app.app_context(), transaction():
        comment = EventComment(event_id=event_id, user_id=author_id, comment=text)
        db.session.add(comment)
        db.session.flush()
        return comment.id


def make_product(app, seller_id: int, **fields) -> int:
    from torium_api.products.models import Product

    values = {**PRODUCT, **fields}
    with app.app_context(), transaction():
        product = Product(seller_id=seller_id, currency=app.config["CURRENCY"], **values)
        db.session.add(product)
        db.session.flush()
        return product.id


def fund(app, user_id: int, amount_cents: int) -> None:
    """Put money in a wallet the way a deposit does (a ledger entry with the balance)."""
    from torium_api.accounts import services as wallet
    from torium_api.accounts.models import EntryKind

    with app.app_context(), transaction():
        wallet.move(user_id, amount_cents, EntryKind.DEPOSIT)


def make_payout(app, user_id: int, amount_cents: int) -> int:
    """A requested payout: the money leaves the wallet the way a withdrawal takes it (fund it first)."""
    from torium_api.accounts import services as wallet
    from torium_api.users.models import User

    with app.app_context(), transaction():
        return wallet.withdraw(Actor(db.session.get(User, user_id)), amount_cents)["payout"].id


def make_order(app, user_id: int, product_id: int, quantity: int = 1, *, status: str = "pending") -> int:
    """An order row in ``status`` for one line of a product (no saga step runs, no money moves)."""
    from torium_api.orders.models import Order, OrderLine, OrderStatus
    from torium_api.orders.services import platform_fee
    from torium_api.products.models import Product

    with app.app_context(), transaction():
        product = db.session.get(Product, product_id)
        total = product.price_cents * quantity
        order = Order(user_id=user_id, status=OrderStatus(status), currency=product.currency, shipping_address=ADDRESS,
                      total_cents=total,
                      lines=[OrderLine(product_id=product.id, product_name=product.name, quantity=quantity,
                                       unit_price_cents=product.price_cents, seller_id=product.seller_id,
                                       fee_cents=platform_fee(total, app.config["PLATFORM_FEE_BPS"]))])
        db.session.add(order)
        db.session.flush()
        return order.id


def make_settled_order(app, user_id: int, product_id: int, quantity: int = 1, *, status: str = "completed") -> int:
    """An order placed and run through every saga step (the buyer charged, the seller and the fee paid from escrow),
    then left in ``status`` (completed, received or not_received). Fund the buyer first."""
    from torium_api.orders import services as orders
    from torium_api.orders.models import OrderStatus
    from torium_api.users.models import User

    with app.app_context(), transaction():
        order_id = orders.place_order(Actor(db.session.get(User, user_id)), [{"product_id": product_id,
                                                                             "quantity": quantity}], ADDRESS).id
    for step in (orders.reserve_stock, orders.charge, orders.ship):
        with app.app_context(), transaction():
            step(order_id)
    with app.app_context(), transaction():
        settled = orders.lock_order(order_id)
        assert settled.settled_at is not None, settled.status
        settled.status = OrderStatus(status)
        return settled.id


def make_delivery(app, user_id: int | None, *, topic: str | None = None, body: str = "b") -> int:
    """A row of the notification delivery log."""
    from torium_api.notifications.models import DeliveryStatus, NotificationDelivery

    with app.app_context(), transaction():
        delivery = NotificationDelivery(message_id=uuid.uuid4(), user_id=user_id, channel="EMAIL",
                                        recipient="x@example.com", body=body, status=DeliveryStatus.SENT, topic=topic)
        db.session.add(delivery)
        db.session.flush()
        return delivery.id


# --- observing ------------------------------------------------------------------------------------

def count_rows(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def table_counts(app) -> dict[str, int]:
    """Rows per table: a cheap fingerprint of "nothing was written"."""
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


def count_queries(app):
    """A context manager counting SQL statements sent to PostgreSQL."""

    @contextlib.contextmanager
    def counting():
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting()


class Cast:
    """Users by role name with their headers; ``h(who, group_id=1)`` adds ``trm-group-id: 1``."""

    headers: dict

    def h(self, who: str, **trm) -> dict:
        extra = {f"trm-{name.replace('_', '-')}": str(value) for name, value in trm.items()}
        return {**self.headers.get(who, {}), **extra}


def run_concurrently(*calls) -> list:
    """Start every call at the same moment on its own thread; return their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run_background(app, rounds: int = 10) -> None:
    """Run the relay and the workers until nothing is left to do (what the background processes would)."""
    from torium_api.outbox.relay import relay_batch
    from torium_api.workers import runner

    for _ in range(rounds):
        with app.app_context():
            published = relay_batch()
        handled = runner.drain_once(app, wait_seconds=0)
        if not published and not handled:
            return


# --- snapshots: everything a family of routes can change (a refused request must leave it equal) -------------

def group_snapshot(app) -> tuple:
    from torium_api.groups.models import Group, GroupInvitation, GroupMember
    from torium_api.outbox.models import OutboxMessage

    with app.app_context():
        groups = db.session.execute(select(Group.id, Group.name, Group.description).order_by(Group.id)).all()
        members = db.session.execute(select(GroupMember.group_id, GroupMember.user_id, GroupMember.role)
                                     .order_by(GroupMember.id)).all()
        invitations = db.session.execute(select(GroupInvitation.group_id, GroupInvitation.user_id,
                                                GroupInvitation.status).order_by(GroupInvitation.id)).all()
        outbox = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        return groups, members, invitations, outbox


def event_snapshot(app) -> tuple:
    from torium_api.events.models import Event, EventComment, EventMember, EventReminder
    from torium_api.outbox.models import OutboxMessage

    with app.app_context():
        def rows(*columns):
            return db.session.execute(select(*columns).order_by(*columns)).all()

        return (rows(Event.id, Event.name, Event.starts_at, Event.budget, Event.next_reminder_at),
                rows(EventMember.event_id, EventMember.user_id), rows(EventComment.id, EventComment.comment),
                rows(EventReminder.event_id, EventReminder.trigger_at),
                db.session.scalar(select(func.count()).select_from(OutboxMessage)))


def shop_snapshot(app) -> tuple:
    from torium_api.accounts.models import Account, LedgerEntry
    from torium_api.products.models import Product

    with app.app_context():
        products = db.session.execute(select(Product.id, Product.name, Product.price_cents, Product.stock,
                                             Product.active, Product.deleted_at, Product.version)
                                      .order_by(Product.id)).all()
        accounts = db.session.execute(select(Account.user_id, Account.balance_cents).order_by(Account.id)).all()
        ledger = db.session.execute(select(LedgerEntry.id, LedgerEntry.amount_cents).order_by(LedgerEntry.id)).all()
        return products, accounts, ledger


def money_snapshot(app) -> tuple:
    """Every balance, ledger entry, payout, payment event and order status, and the users' standing and roles:
    what a back-office, seller or privacy route can change (with ``table_counts`` for the rest)."""
    from torium_api.accounts.models import Account, LedgerEntry, Payout
    from torium_api.orders.models import Order
    from torium_api.payments.models import PaymentEvent
    from torium_api.users.models import RoleGrant, User

    with app.app_context():
        def rows(*columns):
            return db.session.execute(select(*columns).order_by(*columns)).all()

        return (rows(Account.id, Account.balance_cents), rows(LedgerEntry.id, LedgerEntry.amount_cents),
                rows(Payout.id, Payout.status), rows(PaymentEvent.id), rows(Order.id, Order.status),
                rows(User.id, User.email, User.username, User.timezone, User.disabled_at, User.deleted_at),
                rows(RoleGrant.user_id, RoleGrant.role, RoleGrant.revoked_at), table_counts(app))


def post_product(client, headers, **fields) -> dict:
    """Create a product through the API (for tests of the route itself; others use make_product)."""
    response = client.post("/products", headers=headers, json={**PRODUCT, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def drain(sqs_client, url: str) -> int:
    """Receive and delete until empty (PurgeQueue is limited to once a minute, as on AWS)."""
    removed = 0
    while messages := sqs_client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                 WaitTimeSeconds=0, VisibilityTimeout=0).get("Messages", []):
        sqs_client.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        removed += len(messages)
    return removed


# --- moto's Cognito ------------------------------------------------------------------------------------------

@dataclass
class Pool:
    """A user pool in moto's Cognito, as the tests see it."""

    idp: object
    id: str

    def user(self, username: str) -> None:
        self.idp.admin_create_user(UserPoolId=self.id, Username=username, MessageAction="SUPPRESS",
                                   UserAttributes=[{"Name": "email", "Value": username}])

    def attributes(self, username: str) -> dict:
        user = self.idp.admin_get_user(UserPoolId=self.id, Username=username)
        return {**{a["Name"]: a["Value"] for a in user["UserAttributes"]}, "Enabled": user["Enabled"]}

    def groups(self, username: str) -> set[str]:
        groups = self.idp.admin_list_groups_for_user(UserPoolId=self.id, Username=username)["Groups"]
        return {g["GroupName"] for g in groups}

    def exists(self, username: str) -> bool:
        try:
            self.idp.admin_get_user(UserPoolId=self.id, Username=username)
        except self.idp.exceptions.UserNotFoundException:
            return False
        return True


def place_order(client, headers, *lines) -> dict:
    """POST /orders with (product_id, quantity) lines; the 202's data."""
    body = {"lines": [{"product_id": p, "quantity": q} for p, q in lines], "shipping_address": ADDRESS}
    return data_of(client.post("/orders", headers=headers, json=body), 202)


def completed_order(app, client, headers, *lines) -> dict:
    """An order placed through the API and fulfilled by the background (reserved, charged, shipped, settled)."""
    order = place_order(client, headers, *lines)
    run_background(app)
    done = data_of(client.get(f"/orders/{order['id']}", headers=headers))
    assert done["status"] == "completed", done
    return done
