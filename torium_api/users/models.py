import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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

    organization: Mapped[Organization | None] = relationship(lazy="joined")


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
