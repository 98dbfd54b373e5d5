"""Reminders against the database with a frozen, stepped clock; fan-out observed at moto's server."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import make_group, run_concurrently
from torium_api import clock
from torium_api.database import transaction
from torium_api.dev.local_aws import sent_notifications
from torium_api.events.models import Event, EventReminder
from torium_api.events.services import reminders
from torium_api.extensions import db
from torium_api.notifications.models import NotificationDelivery
from torium_api.outbox.models import OutboxMessage
from torium_api.outbox.relay import relay_batch
from torium_api.users.models import User
from torium_api.workers import runner

WARSAW = ZoneInfo("Europe/Warsaw")


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def frozen(monkeypatch):
    frozen_clock = Clock(datetime(2026, 3, 20, 12, 0, tzinfo=WARSAW))
    monkeypatch.setattr(clock, "now", frozen_clock)
    return frozen_clock


@pytest.fixture
def group(app, client, tokens):
    admin, headers = tokens.user("admin@example.com")
    friend, _ = tokens.user("friend@example.com")
    return make_group(app, admin, members={friend: "standard"}), [admin, friend], headers


def _create(client, group, **fields) -> int:
    group_id, members, headers = group
    body = {"is_budget": False, "budget": "", "description": "", "users": members, "name": "E", **fields}
    response = client.post("/event", headers={**headers, "trm-group-id": str(group_id)}, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]["id"]


def _tick(app) -> int:
    with app.app_context(), transaction():
        return reminders.fire_due_reminders()


def _travel(app, frozen, until: datetime, step=timedelta(minutes=30)) -> list[tuple]:
    """Tick every `step` until `until`; return (event id, trigger, the clock when it fired)."""
    fired = []
    while frozen.now < until:
        frozen.now += step
        if _tick(app):
            with app.app_context():
                rows = db.session.execute(select(EventReminder.event_id, EventReminder.trigger_at)
                                          .order_by(EventReminder.id)).all()
            fired += [(e, t, frozen.now) for e, t in rows[len(fired):]]
    return fired


def _local(moment: datetime) -> str:
    return moment.astimezone(WARSAW).strftime("%m-%d %H:%M")


def test_time_travel_once_and_daily_across_dst_fire_on_time_and_stop(app, client, group, frozen):
    once = _create(client, group, event_timestamp="2026-04-02 18:30:00.00", reminder="once",
                   schedule_period="1 week")
    daily = _create(client, group, event_timestamp="2026-04-02 18:30:00.00", reminder="periodical",
                    schedule_period="1 day")
    fired = _travel(app, frozen, until=datetime(2026, 4, 10, tzinfo=WARSAW))
    assert [_local(t) for e, t, _ in fired if e == once] == ["03-26 18:30"]
    assert [_local(t) for e, t, _ in fired if e == daily] == [f"03-{d} 18:30" for d in range(20, 32)] + [
        "04-01 18:30"]
    assert all(timedelta(0) <= at - trigger <= timedelta(minutes=30) for _, trigger, at in fired)  # on time
    with app.app_context():
        assert db.session.scalars(select(Event.next_reminder_at)).all() == [None, None]  # stopped


@pytest.mark.parametrize("period, event_at, expected", [
    ("1 week", "2026-04-24 20:00:00", ["03-20 20:00", "03-27 20:00", "04-03 20:00", "04-10 20:00", "04-17 20:00"]),
    ("1 month", "2026-07-31 09:00:00", ["03-31 09:00", "04-30 09:00", "05-31 09:00", "06-30 09:00"]),
])
def test_time_travel_weekly_and_monthly(app, client, group, frozen, period, event_at, expected):
    _create(client, group, event_timestamp=event_at, reminder="periodical", schedule_period=period)
    fired = _travel(app, frozen, until=datetime(2026, 8, 1, tzinfo=WARSAW), step=timedelta(hours=2))
    assert [_local(t) for _, t, _ in fired] == expected


def test_an_event_in_another_zone_fires_on_its_own_wall_clock(app, client, group, frozen):
    _, _, headers = group
    client.patch("/users/preferences", headers=headers, json={"timezone": "America/New_York"})
    _create(client, group, event_timestamp="2026-03-24 09:00:00", reminder="periodical", schedule_period="1 day")
    fired = _travel(app, frozen, until=datetime(2026, 3, 25, tzinfo=WARSAW), step=timedelta(minutes=15))
    ny = ZoneInfo("America/New_York")
    assert [t.astimezone(ny).strftime("%m-%d %H:%M") for _, t, _ in fired] == [
        "03-20 09:00", "03-21 09:00", "03-22 09:00", "03-23 09:00"]


def test_a_worker_down_for_days_catches_up_once(app, client, group, frozen):
    _create(client, group, event_timestamp="2026-04-02 18:30:00", reminder="periodical", schedule_period="1 day")
    frozen.now = datetime(2026, 3, 25, 12, 0, tzinfo=WARSAW)  # down since the 20th
    assert _tick(app) == 1
    assert _tick(app) == 0
    with app.app_context():
        assert _local(db.session.scalar(select(Event.next_reminder_at))) == "03-25 18:30"


def test_two_workers_ticking_at_once_send_each_reminder_once(app, client, group, frozen):
    for i in range(30):
        _create(client, group, event_timestamp=f"2026-03-22 1{i % 10}:00:00", reminder="once",
                schedule_period="1 day", name=f"E{i}")
    frozen.now = datetime(2026, 3, 21, 23, 0, tzinfo=WARSAW)
    assert sum(run_concurrently(lambda: _tick(app), lambda: _tick(app))) == 30
    with app.app_context():
        assert len(db.session.scalars(select(EventReminder)).all()) == 30
        due = db.session.scalars(select(OutboxMessage).where(OutboxMessage.type == "events.reminder_due")).all()
        assert len(due) == 30
    assert _tick(app) == 0  # a re-run tick sends nothing


def test_editing_the_event_moves_its_reminder(app, client, group, frozen):
    event_id = _create(client, group, event_timestamp="2026-03-25 10:00:00", reminder="once",
                       schedule_period="1 day")
    _, members, headers = group
    edit = {"id": event_id, "is_budget": False, "budget": -1, "description": "", "users": members, "name": "E",
            "event_timestamp": "2026-03-28 10:00:00.000", "reminder": "once", "schedule_period": "1 day"}
    assert client.put("/event", headers=headers, json=edit).status_code == 200
    fired = _travel(app, frozen, until=datetime(2026, 3, 30, tzinfo=WARSAW), step=timedelta(hours=1))
    assert [_local(t) for _, t, _ in fired] == ["03-27 10:00"]


def test_a_reminder_reaches_every_member_even_when_one_has_no_phone(app, client, tokens, sqs, aws_endpoint):
    admin, headers = tokens.user("boss@example.com")
    members = [tokens.user(f"m{i}@example.com")[0] for i in range(4)]
    group_id = make_group(app, admin, members={m: "standard" for m in members})
    phones = {}
    with app.app_context():
        for user_id in [admin, *members]:
            user = db.session.get(User, user_id)
            user.reminder_preferences = "SMS"
            user.organization_id = 1
            if user_id != members[-1]:  # the last member chose SMS but has no number (an old profile)
                user.mobile_number = phones[user_id] = f"+4863{uuid.uuid4().int % 10**7:07d}"
        db.session.commit()
    body = {"is_budget": True, "budget": "100", "description": "Dinner", "users": members, "name": "Party",
            "event_timestamp": "2030-05-01 19:00:00.00", "reminder": "once", "schedule_period": "1 day"}
    event_id = client.post("/event", headers={**headers, "trm-group-id": str(group_id)}, json=body)
    event_id = event_id.get_json()["data"]["id"]
    assert client.post("/event/notify", headers=headers, json={"event_id": event_id}).status_code == 200
    for _ in range(2):  # reminder_due → one notification request per member → deliveries
        with app.app_context():
            relay_batch()
        runner.drain_once(app, wait_seconds=0)
    sms = [s for s in sent_notifications(aws_endpoint) if s["channel"] == "SMS" and s["recipient"] in phones.values()]
    assert sorted(s["recipient"] for s in sms) == sorted(phones.values())  # four, each once
    text = sms[0]["text"]
    assert "Event name: Party" in text and "Time: 01 May 2030, 19:00 (Europe/Warsaw)" in text
    assert "Your share: 20.00 PLN, you can pay it here: https://www.pkobp.pl/" in text
    with app.app_context():
        logged = db.session.execute(select(NotificationDelivery.user_id, NotificationDelivery.channel,
                                           NotificationDelivery.topic)).all()
    assert len(logged) == 5
    assert (members[-1], "EMAIL", f"group:{group_id}/event:{event_id}") in logged  # fell back to e-mail


def test_comment_pushes_go_to_the_other_members_naming_the_author(app, client, tokens, sqs, aws_endpoint):
    admin, headers = tokens.user("host@example.com")
    guest, guest_headers = tokens.user("guest@example.com")
    group_id = make_group(app, admin, members={guest: "standard"})
    body = {"is_budget": False, "budget": "", "description": "", "users": [guest], "name": "BBQ",
            "event_timestamp": "2030-05-01 19:00:00", "reminder": "once", "schedule_period": "1 day"}
    event_id = client.post("/event", headers={**headers, "trm-group-id": str(group_id)}, json=body)
    event_id = event_id.get_json()["data"]["id"]
    client.patch("/users/device", headers=headers, json={"device_token": f"fcm-{uuid.uuid4()}"})
    client.post("/event/comment", headers=guest_headers, json={"event_id": event_id, "comment": "I bring ribs"})
    for _ in range(2):
        with app.app_context():
            relay_batch()
        runner.drain_once(app, wait_seconds=0)
    with app.app_context():
        arn = db.session.get(User, admin).device_arn
        deliveries = db.session.execute(select(NotificationDelivery.user_id, NotificationDelivery.body)).all()
    pushes = [s["text"] for s in sent_notifications(aws_endpoint) if s["recipient"] == arn]
    assert pushes == ["New comment: BBQ: guest@example.com: I bring ribs"]
    assert [d.user_id for d in deliveries] == [admin]  # not the author
