"""The audit log: every admin action, written in the same transaction as the action itself.

Who (the acting admin), what (``action``: ``<thing>.<verb>``, e.g. ``orders.refund``), on what (``target_type`` and
``target_id``), the state before and after, the admin's reason, the request id and the time. Rows are never
changed or deleted by the API. ``record`` adds a row to the caller's session; ``entries`` pages them for admins.
"""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from torium_api import correlation
from torium_api.actor import Actor
from torium_api.extensions import db
from torium_api.paging import CursorPage, keyset_page


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_id_id", "actor_id", "id"),
        Index("ix_audit_entries_target", "target_type", "target_id", "id"),
        Index("ix_audit_entries_action_id", "action", "id"),
        Index("ix_audit_entries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def record(actor: Actor, action: str, target_type: str, target_id: int, *, before: dict | None = None,
           after: dict | None = None, reason: str | None = None) -> AuditEntry:
    """Add an entry to the caller's transaction (it commits or rolls back with the action)."""
    entry = AuditEntry(actor_id=actor.id, action=action, target_type=target_type, target_id=target_id,
                       before=before, after=after, reason=reason, request_id=correlation.current())
    db.session.add(entry)
    return entry


def entries(actor: Actor, *, actor_id: int | None = None, target_type: str | None = None,
            target_id: int | None = None, action: str | None = None, since: datetime | None = None,
            until: datetime | None = None, cursor: str | None = None, limit: int = 20) -> CursorPage:
    """Admins: the log, newest first, filtered by who, what, on what and when (``since`` ≤ time < ``until``)."""
    actor.require_admin("read the audit log")
    query = db.select(AuditEntry)
    for column, compare, wanted in ((AuditEntry.actor_id, "__eq__", actor_id),
                                    (AuditEntry.target_type, "__eq__", target_type),
                                    (AuditEntry.target_id, "__eq__", target_id), (AuditEntry.action, "__eq__", action),
                                    (AuditEntry.created_at, "__ge__", since), (AuditEntry.created_at, "__lt__", until)):
        if wanted is not None:
            query = query.where(getattr(column, compare)(wanted))
    return keyset_page(query, "audit", cursor, limit, id_column=AuditEntry.id)
