"""Paging, one mechanism per kind.

- **Offset pages** for the Flutter contract's lists (``page``/``page_size`` and an ``X-Pagination``
  header, what the app was built against): ``paged`` prepares a statement, ``offset_page`` runs it.
- **Keyset cursors** for everything else: ``keyset_page`` returns a ``CursorPage`` whose opaque
  ``next_cursor`` the client passes back as ``cursor``; a page costs the same at row 100 or 100,000.
  A view declares one with ``@blp.cursor_page(ItemSchema)`` (``web.Blueprint``) and its query
  arguments with ``cursor_field()`` and ``limit_field()``.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import marshmallow as ma
from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from torium_api.errors import Invalid
from torium_api.extensions import db
from torium_api.fields import MAX_ID, FullMatch

MAX_BIGINT = 2**63 - 1
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL text holds neither NUL nor lone surrogates


# --- offset pages (the contract's lists) --------------------------------------------------------

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
    rows = db.session.execute(query, {**params, "page_limit": page_size, "page_offset": (page - 1) * page_size}).all()
    if rows:
        return [row[:-1] for row in rows], rows[0][-1]
    if page == 1:
        return [], 0
    everything = query.limit(None).offset(None).order_by(None).subquery()
    return [], db.session.scalar(select(func.count()).select_from(everything), params)


# --- keyset cursors (every other list) ----------------------------------------------------------

@dataclass(frozen=True)
class CursorPage:
    """What a keyset-paged service returns and ``@blp.cursor_page`` documents and dumps."""

    items: list
    next_cursor: str | None


def cursor_field() -> ma.fields.String:
    """The `cursor` query argument of keyset-paginated lists."""
    return ma.fields.String(validate=[ma.validate.Length(min=1, max=300), FullMatch(r"^[A-Za-z0-9_-]+$")],
                            metadata={"description": "Opaque: a next_cursor this listing returned"})


def limit_field(default: int = 20, maximum: int = 100) -> ma.fields.Integer:
    """The `limit` query argument of keyset-paginated lists."""
    return ma.fields.Integer(load_default=default, validate=ma.validate.Range(min=1, max=maximum))


class CursorPageArgsSchema(ma.Schema):
    """The query string of a keyset-paged list without filters (lists with filters declare both fields)."""

    class Meta:
        unknown = ma.RAISE

    cursor = cursor_field()
    limit = limit_field()


def encode(listing: str, value, row_id: int) -> str:
    if isinstance(value, datetime):
        value = {"ts": value.isoformat()}
    raw = json.dumps([listing, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> Invalid:
    return Invalid("Invalid cursor", errors={"cursor": ["Not a cursor for this listing."]})


def decode(cursor: str, listing: str, value_type: type | None = None) -> tuple:
    """The (sort value, id) a cursor carries, checked against what this listing sorts by: a cursor is client
    input, and a value of the wrong type or range must be a 422, never a database error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_listing, value, row_id = json.loads(raw)
        if isinstance(value, dict) and value_type is datetime:
            value = _instant(value["ts"])
    except (ValueError, TypeError, KeyError, OverflowError, binascii.Error, RecursionError):
        raise _invalid() from None
    if cursor_listing != listing or not _is_id(row_id) or not _fits(value, value_type):
        raise _invalid()
    return value, row_id


def _instant(text: str) -> datetime:
    """An aware timestamp as the same instant in UTC: PostgreSQL refuses offsets beyond ±15:59, which
    ``fromisoformat`` reads (up to ±23:59); an instant outside datetime's range in UTC raises OverflowError."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive timestamp")
    return moment.astimezone(UTC)


def _is_id(value) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def _fits(value, value_type: type | None) -> bool:
    if value_type is None:
        return value is None
    if value_type is datetime:
        return isinstance(value, datetime) and value.tzinfo is not None
    if value_type is int:
        return type(value) is int and -MAX_BIGINT <= value <= MAX_BIGINT
    return type(value) is value_type and (not isinstance(value, str) or not _UNSTORABLE.search(value))


def keyset_page(query: Select, listing: str, cursor: str | None, limit: int, *, id_column: ColumnElement,
                sort_column: ColumnElement | None = None, ascending: bool = False, tuples: bool = False) -> CursorPage:
    """One page of ``query`` ordered by (``sort_column``,) ``id_column`` and the cursor of the next page.

    Rows are entities with an ``id``, or (``tuples``) rows whose first column is the id.
    """
    keys = (id_column,) if sort_column is None else (sort_column, id_column)
    if cursor:
        value, last_id = decode(cursor, listing, None if sort_column is None else sort_column.type.python_type)
        last = (last_id,) if sort_column is None else (value, last_id)
        query = query.where(tuple_(*keys) > tuple_(*last) if ascending else tuple_(*keys) < tuple_(*last))
    query = query.order_by(*(key.asc() if ascending else key.desc() for key in keys)).limit(limit + 1)
    rows = (db.session.execute(query) if tuples else db.session.scalars(query)).all()
    page = list(rows[:limit])
    if len(rows) <= limit:
        return CursorPage(page, None)
    last_row = page[-1]
    last_value = None if sort_column is None else getattr(last_row, sort_column.key)
    return CursorPage(page, encode(listing, last_value, last_row[0] if tuples else last_row.id))
