import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from torium_api.extensions import db
from torium_api.orm import TimestampMixin, pg_enum
from torium_api.users.models import User


class Role(enum.StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    STANDARD = "standard"


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Group(TimestampMixin, db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)


class GroupMember(db.Model):
    """Membership and role. One row per (group, user), enforced by the database."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)  # its index also serves group_id look-ups

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(pg_enum(Role, "member_role"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    user: Mapped[User] = relationship(lazy="raise_on_sql")  # lists select the user columns they show

    def outranks(self, other: "GroupMember") -> bool:
        """Admins act on anyone; moderators only on standard members."""
        return self.role is Role.ADMIN or (self.role is Role.MODERATOR and other.role is Role.STANDARD)


class GroupInvitation(db.Model):
    """An invitation; at most one pending per (group, user), enforced by a partial unique index."""

    __tablename__ = "group_invitations"
    __table_args__ = (
        Index("uq_group_invitations_pending", "group_id", "user_id", unique=True,
              postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[InvitationStatus] = mapped_column(pg_enum(InvitationStatus, "invitation_status"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    group: Mapped[Group] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id], lazy="joined")

    def answer(self, accept: bool) -> None:
        self.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.REJECTED
        self.answered_at = func.now()
