"""Declarative base, shared column mixins and the one way to commit: ``transaction()``."""

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import DateTime, Enum, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def pg_enum(cls, name: str) -> Enum:
    """A named PostgreSQL enum storing the members' values (``"admin"``), not their names."""
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


@contextmanager
def transaction():
    """Commit the session when the block succeeds, roll it back when it raises.

    Adapters (views, the worker, CLI commands) own the transaction; services never
    commit. A ``DomainError`` whose ``commit_anyway`` is true still commits what the
    service wrote before raising (e.g. a failed verification attempt is counted).
    """
    from torium_api.errors import DomainError
    from torium_api.extensions import db

    depth = db.session.info.get("transaction_depth", 0)
    if depth:  # already inside one (e.g. the Idempotency-Key wrapper around a view): the outer one commits
        db.session.info["transaction_depth"] = depth + 1
        try:
            yield db.session
        finally:
            db.session.info["transaction_depth"] = depth
        return
    db.session.info["transaction_depth"] = 1
    try:
        yield db.session
    except DomainError as exc:
        if exc.commit_anyway:
            db.session.commit()
        else:
            db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()
    finally:
        db.session.info["transaction_depth"] = 0
