"""Events: create, list, edit, delete. Times are aware instants; naive input is the caller's local time."""

from datetime import datetime, timedelta

import orjson
from flask import current_app
from sqlalchemy import Select, bindparam, case, func, literal
from sqlalchemy.dialects.postgresql import aggregate_order_by

from torium_api import clock, queues, quotas
from torium_api.actor import Actor
from torium_api.database import locked
from torium_api.errors import Invalid, NotFound
from torium_api.events.models import Event, EventMember
from torium_api.events.services import reminders
from torium_api.events.times import local_text
from torium_api.extensions import db
from torium_api.groups import services as groups
from torium_api.groups.models import Group, GroupMember, Role
from torium_api.outbox import emit
from torium_api.paging import add_to_digest, offset_page, paged
from torium_api.users import services as user_services
from torium_api.users.models import User

EVENT_NOT_FOUND = "Event not found"
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"  # what Dart's DateTime.parse reads, like the original's str(datetime)


def _instant(value: datetime, actor: Actor) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=user_services.zone_of(actor.user))


def _member_ids(group_id: int, requested: list[int], creator: User | None = None) -> list[int]:
    """The requested users (and the creator), once each; all must be members of the group."""
    wanted = list(dict.fromkeys([creator.id, *requested] if creator else requested))
    if not wanted:
        raise Invalid("An event needs at least one member", errors={"users": ["Must not be empty."]})
    found = set(db.session.scalars(db.select(GroupMember.user_id).where(
        GroupMember.group_id == group_id, GroupMember.user_id.in_(wanted))))
    missing = [user_id for user_id in wanted if user_id not in found]
    if missing:
        raise Invalid("Event members must be members of the group",
                      errors={"users": [f"Not members of the group: {', '.join(map(str, missing))}"]})
    return wanted


def create_event(actor: Actor, group_id: int, *, users: list[int], event_timestamp: datetime, **fields) -> Event:
    membership = groups.get_membership(actor, group_id)
    groups.require_role(membership, Role.ADMIN, Role.MODERATOR, action="create events")
    quotas.enforce("events", Event.created_at, Event.created_by_id == actor.id,
                   limit=current_app.config["QUOTA_EVENTS_PER_DAY"], window=timedelta(days=1))
    event = Event(group_id=group_id, created_by_id=actor.id, starts_at=_instant(event_timestamp, actor),
                  timezone=user_services.zone_of(actor.user).key, **fields)
    db.session.add(event)
    db.session.flush()
    db.session.add_all(EventMember(event_id=event.id, group_id=group_id, user_id=user_id)
                       for user_id in _member_ids(group_id, users, creator=actor))
    reminders.schedule(event)
    return event


def lock_event(event_id: int) -> Event:
    event = db.session.scalar(locked(db.select(Event).where(Event.id == event_id), of=Event))
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event


def _membership(actor: Actor, event: Event):
    """The actor's membership in the event's group; outside the group the event does not exist."""
    membership = groups.find_membership(event.group_id, actor.id)
    if membership is None:
        raise NotFound(EVENT_NOT_FOUND)
    return membership


def update_event(actor: Actor, event_id: int, *, users: list[int], event_timestamp: datetime,
                 group_id: int | None = None, **fields) -> Event:
    event = lock_event(event_id)
    groups.require_role(_membership(actor, event), Role.ADMIN, Role.MODERATOR, action="edit events")
    if group_id is not None and group_id != event.group_id:
        raise Invalid("An event cannot move to another group", errors={"group_id": ["Not the event's group."]})
    for name, value in fields.items():
        setattr(event, name, value)
    event.starts_at = _instant(event_timestamp, actor)
    _replace_members(event, _member_ids(event.group_id, users))
    reminders.schedule(event)
    return event


def _replace_members(event: Event, wanted: list[int]) -> None:
    current = {m.user_id: m for m in event.members}
    for user_id, member in current.items():
        if user_id not in wanted:
            event.members.remove(member)
    event.members.extend(EventMember(group_id=event.group_id, user_id=u) for u in wanted if u not in current)


def delete_event(actor: Actor, event_id: int) -> None:
    """Members, comments and reminders go by ON DELETE CASCADE; the delivery log is forgotten by the
    notifications domain when it handles ``events.event_deleted``."""
    event = lock_event(event_id)
    groups.require_role(_membership(actor, event), Role.ADMIN, action="delete events")
    db.session.delete(event)
    emit("events.event_deleted", {"event_id": event.id, "topic": event.topic}, queue=queues.NOTIFICATIONS)


def get_event_for_member(actor: Actor, event_id: int) -> Event:
    """An event the actor belongs to; others do not exist for them."""
    event = db.session.scalar(db.select(Event).join(EventMember).where(
        Event.id == event_id, EventMember.user_id == actor.id))
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event


