"""Group rules the original did not enforce, the contract's fields, concurrency and query counts."""

import json
import uuid

import pytest
from sqlalchemy import func, select

from tests.factories import count_queries, data_of, group_snapshot, make_group, run_background, run_concurrently
from torium_api.extensions import db
from torium_api.groups.models import GroupInvitation, GroupMember, InvitationStatus, Role
from torium_api.notifications.models import DeliveryStatus, NotificationDelivery
from torium_api.outbox.models import OutboxMessage
from torium_api.outbox.relay import relay_batch
from torium_api.users.models import User
from torium_api.workers import runner


def _roles(app, group_id) -> dict:
    with app.app_context():
        rows = db.session.execute(select(GroupMember.user_id, GroupMember.role)
                                  .where(GroupMember.group_id == group_id)).all()
        return {user_id: role.value for user_id, role in rows}


# --- contract: what the Flutter screens read ---------------------------------------------------

def test_create_group_returns_its_id_and_makes_the_caller_admin(app, client, user):
    user_id, headers = user
    data = data_of(client.post("/groups", headers={**headers, "trm-admin-id": str(user_id)},
                             json={"name": "Ski", "description": "Alps"}))
    assert set(data) == {"group_id"} and isinstance(data["group_id"], int)
    assert _roles(app, data["group_id"]) == {user_id: "admin"}


def test_get_groups_lists_each_group_once_with_the_callers_role(client, world):
    [group] = data_of(client.get("/groups", headers=world.h("moderator")))
    assert group == {"group_id": world.group_id, "name": "Trip", "admin_id": world.ids["admin"],
                     "status": "moderator", "description": "a group"}
    [admin_view] = data_of(client.get("/groups", headers=world.h("admin")))  # one row, not one per member
    assert admin_view["status"] == "admin"
    assert data_of(client.get("/groups", headers=world.h("stranger"))) == []
    assert data_of(client.get("/groups", headers=world.h("invited"))) == []


def test_get_group_members_excludes_the_caller_with_contract_types(client, world):
    members = data_of(client.get("/group/members", headers=world.h("standard", group_id=world.group_id)))
    assert {m["user_id"] for m in members} == {world.ids[w] for w in ("admin", "moderator", "other")}
    for member in members:
        assert set(member) == {"user_id", "username", "email", "status"}
        assert isinstance(member["user_id"], int) and member["email"].endswith("@example.com")
        assert member["status"] in {"admin", "moderator", "standard"}


def test_invitations_are_visible_at_once_with_inviter_and_group_name(client, world):
    assert data_of(client.get("/groups/invitation", headers=world.h("invited"))) == [
        {"group_id": world.group_id, "name": "Trip", "email": "admin@example.com"}]
    assert data_of(client.get("/groups/invitation/count", headers=world.h("invited"))) == {"count": 1}
    assert data_of(client.get("/groups/invitation/count", headers=world.h("stranger"))) == {"count": 0}


def test_put_groups_accepts_the_apps_string_admin_id(client, world):
    body = {"id": world.group_id, "name": "Renamed", "description": "d", "admin_id": str(world.ids["admin"])}
    assert client.put("/groups", headers=world.h("admin"), json=body).status_code == 200
    assert data_of(client.get("/groups", headers=world.h("admin")))[0]["name"] == "Renamed"
    body["admin_id"] = str(world.ids["moderator"])
    assert client.put("/groups", headers=world.h("admin"), json=body).status_code == 403


@pytest.mark.parametrize("body", [{"name": "", "description": ""}, {"name": "x" * 51, "description": ""},
                                  {"name": "ok", "description": "x" * 201}, {"name": 5, "description": ""},
                                  {"name": "ok"}, {"name": "ok", "description": "", "admin_id": 1.5}])
def test_bad_group_bodies_are_422_and_create_nothing(app, client, user, body):
    before = group_snapshot(app)
    assert client.post("/groups", headers=user[1], json=body).status_code == 422
    assert group_snapshot(app) == before


