"""Declarative base, shared column mixins and the one way to commit: ``transaction()``."""

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import DateTime, Enum, MetaData, Select, bindparam, func, select
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


def paged(query: Select) -> Select:
    """``query`` ready for ``offset_page``: its total row count as a last column (``count(*) OVER ()``, computed
    before LIMIT) and LIMIT/OFFSET as parameters. Build it once, at import: list queries run on every request,
    and a statement built per call costs SQLAlchemy more time than PostgreSQL takes to run it."""
    return (query.add_columns(func.count().over().label("rows_in_all_pages"))
            .limit(bindparam("page_limit")).offset(bindparam("page_offset")))


def offset_page(query: Select, page: int, page_size: int, **params) -> tuple[list, int]:
    """Page ``page`` of a ``paged`` query's rows (without the count column) and the total, in one round trip.

    Only a page past the end, which has no row to carry the total, costs a second (count) query.
    """
    from torium_api.extensions import db

    rows = db.session.execute(query, {**params, "page_limit": page_size, "page_offset": (page - 1) * page_size}).all()
    if rows:
        return [row[:-1] for row in rows], rows[0][-1]
    if page == 1:
        return [], 0
    everything = query.limit(None).offset(None).order_by(None).subquery()
    return [], db.session.scalar(select(func.count()).select_from(everything), params)
