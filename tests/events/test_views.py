"""Contract routes 1–9: permissions, the formats the app parses, validation, deletion."""

import re

import pytest
from sqlalchemy import func, select

from tests.factories import EVENT, count_queries, data_of, event_snapshot, make_event, make_group, run_background
from torium_api.events.models import Event, EventComment, EventMember, EventReminder
from torium_api.extensions import db
from torium_api.notifications.models import DeliveryStatus, NotificationDelivery

WHO = ("admin", "moderator", "standard", "bystander", "stranger", "anonymous")



def _routes():
    def full(w, **changes):
        return {**EVENT, "id": w.event_id, "group_id": w.group_id, "users": [w.ids["standard"]], **changes}

    return [
        ("list events", "get", "/event", lambda w, who: w.h(who), lambda w: None,
         dict(admin=200, moderator=200, standard=200, bystander=200, stranger=200)),
        ("create event", "post", "/event", lambda w, who: w.h(who, group_id=w.group_id),
         lambda w: {**EVENT, "users": []}, dict(admin=200, moderator=200, standard=403, bystander=403, stranger=404)),
        ("edit event", "put", "/event", lambda w, who: w.h(who), lambda w: full(w, name="Edited"),
         dict(admin=200, moderator=200, standard=403, bystander=403, stranger=404)),
        ("delete event", "delete", "/event", lambda w, who: w.h(who), lambda w: {"id": w.event_id},
         dict(admin=200, moderator=403, standard=403, bystander=403, stranger=404)),
        ("notify all", "post", "/event/notify", lambda w, who: w.h(who), lambda w: {"event_id": w.event_id},
         dict(admin=200, moderator=403, standard=403, bystander=403, stranger=404)),
        ("post comment", "post", "/event/comment", lambda w, who: w.h(who),
         lambda w: {"event_id": str(w.event_id), "comment": "hello"},
         dict(admin=200, moderator=200, standard=200, bystander=404, stranger=404)),
        ("list comments", "get", "/event/comment", lambda w, who: w.h(who, event_id=w.event_id), lambda w: None,
         dict(admin=200, moderator=200, standard=200, bystander=404, stranger=404)),
        ("edit comment", "put", "/event/comment", lambda w, who: w.h(who),
         lambda w: {"id": str(w.comment_id), "comment": "edited"},
         dict(admin=403, moderator=403, standard=200, bystander=404, stranger=404)),
        ("delete comment", "delete", "/event/comment", lambda w, who: w.h(who), lambda w: {"id": w.comment_id},
         dict(admin=200, moderator=403, standard=200, bystander=403, stranger=404)),
    ]


@pytest.mark.parametrize("route, who", [pytest.param(r, w, id=f"{r[0]}-{w}") for r in _routes() for w in WHO])
def test_permission_matrix(app, client, eworld, route, who):
    name, method, path, headers, body, expected = route
    expected = {**expected, "anonymous": 401}[who]
    before = event_snapshot(app)
    response = client.open(path, method=method.upper(), headers=headers(eworld, who), json=body(eworld))
    assert response.status_code == expected, (name, who, response.get_json())
    if expected >= 400:
        assert event_snapshot(app) == before, f"{name} by {who} was refused but changed data"