@pytest.mark.parametrize("group_header", ["abc", "1.5", "", "-3"])
def test_bad_group_header_is_422(client, world, group_header):
    response = client.get("/group/members", headers={**world.h("admin"), "trm-group-id": group_header})
    assert response.status_code == 422


def test_legacy_identity_naming_someone_else_is_refused(client, world):
    other = str(world.ids["standard"])
    assert client.get("/groups", headers={**world.h("admin"), "trm-user-id": other}).status_code == 403
    assert client.get(f"/groups?user_id={other}", headers=world.h("admin")).status_code == 403
    create = client.post("/groups", headers={**world.h("admin"), "trm-admin-id": other},
                         json={"name": "x", "description": ""})
    assert create.status_code == 403


# --- roles ---------------------------------------------------------------------------------

def test_moderators_never_act_on_admins_or_moderators(app, client, world):
    client.patch("/group/members/role", headers=world.h("admin", group_id=world.group_id),
                 json={"status": "moderator", "user_id": world.ids["other"]})
    before = group_snapshot(app)
    for target in ("admin", "other"):
        headers = world.h("moderator", group_id=world.group_id, user_id=world.ids[target])
        response = client.delete("/group/members", headers=headers, json={})
        assert response.status_code == 403
        assert response.get_json()["status"]["message"] == "Moderators cannot remove admins or other moderators"
    assert group_snapshot(app) == before


def test_admins_demote_and_promote_and_a_group_keeps_an_admin(app, client, world):
    headers = world.h("admin", group_id=world.group_id)
    me = world.ids["admin"]
    last = client.patch("/group/members/role", headers=headers, json={"status": "standard", "user_id": me})
    assert last.status_code == 409 and "at least one admin" in last.get_json()["status"]["message"]
    for role in ("admin", "moderator", "standard"):
        response = client.patch("/group/members/role", headers=headers,
                                json={"status": role, "user_id": world.ids["moderator"]})
        assert response.status_code == 200 and _roles(app, world.group_id)[world.ids["moderator"]] == role
    client.patch("/group/members/role", headers=headers, json={"status": "admin", "user_id": world.ids["other"]})
    assert client.patch("/group/members/role", headers=headers,
                        json={"status": "standard", "user_id": me}).status_code == 200  # now allowed


def test_role_change_of_a_non_member_is_404(client, world):
    response = client.patch("/group/members/role", headers=world.h("admin", group_id=world.group_id),
                            json={"status": "admin", "user_id": world.ids["stranger"]})
    assert response.status_code == 404


@pytest.mark.parametrize("status", ["owner", "Admin", "", None, 1])
def test_unknown_role_is_422(client, world, status):
    response = client.patch("/group/members/role", headers=world.h("admin", group_id=world.group_id),
                            json={"status": status, "user_id": world.ids["other"]})
    assert response.status_code == 422


def test_a_member_may_leave_but_the_last_admin_may_not(app, client, world):
    leave = world.h("standard", group_id=world.group_id, user_id=world.ids["standard"])
    assert client.delete("/group/members", headers=leave, json={}).status_code == 200
    assert world.ids["standard"] not in _roles(app, world.group_id)
    admin_leaves = world.h("admin", group_id=world.group_id, user_id=world.ids["admin"])
    assert client.delete("/group/members", headers=admin_leaves, json={}).status_code == 409


# --- invitations ---------------------------------------------------------------------------

def _invite(client, world, target, by="admin"):
    return client.post("/group/members", headers=world.h(by, group_id=world.group_id, user_id=target), json={})


def test_inviting_a_member_or_a_pending_user_or_a_stranger_id_conflicts(client, world):
    assert _invite(client, world, world.ids["standard"]).status_code == 409
    assert _invite(client, world, world.ids["admin"]).status_code == 409  # oneself
    assert _invite(client, world, world.ids["invited"]).status_code == 409
    assert _invite(client, world, 999_999).status_code == 404


