"""Comments on an event: members post and read; authors edit and delete; group admins delete any."""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import BigInteger, Text, bindparam, case, literal
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from torium_api import clock, queues, quotas
from torium_api.actor import Actor
from torium_api.errors import Forbidden, NotFound
from torium_api.events.models import Event, EventComment, EventMember
from torium_api.events.services.events import get_event_for_member
from torium_api.extensions import db
from torium_api.groups import services as groups
from torium_api.groups.models import Role
from torium_api.notifications import Channel, request_notification
from torium_api.outbox import emit
from torium_api.paging import offset_page, paged
from torium_api.users.models import User

log = logging.getLogger(__name__)
COMMENT_NOT_FOUND = "Comment not found"
_UNITS = (("y", 365 * 86400), ("mon", 30 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("min", 60),
          ("s", 1))
PREVIEW = 60


def age(created_at: datetime, now: datetime) -> str:
    """The app's relative time: "5min ago", "2h ago", "3d ago" (never empty)."""
    seconds = max(int((now - created_at).total_seconds()), 0)
    for unit, size in _UNITS:
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "0s ago"


def post_comment(actor: Actor, event_id: int, comment: str) -> EventComment:
    event = get_event_for_member(actor, event_id)
    quotas.enforce("comments", EventComment.created_at, EventComment.user_id == actor.id,
                   limit=current_app.config["QUOTA_COMMENTS_PER_HOUR"], window=timedelta(hours=1))
    posted = EventComment(event_id=event.id, user_id=actor.id, comment=comment)
    db.session.add(posted)
    db.session.flush()
    emit("events.comment_posted", {"comment_id": posted.id}, queue=queues.DOMAIN_EVENTS)
    return posted


def age_sql(created_at, now) -> ColumnElement:
    """``age`` in SQL: the same text, for the comments page's ETag digest (tests/test_conditional_get.py checks
    the two agree)."""
    seconds = db.func.greatest(db.func.floor(db.func.extract("epoch", now - created_at)), 0).cast(BigInteger)
    return case(*((seconds >= size, (seconds // size).cast(Text) + f"{unit} ago") for unit, size in _UNITS),
                else_=literal("0s ago"))


def _ages(page):
    """The page's comments' ages as the list shows them, for its ETag digest: the page changes as time passes."""
    age = db.func.json_build_array(page.c.id, age_sql(page.c.created_at, bindparam("digest_now")))
    return db.select(db.func.json_agg(aggregate_order_by(age, page.c.id))).scalar_subquery()


_COMMENTS = paged(db.select(EventComment.id, EventComment.event_id, EventComment.user_id, User.email,
                            EventComment.comment, EventComment.created_at)
                  .join(User, User.id == EventComment.user_id)
                  .where(EventComment.event_id == bindparam("event_id"))
                  .order_by(EventComment.created_at.desc(), EventComment.id.desc()),
                  digest_also=lambda page: [_ages(page)])


def list_comments(actor: Actor, event_id: int, page: int = 1, page_size: int = 100) -> tuple[list[dict], int]:
    """The event's comments, newest first, one offset page (the app asks for the first)."""
    get_event_for_member(actor, event_id)
    rows, total = offset_page(_COMMENTS, page, page_size, event_id=event_id)
    now = clock.now()
    return [{"id": comment_id, "event_id": in_event, "user_id": user_id, "email": email, "comment": text,
             "event_timestamp": age(created_at, now)}
            for comment_id, in_event, user_id, email, text, created_at in rows], total


def comments_by(user_id: int) -> list[EventComment]:
    """Every comment a user wrote, oldest first (their data export; also in groups they have left)."""
    return list(db.session.scalars(db.select(EventComment).where(EventComment.user_id == user_id)
                                   .order_by(EventComment.id)))


def _get_comment(comment_id: int) -> EventComment:
    comment = db.session.get(EventComment, comment_id)
    if comment is None:
        raise NotFound(COMMENT_NOT_FOUND)
    return comment


def update_comment(actor: Actor, comment_id: int, comment: str) -> EventComment:
    existing = _get_comment(comment_id)
    get_event_for_member(actor, existing.event_id)
    if existing.user_id != actor.id:
        raise Forbidden("Only the author can edit a comment")
    existing.comment = comment
    return existing


def delete_comment(actor: Actor, comment_id: int) -> None:
    existing = _get_comment(comment_id)
    if existing.user_id != actor.id:
        event = db.session.get(Event, existing.event_id)
        membership = groups.find_membership(event.group_id, actor.id)
        if membership is None:
            raise NotFound(COMMENT_NOT_FOUND)
        groups.require_role(membership, Role.ADMIN, action="delete others' comments")
    db.session.delete(existing)


def fan_out(comment_id: int) -> int:
    """Push the comment to the event's other members, naming its author: at most one comment push per event per
    COMMENT_PUSH_INTERVAL_SECONDS (a busy thread would otherwise push every member for every line of it; the
    comments are in the app either way)."""
    comment = db.session.get(EventComment, comment_id)
    if comment is None:
        return 0
    interval = timedelta(seconds=current_app.config["COMMENT_PUSH_INTERVAL_SECONDS"])
    due = db.or_(Event.last_comment_push_at.is_(None), Event.last_comment_push_at <= db.func.now() - interval)
    claimed = db.session.scalar(db.update(Event).where(Event.id == comment.event_id, due)
                                .values(last_comment_push_at=db.func.now()).returning(Event.id))
    if claimed is None:
        log.info("comment push skipped: the event's members were pushed within the interval")
        return 0
    event = db.session.get(Event, comment.event_id)
    recipients = db.session.scalars(db.select(EventMember.user_id).where(
        EventMember.event_id == event.id, EventMember.user_id != comment.user_id)).all()
    preview = comment.comment if len(comment.comment) <= PREVIEW else comment.comment[:PREVIEW] + "…"
    for user_id in recipients:
        request_notification(user_id, subject=f"New comment: {event.name}", text=f"{comment.author.email}: {preview}",
                             channel=Channel.PUSH, topic=event.topic,
                             data={"event_id": str(event.id), "forward_link": "None"})
    return len(recipients)
