import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from torium_api.actor import AppRole
from torium_api.extensions import db
from torium_api.organizations.models import Organization
from torium_api.orm import TimestampMixin, pg_enum


class ReminderPreference(enum.StrEnum):
    SMS = "SMS"
    EMAIL = "EMAIL"
    PUSH = "PUSH"


class User(TimestampMixin, db.Model):
    """A person, keyed by their Cognito ``sub``; created the first time a token names them."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    cognito_sub: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), comment="the verified e-mail, '' while there is none")
    username: Mapped[str | None] = mapped_column(String(50))
    mobile_number: Mapped[str | None] = mapped_column(String(20))
    reminder_preferences: Mapped[ReminderPreference | None] = mapped_column(
        pg_enum(ReminderPreference, "reminder_preference"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    device_token: Mapped[str | None] = mapped_column(String(1024))
    device_arn: Mapped[str | None] = mapped_column(String(1024))
    timezone: Mapped[str | None] = mapped_column(String(64))
    identity_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cognito_username: Mapped[str | None] = mapped_column(
        String(128), comment="Cognito's Username, for the workers' admin calls (NULL: the sub is the username)")
    deleted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="erased: personal data gone; the sub stays so its tokens stay refused")

    organization: Mapped[Organization | None] = relationship(lazy="joined")

    @property
    def status(self) -> str:
        return "deleted" if self.deleted_at else "disabled" if self.disabled_at else "active"

    @property
    def cognito_name(self) -> str:
        """What Cognito's admin calls take as Username (in a pool signed into by e-mail, the sub is it)."""
        return self.cognito_username or self.cognito_sub


# One user per verified address (look-ups never choose), '' (none verified) not counted.
Index("uq_users_email_lower", func.lower(User.email), unique=True, postgresql_where=text("email <> ''"))


class MobileVerification(db.Model):
    """One SMS code. Only a hash is stored, by the worker that sends it; it expires, is single-use and allows
    few attempts."""

    __tablename__ = "mobile_verifications"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mobile_number: Mapped[str] = mapped_column(String(20))
    code_salt: Mapped[str | None] = mapped_column(String(32))  # set by the worker that texts the code
    code_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def is_open(self, now: datetime, max_attempts: int) -> bool:
        return self.closed_at is None and self.expires_at > now and self.attempts < max_attempts


class RoleGrant(db.Model):
    """A shop role (a Cognito group) as the API knows it: granted (by an admin, or seen in the user's token) or
    revoked by an admin.

    Roles ride in tokens, so a revocation must also refuse the tokens issued before Cognito forgot the group:
    while ``cognito_synced_at`` is NULL every token loses the role; afterwards those issued up to then (plus the
    verifier's leeway for clock skew) do. A re-grant clears ``revoked_at``."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)  # its index also serves look-ups by user

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[AppRole] = mapped_column(pg_enum(AppRole, "app_role"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cognito_synced_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when the workers last made the Cognito group match this row")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def granted(self) -> bool:
        return self.revoked_at is None