def test_only_the_invitee_answers_and_accepting_twice_changes_nothing(app, client, world):
    answer = world.h("invited", group_id=world.group_id)
    assert client.patch("/group/members/status", headers=answer, json={"status": "confirmed"}).status_code == 200
    roles = _roles(app, world.group_id)
    assert roles[world.ids["invited"]] == "standard"
    assert client.patch("/group/members/status", headers=answer, json={"status": "confirmed"}).status_code == 200
    assert _roles(app, world.group_id) == roles
    assert data_of(client.get("/groups/invitation/count", headers=world.h("invited"))) == {"count": 0}


@pytest.mark.parametrize("status", ["pending", "sent", "accepted", "", None])
def test_answer_must_be_confirmed_or_rejected(client, world, status):
    response = client.patch("/group/members/status", headers=world.h("invited", group_id=world.group_id),
                            json={"status": status})
    assert response.status_code == 422


def test_a_rejected_user_can_be_invited_again(app, client, world):
    answer = world.h("invited", group_id=world.group_id)
    assert client.patch("/group/members/status", headers=answer, json={"status": "rejected"}).status_code == 200
    assert data_of(client.get("/groups/invitation", headers=world.h("invited"))) == []
    assert world.ids["invited"] not in _roles(app, world.group_id)
    assert _invite(client, world, world.ids["invited"], by="moderator").status_code == 200
    assert data_of(client.get("/groups/invitation/count", headers=world.h("invited"))) == {"count": 1}


def test_a_group_has_a_member_limit(app, client, world):
    app.config["MAX_GROUP_MEMBERS"] = 5  # 4 members + 1 pending invitation
    try:
        response = _invite(client, world, world.ids["outsider"])
        assert response.status_code == 409 and "at most 5" in response.get_json()["status"]["message"]
    finally:
        app.config["MAX_GROUP_MEMBERS"] = 500


def test_an_invitation_is_pushed_to_the_invitees_device_and_logged(app, client, world, sqs):
    outsider = world.h("outsider")
    client.patch("/users/device", headers=outsider, json={"device_token": f"fcm-{uuid.uuid4()}"})
    with app.app_context():
        relay_batch()
    runner.drain_once(app, wait_seconds=0)  # creates the push endpoint
    assert _invite(client, world, world.ids["outsider"], by="moderator").status_code == 200
    assert _invite(client, world, world.ids["stranger"]).status_code == 200  # no device
    with app.app_context():
        assert relay_batch() == 2
    run_background(app)  # groups.invitation_sent → notifications.requested → the push
    with app.app_context():
        rows = db.session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)).all()
        pushed = {r.user_id: (r.channel, r.status, r.body) for r in rows}
    assert pushed[world.ids["outsider"]] == ("PUSH", DeliveryStatus.SENT,
                                             "moderator@example.com invited you to join Trip")
    assert pushed[world.ids["stranger"]][:2] == ("PUSH", DeliveryStatus.SKIPPED)
    # visible in the app either way
    assert data_of(client.get("/groups/invitation/count", headers=world.h("stranger"))) == {"count": 1}


# --- deletion ------------------------------------------------------------------------------

def test_deleting_a_group_removes_members_and_invitations(app, client, world):
    other_group = make_group(app, world.ids["stranger"], members={world.ids["admin"]: "standard"})
    assert client.delete("/groups", headers=world.h("admin"), json={"id": world.group_id}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GroupMember)
                                 .where(GroupMember.group_id == world.group_id)) == 0
        assert db.session.scalar(select(func.count()).select_from(GroupInvitation)) == 0
    assert [g["group_id"] for g in data_of(client.get("/groups", headers=world.h("admin")))] == [other_group]


# --- concurrency: real threads, separate connections --------------------------------------

