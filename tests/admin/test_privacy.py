"""A user can leave: DELETE /users/me erases their personal data, hands over or deletes their groups, keeps the
financial records anonymous, and refuses their tokens from then on. GET /users/export gives them all their data."""

from sqlalchemy import func, select

from tests.factories import (
    data_of,
    fund,
    make_comment,
    make_delivery,
    make_event,
    make_group,
    make_order,
    make_payout,
    make_product,
    run_background,
    sub_of,
    table_counts,
)
from torium_api.events.models import EventComment, EventMember
from torium_api.extensions import db
from torium_api.groups.models import Group, GroupInvitation, GroupMember, InvitationStatus
from torium_api.notifications.models import NotificationDelivery
from torium_api.orders.models import Order
from torium_api.outbox.models import OutboxMessage
from torium_api.users.models import MobileVerification, User


def _members(app, group_id) -> list[tuple]:
    with app.app_context():
        return [(m.user_id, m.role.value) for m in db.session.scalars(
            select(GroupMember).where(GroupMember.group_id == group_id).order_by(GroupMember.id))]


def test_leaving_erases_personal_data_hands_groups_over_and_refuses_the_tokens(app, client, tokens, sqs):
    alice, headers = tokens.user("alice@example.com", username="Alice", mobile_number="+48111222333",
                                 device_token="fcm-alice", timezone="Asia/Tokyo", reminder_preferences="SMS")
    bob, carol, dave = (tokens.user(f"{n}@example.com")[0] for n in ("bob", "carol", "dave"))
    handed = make_group(app, alice, members={bob: "standard", carol: "moderator"}, name="Alice's")
    alone = make_group(app, alice, name="Alone")
    carols = make_group(app, carol, members={alice: "standard"}, name="Carol's")
    shared = make_group(app, dave, members={alice: "admin"}, name="Shared")
    inviting = make_group(app, bob, invited=[alice], name="Bob's")
    event = make_event(app, handed, alice, [bob])
    comment = make_comment(app, event, alice, "see you there")
    product = make_product(app, dave)
    order = make_order(app, alice, product, status="completed")
    fund(app, alice, 500)
    make_payout(app, alice, 500)
    make_delivery(app, alice, body="your code is 123456")
    with app.app_context():
        db.session.add(MobileVerification(user_id=alice, mobile_number="+48111222333",
                                          expires_at=func.now()))
        db.session.commit()

    erased = data_of(client.delete("/users/me", headers=headers))
    assert erased["user_id"] == alice and erased["status"] == "deleted" and erased["deleted_at"]

    with app.app_context():
        user = db.session.get(User, alice)
        assert (user.email, user.username, user.mobile_number, user.device_token, user.timezone,
                user.reminder_preferences, user.cognito_sub) == ("", None, None, None, None, None, sub_of(
                    "alice@example.com"))
        assert db.session.scalar(select(func.count()).select_from(MobileVerification)) == 0
        assert db.session.get(Group, alone) is None
        assert db.session.scalar(select(func.count()).select_from(GroupInvitation).where(
            GroupInvitation.user_id == alice, GroupInvitation.status == InvitationStatus.PENDING)) == 0
        assert db.session.scalar(select(EventMember.user_id).where(EventMember.user_id == alice)) is None
        assert db.session.get(EventComment, comment).user_id == alice  # kept, its author now anonymous
        assert db.session.get(Order, order).shipping_address == {"country": "PL", "erased": True}
        deleted_groups = db.session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.type == "groups.group_deleted")).all()
        assert deleted_groups == [{"group_id": alone, "topic": f"group:{alone}"}]
    assert _members(app, handed) == [(bob, "admin"), (carol, "moderator")]  # the longest-standing member takes over
    assert _members(app, carols) == [(carol, "admin")]
    assert _members(app, shared) == [(dave, "admin")]  # another admin remains: nobody promoted
    assert _members(app, inviting) == [(bob, "admin")]

    refused = client.get("/users", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["status"]["message"] == "This account was deleted"
    users_before = table_counts(app)["users"]
    assert client.get("/users", headers=tokens.headers("alice@example.com")).status_code == 401  # a new token
    assert table_counts(app)["users"] == users_before  # the sub stays known: no new user for it
    run_background(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NotificationDelivery).where(
            NotificationDelivery.user_id == alice)) == 0


def test_the_same_person_signing_up_again_is_a_new_user(app, client, tokens):
    old_id, headers = tokens.user("again@example.com")
    client.delete("/users/me", headers=headers)
    fresh = tokens.headers("again@example.com", sub="a-new-cognito-sub")  # Cognito made a new user
    assert data_of(client.get("/users", headers=fresh))["user_id"] != old_id


def test_leaving_is_refused_while_something_would_be_stranded(app, client, tokens):
    alice, headers = tokens.user("alice@example.com")
    seller, seller_headers = tokens.user("seller@example.com", groups=["seller"])
    wax = make_product(app, seller)
    pending = make_order(app, alice, wax, status="paid")
    client.get("/users", headers=seller_headers)  # the seller role in the token is noted on first sight
    before = table_counts(app)
    for who, expected in ((headers, "Orders are still in progress"), (seller_headers, "Products are still listed")):
        response = client.delete("/users/me", headers=who)
        assert response.status_code == 409 and response.get_json()["status"]["message"].startswith(expected)
    assert table_counts(app) == before
    with app.app_context():
        db.session.get(Order, pending).status = "failed"
        db.session.commit()
    assert client.delete("/users/me", headers=headers).status_code == 200


def test_the_export_holds_the_callers_data_and_nobody_elses(app, client, tokens):
    alice, headers = tokens.user("alice@example.com", username="Alice")
    bob, _ = tokens.user("bob@example.com")
    group = make_group(app, alice, members={bob: "standard"})
    event = make_event(app, group, alice, [bob])
    make_comment(app, event, alice, "mine")
    make_comment(app, event, bob, "bob's")
    product = make_product(app, bob)
    order = make_order(app, alice, product, status="completed")
    make_order(app, bob, product, status="completed")
    fund(app, alice, 700)
    make_payout(app, alice, 200)
    data = data_of(client.get("/users/export", headers=headers))
    assert data["profile"]["user_id"] == alice and data["profile"]["username"] == "Alice"
    assert [g["group_id"] for g in data["groups"]] == [group]
    assert [e["id"] for e in data["events"]] == [event]
    assert [c["comment"] for c in data["comments"]] == ["mine"]
    assert [o["id"] for o in data["orders"]] == [order]
    assert [(e["kind"], e["amount_cents"]) for e in data["ledger"]] == [("deposit", 700), ("withdrawal", -200)]
    assert [p["amount_cents"] for p in data["payouts"]] == [200]
    assert data["payments"] == [] and data["roles"] == [] and data["exported_at"]
    assert "bob@example.com" not in str(data["comments"] + data["orders"] + data["ledger"])