def test_every_event_route_is_in_the_matrix(app):
    covered = {(method.upper(), path) for _, method, path, *_ in _routes()}
    rules = {(m, r.rule) for r in app.url_map.iter_rules() if r.endpoint.startswith("events.")
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert rules == covered


# --- the formats the app parses ------------------------------------------------------------

def test_get_event_has_the_contract_fields_and_formats(client, eworld):
    [event] = data_of(client.get("/event", headers=eworld.h("standard")))
    assert event == {
        "id": eworld.event_id, "name": "Ski trip", "description": "Bring skis", "group_id": eworld.group_id,
        "group_name": "Trip", "event_timestamp": "2030-02-01 18:30:00", "is_budget": True, "budget": 150.0,
        "reminder": "periodical", "schedule_period": "7 days, 0:00:00", "status": "standard",
        "users": [{"id": eworld.ids[w], "email": f"{w}@example.com"} for w in ("admin", "moderator", "standard")],
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", event["event_timestamp"])  # Dart DateTime.parse


def test_group_filtered_list_carries_status_and_plain_users(client, eworld):
    [event] = data_of(client.get("/event", headers=eworld.h("moderator", group_id=eworld.group_id)))
    assert event["status"] == "moderator"
    assert all(isinstance(u, dict) for u in event["users"])
    assert client.get("/event", headers=eworld.h("stranger", group_id=eworld.group_id)).status_code == 404


@pytest.mark.parametrize("period, legacy", [("1 day", "1 day, 0:00:00"), ("1 week", "7 days, 0:00:00"),
                                            ("1 month", "30 days, 0:00:00")])
def test_schedule_period_round_trips_in_the_apps_format(client, eworld, period, legacy):
    body = {**EVENT, "schedule_period": period, "users": []}
    client.post("/event", headers=eworld.h("admin", group_id=eworld.group_id), json=body)
    periods = {e["schedule_period"] for e in data_of(client.get("/event", headers=eworld.h("admin")))}
    assert legacy in periods
    edit = {**EVENT, "id": eworld.event_id, "group_id": eworld.group_id, "users": [eworld.ids["admin"]],
            "schedule_period": legacy}
    assert client.put("/event", headers=eworld.h("admin"), json=edit).status_code == 200


def test_post_event_returns_the_id_and_ignores_duplicate_users(app, client, eworld):
    body = {**EVENT, "users": [eworld.ids["standard"], eworld.ids["standard"], str(eworld.ids["moderator"])]}
    data = data_of(client.post("/event", headers=eworld.h("moderator", group_id=eworld.group_id), json=body))
    with app.app_context():
        members = db.session.scalars(select(EventMember.user_id).where(EventMember.event_id == data["id"])).all()
    assert sorted(members) == sorted([eworld.ids["moderator"], eworld.ids["standard"]])


def test_the_apps_hour_24_means_midnight_of_that_date(client, eworld):
    body = {**EVENT, "event_timestamp": "2030-03-05 24:15:00.00", "name": "Midnight", "users": []}
    client.post("/event", headers=eworld.h("admin", group_id=eworld.group_id), json=body)
    events = {e["name"]: e for e in data_of(client.get("/event", headers=eworld.h("admin")))}
    assert events["Midnight"]["event_timestamp"] == "2030-03-05 00:15:00"


def test_naive_times_are_read_and_shown_in_each_callers_zone(app, client, eworld):
    client.patch("/users/preferences", headers=eworld.h("admin"), json={"timezone": "America/New_York"})
    body = {**EVENT, "event_timestamp": "2030-06-01 10:00:00.000", "name": "NY", "users": [eworld.ids["standard"]]}
    client.post("/event", headers=eworld.h("admin", group_id=eworld.group_id), json=body)
    mine = {e["name"]: e for e in data_of(client.get("/event", headers=eworld.h("admin")))}
    theirs = {e["name"]: e for e in data_of(client.get("/event", headers=eworld.h("standard")))}
    assert mine["NY"]["event_timestamp"] == "2030-06-01 10:00:00"
    assert theirs["NY"]["event_timestamp"] == "2030-06-01 16:00:00"  # Europe/Warsaw (default zone)
    with app.app_context():
        assert db.session.scalar(select(Event.timezone).where(Event.name == "NY")) == "America/New_York"


def test_budget_is_stored_only_when_budgeted(client, eworld):
    for is_budget, budget, expected in [(False, "", None), (False, -1, None), (True, 99.5, 99.5), (True, "0", 0.0)]:
        body = {**EVENT, "is_budget": is_budget, "budget": budget, "name": f"B{expected}{is_budget}", "users": []}
        assert client.post("/event", headers=eworld.h("admin", group_id=eworld.group_id), json=body).status_code == 200
    budgets = {e["name"]: e["budget"] for e in data_of(client.get("/event", headers=eworld.h("admin")))}
    assert budgets["BNoneFalse"] is None and budgets["B99.5True"] == 99.5 and budgets["B0.0True"] == 0.0


@pytest.mark.parametrize("changes", [
    {"reminder": "weekly"}, {"schedule_period": "2 days"}, {"schedule_period": None},
    {"event_timestamp": "2030-13-01 10:00:00"}, {"event_timestamp": "2030-02-30 10:00:00"},
    {"event_timestamp": "tomorrow"}, {"event_timestamp": "2030-02-01 25:00:00"}, {"event_timestamp": 1700000000},
    {"budget": "abc"}, {"budget": "-5"}, {"budget": "1.234"}, {"budget": ""}, {"budget": "1e12"}, {"budget": True},
    {"name": ""}, {"name": "x" * 501}, {"description": "x" * 501}, {"users": ["abc"]}, {"users": "1"},
    {"is_budget": "maybe"}, {"role": "admin"},
])
def test_bad_event_input_is_422_and_changes_nothing(app, client, eworld, changes):
    before = event_snapshot(app)
    body = {**EVENT, "users": [], **changes}
    assert client.post("/event", headers=eworld.h("admin", group_id=eworld.group_id), json=body).status_code == 422
    edit = {**EVENT, "id": eworld.event_id, "users": [eworld.ids["admin"]], **changes}
    assert client.put("/event", headers=eworld.h("admin"), json=edit).status_code == 422
    assert event_snapshot(app) == before


def test_event_members_must_be_group_members(app, client, eworld):
    before = event_snapshot(app)
    body = {**EVENT, "users": [eworld.ids["stranger"]]}
    response = client.post("/event", headers=eworld.h("admin", group_id=eworld.group_id), json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"users": [f"Not members of the group: {eworld.ids['stranger']}"]}
    edit = {**EVENT, "id": eworld.event_id, "users": [eworld.ids["stranger"]]}
    assert client.put("/event", headers=eworld.h("admin"), json=edit).status_code == 422
    assert client.put("/event", headers=eworld.h("admin"), json={**edit, "users": []}).status_code == 422
    assert event_snapshot(app) == before


def test_an_event_cannot_move_to_another_group(app, client, eworld):
    other = make_group(app, eworld.ids["admin"])
    edit = {**EVENT, "id": eworld.event_id, "group_id": other, "users": [eworld.ids["admin"]]}
    assert client.put("/event", headers=eworld.h("admin"), json=edit).status_code == 422


def test_editing_replaces_the_member_set(app, client, eworld):
    edit = {**EVENT, "id": eworld.event_id, "group_id": eworld.group_id,
            "users": [eworld.ids["admin"], eworld.ids["admin"], eworld.ids["bystander"]]}
    assert client.put("/event", headers=eworld.h("moderator"), json=edit).status_code == 200
    with app.app_context():
        members = db.session.scalars(select(EventMember.user_id).where(EventMember.event_id == eworld.event_id))
        assert sorted(members) == sorted([eworld.ids["admin"], eworld.ids["bystander"]])
    assert data_of(client.get("/event", headers=eworld.h("standard"))) == []


# --- comments -------------------------------------------------------------------------------

def test_comments_are_listed_newest_first_with_author_and_age(client, eworld):
    client.post("/event/comment", headers=eworld.h("admin"), json={"event_id": eworld.event_id, "comment": "second"})
    comments = data_of(client.get("/event/comment", headers=eworld.h("moderator", event_id=eworld.event_id)))
    assert [c["comment"] for c in comments] == ["second", "first!"]
    first = comments[1]
    assert first["user_id"] == eworld.ids["standard"] and first["email"] == "standard@example.com"
    assert first["event_id"] == eworld.event_id
    assert re.fullmatch(r"\d+(y|mon|w|d|h|min|s) ago", first["event_timestamp"])


@pytest.mark.parametrize("comment", ["", "x" * 501, None, 5])
def test_bad_comments_are_422(client, eworld, comment):
    response = client.post("/event/comment", headers=eworld.h("admin"),
                           json={"event_id": eworld.event_id, "comment": comment})
    assert response.status_code == 422


def test_post_comment_returns_the_id_as_a_list(client, eworld):
    data = data_of(client.post("/event/comment", headers=eworld.h("admin"),
                             json={"event_id": str(eworld.event_id), "comment": "x"}))
    assert isinstance(data["events_comments_id"], list) and isinstance(data["events_comments_id"][0], int)


# --- deletion and membership cascades ----------------------------------------------------

def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _log_delivery(app, topic):
    import uuid

    with app.app_context():
        db.session.add(NotificationDelivery(message_id=uuid.uuid4(), channel="EMAIL", recipient="x@example.com",
                                            body="b", status=DeliveryStatus.SENT, topic=topic))
        db.session.commit()


def test_deleting_an_event_with_comments_reminders_and_logs_succeeds(app, client, eworld, sqs):
    notify = client.post("/event/notify", headers=eworld.h("admin"), json={"event_id": eworld.event_id})
    assert notify.status_code == 200
    _log_delivery(app, f"group:{eworld.group_id}/event:{eworld.event_id}")
    _log_delivery(app, f"group:{eworld.group_id}/event:{eworld.event_id}0")  # another event's log stays
    assert client.delete("/event", headers=eworld.h("admin"), json={"id": eworld.event_id}).status_code == 200
    for model in (Event, EventMember, EventComment, EventReminder):
        assert _count(app, model) == 0
    run_background(app)  # the notifications domain forgets the event's log when it handles events.event_deleted
    with app.app_context():
        topics = db.session.scalars(select(NotificationDelivery.topic)).all()
    assert topics == [f"group:{eworld.group_id}/event:{eworld.event_id}0"]


def test_removing_a_group_member_removes_them_from_its_events(app, client, eworld):
    remove = eworld.h("admin", group_id=eworld.group_id, user_id=eworld.ids["standard"])
    assert client.delete("/group/members", headers=remove, json={}).status_code == 200
    assert _count(app, EventMember, EventMember.user_id == eworld.ids["standard"]) == 0
    assert data_of(client.get("/event", headers=eworld.h("standard"))) == []
    assert client.get("/event/comment", headers=eworld.h("standard", event_id=eworld.event_id)).status_code == 404


def test_deleting_a_group_removes_its_events_and_their_logs(app, client, eworld, sqs):
    _log_delivery(app, f"group:{eworld.group_id}/event:{eworld.event_id}")
    assert client.delete("/groups", headers=eworld.h("admin"), json={"id": eworld.group_id}).status_code == 200
    run_background(app)
    for model in (Event, EventMember, EventComment, NotificationDelivery):
        assert _count(app, model) == 0


def test_notify_all_is_throttled(client, eworld):
    first = client.post("/event/notify", headers=eworld.h("admin"), json={"event_id": eworld.event_id})
    assert first.status_code == 200
    again = client.post("/event/notify", headers=eworld.h("admin"), json={"event_id": eworld.event_id})
    assert again.status_code == 429 and 86390 <= int(again.headers["Retry-After"]) <= 86400  # the time left
    assert again.get_json()["status"]["message"] == "You can send 1 notification per 24 hours"


def test_the_notify_throttle_says_how_long_is_left(app, client, eworld, monkeypatch):
    from datetime import timedelta

    from torium_api import clock

    assert client.post("/event/notify", headers=eworld.h("admin"), json={"event_id": eworld.event_id}) \
        .status_code == 200
    later = clock.now() + timedelta(hours=23)
    monkeypatch.setattr(clock, "now", lambda: later)
    again = client.post("/event/notify", headers=eworld.h("admin"), json={"event_id": eworld.event_id})
    assert again.status_code == 429 and 3590 <= int(again.headers["Retry-After"]) <= 3600


def test_an_empty_or_null_legacy_user_header_is_ignored(client, eworld):
    """The app sends trm-user-id: '' until it has read custom:user_id from Cognito."""
    for value in ("", " ", "null", "NULL"):
        response = client.get("/event", headers={**eworld.h("admin"), "trm-user-id": value})
        assert response.status_code == 200, value
    assert client.get("/event", headers={**eworld.h("admin"), "trm-user-id": "999"}).status_code == 403


def test_json_is_declared_utf_8(client, eworld):
    """Dart's http reads a body without a charset as Latin-1: "Łódź" would arrive garbled."""
    response = client.get("/event", headers=eworld.h("admin"))
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


# --- queries do not grow with the data -----------------------------------------------------

def test_get_event_queries_do_not_grow_with_the_number_of_events(app, client, tokens):
    me, headers = tokens.user("busy@example.com")
    friends = [tokens.user(f"f{i}@example.com")[0] for i in range(2)]
    group = make_group(app, me, members={f: "standard" for f in friends})
    body = {**EVENT, "users": friends}
    client.post("/event", headers={**headers, "trm-group-id": str(group)}, json=body)
    with count_queries(app) as few:
        assert len(data_of(client.get("/event?page=1", headers=headers))) == 1
    with count_queries(app) as few_unpaged:
        assert len(data_of(client.get("/event", headers=headers))) == 1
    for g in range(20):
        group = make_group(app, me, members={f: "standard" for f in friends}, name=f"G{g}")
        for _ in range(10):
            make_event(app, group, me, friends)  # built directly: 200 POSTs would also meet the daily quota
    with count_queries(app) as many:
        assert len(data_of(client.get("/event?page_size=500", headers=headers))) == 201
    with count_queries(app) as many_unpaged:
        assert len(data_of(client.get("/event", headers=headers))) == 201  # every upcoming event
    assert len(many) == len(few) == 3  # user, the page with its total, the page's members
    assert len(many_unpaged) == len(few_unpaged) == 3  # the same: the first 500 rows size the page themselves
    print(f"\nqueries: GET /event {len(many)} (20 groups, 201 events)")


def test_upcoming_events_come_first_soonest_first_then_past_ones_newest_first(app, client, tokens):
    from datetime import timedelta

    from torium_api import clock

    me, headers = tokens.user("planner@example.com")
    group = make_group(app, me)
    now = clock.now()
    for name, days in (("past-far", -30), ("soon", 1), ("past-near", -1), ("later", 10), ("latest", 40)):
        make_event(app, group, me, name=name, starts_at=now + timedelta(days=days))
    expected = ["soon", "later", "latest", "past-near", "past-far"]
    assert [e["name"] for e in data_of(client.get("/event", headers=headers))] == expected
    in_group = {**headers, "trm-group-id": str(group)}
    assert [e["name"] for e in data_of(client.get("/event", headers=in_group))] == expected
    page_two = client.get("/event?page=2&page_size=2", headers=headers)
    assert [e["name"] for e in data_of(page_two)] == ["latest", "past-near"]


def test_the_apps_unpaged_call_sees_every_upcoming_event_beyond_a_hundred(app, client, tokens):
    from datetime import timedelta

    from torium_api import clock

    me, headers = tokens.user("keen@example.com")
    group = make_group(app, me)
    now = clock.now()
    for days in range(1, 131):
        make_event(app, group, me, name=f"up{days}", starts_at=now + timedelta(days=days))
    for days in range(1, 21):
        make_event(app, group, me, name=f"past{days}", starts_at=now - timedelta(days=days))
    unpaged = client.get("/event", headers=headers)
    names = [e["name"] for e in data_of(unpaged)]
    assert names == [f"up{d}" for d in range(1, 131)]  # all 130 upcoming; no room for past ones
    assert '"total": 150' in unpaged.headers["X-Pagination"]
    assert len(data_of(client.get("/event?page=1", headers=headers))) == 100  # a client that pages: 100


def test_the_apps_unpaged_call_is_capped_and_filled_up_with_past_events(app, client, tokens, monkeypatch):
    """The documented bounds, scaled down (UNPAGED_MIN 100 → 3, UNPAGED_MAX 500 → 5): more upcoming events than
    the cap show the soonest UNPAGED_MAX; fewer upcoming than UNPAGED_MIN are filled up with the newest past ones."""
    from datetime import timedelta

    from torium_api import clock
    from torium_api.events.services import events

    monkeypatch.setattr(events, "UNPAGED_MIN", 3)
    monkeypatch.setattr(events, "UNPAGED_MAX", 5)
    me, headers = tokens.user("capped@example.com")
    group = make_group(app, me)
    now = clock.now()
    for days in (1, 2):
        make_event(app, group, me, name=f"up{days}", starts_at=now + timedelta(days=days))
    for days in (1, 2, 3):
        make_event(app, group, me, name=f"past{days}", starts_at=now - timedelta(days=days))
    assert [e["name"] for e in data_of(client.get("/event", headers=headers))] == ["up1", "up2", "past1"]
    for days in range(3, 9):
        make_event(app, group, me, name=f"up{days}", starts_at=now + timedelta(days=days))
    capped = client.get("/event", headers=headers)
    assert [e["name"] for e in data_of(capped)] == [f"up{d}" for d in range(1, 6)]
    assert '"total": 11' in capped.headers["X-Pagination"]