def _race(app, calls):
    """Each call gets its own test client (its own connection) and all start together."""
    return sorted(r.status_code for r in run_concurrently(*[lambda c=c: c(app.test_client()) for c in calls]))


def test_two_simultaneous_accepts_make_one_member(app, world):
    headers = world.h("invited", group_id=world.group_id)
    accept = lambda c: c.patch("/group/members/status", headers=headers, json={"status": "confirmed"})  # noqa: E731
    assert _race(app, [accept] * 4) == [200] * 4
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GroupMember).where(
            GroupMember.user_id == world.ids["invited"])) == 1


def test_two_simultaneous_invites_make_one_invitation(app, world):
    def invite(by):
        return lambda c: c.post("/group/members", json={},
                                headers=world.h(by, group_id=world.group_id, user_id=world.ids["outsider"]))

    assert _race(app, [invite("admin"), invite("moderator")]) == [200, 409]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GroupInvitation).where(
            GroupInvitation.user_id == world.ids["outsider"], GroupInvitation.status == InvitationStatus.PENDING)) == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_two_admins_demoting_each_other_leave_one_admin(app, client, world):
    client.patch("/group/members/role", headers=world.h("admin", group_id=world.group_id),
                 json={"status": "admin", "user_id": world.ids["moderator"]})

    def demote(who, target):
        return lambda c: c.patch("/group/members/role", headers=world.h(who, group_id=world.group_id),
                                 json={"status": "standard", "user_id": world.ids[target]})

    assert _race(app, [demote("admin", "moderator"), demote("moderator", "admin")]) == [200, 403]
    roles = _roles(app, world.group_id)
    assert list(roles.values()).count("admin") == 1


# --- queries do not grow with the data -----------------------------------------------------

def test_a_page_carries_the_total_in_one_query_and_past_the_end_still_reports_it(app, client, tokens):
    me, headers = tokens.user("pager@example.com")
    assert json.loads(client.get("/groups", headers=headers).headers["X-Pagination"])["total"] == 0
    groups = [make_group(app, me, name=f"P{i}") for i in range(7)]
    middle = client.get("/groups?page=2&page_size=3", headers=headers)
    assert [g["group_id"] for g in data_of(middle)] == groups[3:6]
    assert json.loads(middle.headers["X-Pagination"]) == {
        "total": 7, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 2, "previous_page": 1,
        "next_page": 3}
    past = client.get("/groups?page=5&page_size=3", headers=headers)
    assert data_of(past) == [] and json.loads(past.headers["X-Pagination"])["total"] == 7


def test_list_queries_do_not_grow_with_the_number_of_groups(app, client, tokens):
    me, headers = tokens.user("busy@example.com")
    friend, _ = tokens.user("friend@example.com")
    first = make_group(app, me, members={friend: "standard"})
    with count_queries(app) as few:
        client.get("/groups", headers=headers)
    with count_queries(app) as few_members:
        client.get("/group/members", headers={**headers, "trm-group-id": str(first)})
    for i in range(49):
        make_group(app, me, members={friend: "moderator"}, name=f"G{i}")
    with app.app_context():
        extra = [User(cognito_sub=f"m{i}", email=f"m{i}@example.com") for i in range(30)]
        db.session.add_all(extra)
        db.session.flush()
        db.session.add_all(GroupMember(group_id=first, user_id=u.id, role=Role.STANDARD) for u in extra)
        db.session.commit()
    with count_queries(app) as many:
        assert len(data_of(client.get("/groups", headers=headers))) == 50
    with count_queries(app) as many_members:
        assert len(data_of(client.get("/group/members", headers={**headers, "trm-group-id": str(first)}))) == 31
    assert len(many) == len(few) and len(many_members) == len(few_members)
    assert (len(many), len(many_members)) == (2, 3)  # (user, page with its total), (user, membership, page)
    print(f"\nqueries: GET /groups {len(many)}, GET /group/members {len(many_members)} (50 groups, 31 members)")
