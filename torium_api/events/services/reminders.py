"""Reminders: the next trigger per event, the scheduler job that fires due ones, notify-now, fan-out.

Firing inserts an ``event_reminders`` row, unique per (event, trigger time), and emits
``events.reminder_due``; the handler fans out one notification message per member, so each
member's delivery is retried and de-duplicated on its own and one bad profile blocks nobody.
"""

import logging
import math
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from torium_api import clock, queues
from torium_api.actor import Actor
from torium_api.database import locked
from torium_api.errors import NotFound, TooManyRequests
from torium_api.events.models import Event, EventMember, EventReminder, ReminderKind
from torium_api.events.schedule import next_trigger
from torium_api.events.times import local_moment
from torium_api.extensions import db
from torium_api.groups import services as groups
from torium_api.groups.models import Role
from torium_api.notifications import Channel, request_notification
from torium_api.outbox import emit
from torium_api.users import services as users
from torium_api.users.models import User

log = logging.getLogger(__name__)
BATCH = 500


def _next_trigger(event: Event, after):
    return next_trigger(event.starts_at, ZoneInfo(event.timezone), event.reminder, event.schedule_period, after=after)


def schedule(event: Event) -> None:
    event.next_reminder_at = _next_trigger(event, clock.now())


def fire_due_reminders() -> int:
    """The scheduler job: fire every due event once and move it to its next trigger after now.

    A worker that was down fires each overdue event once (not once per missed period)."""
    now, fired = clock.now(), 0
    while True:
        query = db.select(Event).where(Event.next_reminder_at <= now).order_by(Event.next_reminder_at).limit(BATCH)
        due = db.session.scalars(locked(query, of=Event, skip_locked=True)).all()
        for event in due:
            fired += _fire(event, event.next_reminder_at, ReminderKind.SCHEDULED)
            event.next_reminder_at = _next_trigger(event, now)
        db.session.flush()
        if len(due) < BATCH:
            return fired


def _fire(event: Event, trigger_at, kind: ReminderKind) -> bool:
    statement = insert(EventReminder).values(event_id=event.id, trigger_at=trigger_at, kind=kind)
    reminder_id = db.session.scalar(statement.on_conflict_do_nothing().returning(EventReminder.id))
    if reminder_id is None:
        return False
    emit("events.reminder_due", {"reminder_id": reminder_id}, queue=queues.DOMAIN_EVENTS)
    return True


def notify_now(actor: Actor, event_id: int) -> None:
    """"Notify all": the same reminder, now; at most once per event per NOTIFY_THROTTLE_SECONDS."""
    event = db.session.scalar(locked(db.select(Event).where(Event.id == event_id), of=Event))
    membership = groups.find_membership(event.group_id, actor.id) if event else None
    if membership is None:
        raise NotFound("Event not found")
    groups.require_role(membership, Role.ADMIN, action="notify all members")
    throttle = timedelta(seconds=current_app.config["NOTIFY_THROTTLE_SECONDS"])
    now = clock.now()
    last = db.session.scalar(db.select(db.func.max(EventReminder.trigger_at)).where(
        EventReminder.event_id == event.id, EventReminder.kind == ReminderKind.MANUAL,
        EventReminder.trigger_at > now - throttle))
    if last is not None:
        wait = math.ceil((last + throttle - now).total_seconds())  # until the last one leaves the window
        raise TooManyRequests(f"You can send 1 notification per {_span(throttle)}", headers={"Retry-After": str(wait)})
    _fire(event, now, ReminderKind.MANUAL)


def _span(period: timedelta) -> str:
    hours, rest = divmod(int(period.total_seconds()), 3600)
    if not rest:
        return "hour" if hours == 1 else f"{hours} hours"
    minutes = max(int(period.total_seconds()) // 60, 1)
    return "minute" if minutes == 1 else f"{minutes} minutes"


def fan_out(reminder_id: int) -> int:
    """One notification request per event member, by their preference, with their share of the budget."""
    reminder = db.session.get(EventReminder, reminder_id)
    if reminder is None:
        log.info("reminder of a deleted event skipped")
        return 0
    event = db.session.get(Event, reminder.event_id)
    members = db.session.scalars(db.select(User).join(EventMember).where(EventMember.event_id == event.id)).all()
    for user in members:
        request_notification(user.id, subject="Torium reminder!", text=_text(event, user, len(members)),
                             channel=Channel.PREFERRED, topic=event.topic,
                             data={"event_id": str(event.id),
                                   "forward_link": user.organization.url if user.organization else "None"})
    return len(members)


def _text(event: Event, user: User, member_count: int) -> str:
    zone = users.zone_of(user)
    local = local_moment(event.starts_at, zone)  # a stored far-future instant must not break the message
    lines = ["Torium reminder!", f"Event name: {event.name}"]
    if event.description:
        lines.append(f"Description: {event.description}")
    lines.append(f"Time: {local:%d %b %Y, %H:%M} ({zone.key})")
    if event.is_budget and event.budget is not None:
        currency = current_app.config["CURRENCY"]
        share = event.budget / max(member_count, 1)
        lines.append(f"Budget for this event: {event.budget:.2f} {currency}")
        link = f", you can pay it here: {user.organization.url}" if user.organization else ""
        lines.append(f"Your share: {share:.2f} {currency}{link}")
    return "\n".join(lines)