_UPCOMING = Event.starts_at >= bindparam("now")
# Upcoming events first, soonest first; then past ones, newest first (what the app's calendar shows).
_UPCOMING_FIRST = (_UPCOMING.desc(), case((_UPCOMING, Event.starts_at)).asc(), Event.starts_at.desc(), Event.id)


def _mine(*where) -> Select:
    """The actor's events (event membership implies group membership: a composite foreign key)."""
    return (db.select(Event.id, Event.name, Event.description, Event.group_id, Group.name, Event.starts_at,
                      Event.is_budget, Event.budget, Event.reminder, Event.schedule_period, GroupMember.role)
            .select_from(EventMember)
            .join(Event, Event.id == EventMember.event_id)
            .join(Group, Group.id == EventMember.group_id)
            .join(GroupMember, (GroupMember.group_id == EventMember.group_id)
                  & (GroupMember.user_id == EventMember.user_id))
            .where(EventMember.user_id == bindparam("actor"), *where))


_IN_GROUP = EventMember.group_id == bindparam("group_id")
# The members a page shows are read once, by _members_of, and folded into the page's ETag digest from there
# (paging.add_to_digest), not digested again in SQL.
_MY_EVENTS = paged(_mine().order_by(*_UPCOMING_FIRST), completed_by_service=True)
_MY_EVENTS_IN_GROUP = paged(_mine(_IN_GROUP).order_by(*_UPCOMING_FIRST), completed_by_service=True)
UNPAGED_MIN, UNPAGED_MAX = 100, 500
NO_MEMBERS = "[]"
# Each event's members as one JSON array, written by PostgreSQL exactly as the response writes it
# ([{"id":1,"email":"a@b"},...]; to_json escapes the e-mail) and sent on untouched (orjson.Fragment): a page of
# 100 events with 10 members each is 100 rows and 100 strings, not 1,000 rows and 1,000 dicts.
_MEMBER = func.concat('{"id":', User.id, ',"email":', func.to_json(User.email), "}")
_MEMBERS_OF_EVENTS = (db.select(EventMember.event_id,
                                func.concat("[", func.string_agg(_MEMBER, aggregate_order_by(literal(","),
                                                                                             EventMember.id)), "]"))
                      .join(User, User.id == EventMember.user_id)
                      .where(EventMember.event_id.in_(bindparam("event_ids", expanding=True)))
                      .group_by(EventMember.event_id))


def list_events(actor: Actor, group_id: int | None, page: int, page_size: int | None) -> tuple[list[dict], int, int]:
    """The actor's events, upcoming first (soonest first), then past ones (newest first), with members and the
    actor's role: two queries, plain rows. Returns (items, total, page size used).

    ``page_size`` None is the app's unpaged call: page 1 holds every upcoming event (at least 100 rows, past
    ones filling up; at most UNPAGED_MAX upcoming: a page of 500 events with their members is already about
    1 MB, and the event quota makes more than that unlikely; a client that pages sees them all). It reads the
    first UNPAGED_MAX rows, upcoming ones first, and keeps as many as it shows: no query to count them first."""
    now = clock.now()
    params = {"actor": actor.id, "now": now}
    if group_id is not None:
        groups.get_membership(actor, group_id)
        params["group_id"] = group_id
    query = _MY_EVENTS if group_id is None else _MY_EVENTS_IN_GROUP
    if page_size is None:
        rows, total = offset_page(query, 1, UNPAGED_MAX, **params)
        page_size = max(sum(1 for row in rows if row[5] >= now), UNPAGED_MIN)  # row[5]: starts_at
        rows = rows[:page_size]
    else:
        rows, total = offset_page(query, page, page_size, **params)
    members = _members_of([row[0] for row in rows])
    add_to_digest("\n".join(f"{row[0]} {row[5] >= now} {members.get(row[0], NO_MEMBERS)}" for row in rows))
    zone = user_services.zone_of(actor.user)
    return [{
        "id": event_id, "name": name, "description": description, "group_id": in_group, "group_name": group_name,
        "event_timestamp": local_text(starts_at, zone, LOCAL_FORMAT), "is_budget": is_budget,
        "budget": float(budget) if budget is not None else None, "reminder": reminder.value,
        "schedule_period": period.legacy, "users": orjson.Fragment(members.get(event_id, NO_MEMBERS)),
        "status": role.value,
    } for event_id, name, description, in_group, group_name, starts_at, is_budget, budget, reminder, period, role
        in rows], total, page_size


def calendar_zone(actor: Actor) -> str:
    """The zone ``list_events`` shows times in (part of its ETag)."""
    return user_services.zone_of(actor.user).key


def _members_of(event_ids: list[int]) -> dict[int, str]:
    """The members of a page of events, each event's as its finished JSON array: one query."""
    return dict(db.session.execute(_MEMBERS_OF_EVENTS, {"event_ids": event_ids}).all())
