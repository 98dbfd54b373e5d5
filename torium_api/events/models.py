import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from torium_api.events.schedule import Period, Reminder
from torium_api.extensions import db
from torium_api.groups.models import Group
from torium_api.orm import TimestampMixin, pg_enum
from torium_api.users.models import User


class ReminderKind(enum.StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class Event(TimestampMixin, db.Model):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("id", "group_id"),  # target of event_members' (event_id, group_id) key
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
        CheckConstraint("is_budget OR budget IS NULL", name="budget_only_when_budgeted"),
        # A day inside what Python's datetime holds: every zone (offsets up to a day) can show it (migration 0010).
        CheckConstraint("starts_at > '0001-01-02 00:00+00' AND starts_at < '9999-12-30 00:00+00'",
                        name="starts_at_in_range"),
        Index("ix_events_next_reminder_at", "next_reminder_at", postgresql_where=text("next_reminder_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(500))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(String(64), comment="zone the reminders are aligned in")
    is_budget: Mapped[bool] = mapped_column(Boolean)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    reminder: Mapped[Reminder] = mapped_column(pg_enum(Reminder, "reminder_kind"))
    schedule_period: Mapped[Period] = mapped_column(pg_enum(Period, "schedule_period"))
    next_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_comment_push_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    group: Mapped[Group] = relationship(lazy="joined", innerjoin=True)
    members: Mapped[list["EventMember"]] = relationship(
        back_populates="event", order_by="EventMember.id", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def topic(self) -> str:
        return f"group:{self.group_id}/event:{self.id}"


class EventMember(db.Model):
    """Event membership. Its (group_id, user_id) key points at group_members: only group members can
    be event members, and leaving (or being removed from) the group removes them from its events."""

    __tablename__ = "event_members"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        ForeignKeyConstraint(["event_id", "group_id"], ["events.id", "events.group_id"], ondelete="CASCADE",
                             name="fk_event_members_event_group"),
        ForeignKeyConstraint(["group_id", "user_id"], ["group_members.group_id", "group_members.user_id"],
                             ondelete="CASCADE", name="fk_event_members_group_member"),
        Index("ix_event_members_user_id", "user_id"),
        Index("ix_event_members_group_id_user_id", "group_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int]
    group_id: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    event: Mapped[Event] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="raise_on_sql")  # lists select the user columns they show


class EventComment(TimestampMixin, db.Model):
    __tablename__ = "event_comments"
    __table_args__ = (Index("ix_event_comments_event_id_created_at", "event_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    comment: Mapped[str] = mapped_column(String(500))

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class EventReminder(db.Model):
    """One firing of an event's reminder; (event, trigger time) is unique, so it fires once."""

    __tablename__ = "event_reminders"
    __table_args__ = (UniqueConstraint("event_id", "trigger_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    trigger_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[ReminderKind] = mapped_column(pg_enum(ReminderKind, "event_reminder_kind"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
