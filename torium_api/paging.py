"""Paging, one mechanism per kind.

- **Offset pages** for the Flutter contract's lists (``page``/``page_size`` and an ``X-Pagination``
  header, what the app was built against): ``paged`` prepares a statement, ``offset_page`` runs it.
- **Keyset cursors** for everything else: ``keyset_page`` returns a ``CursorPage`` whose opaque
  ``next_cursor`` the client passes back as ``cursor``; a page costs the same at row 100 or 100,000.
  A view declares one with ``@blp.cursor_page(ItemSchema)`` (``web.Blueprint``) and its query
  arguments with ``cursor_field()`` and ``limit_field()``.

Both answer conditional GETs (``@blp.conditional``, ``web.Blueprint``) from a **digest of the page computed in
PostgreSQL**: md5 over the page's rows as text, in the page's order, run on the very statement that reads the
page. While ``web`` revalidates a request (``revalidating``), a pager first reads only that digest when the client
sent If-None-Match, and raises ``NotModified`` instead of reading a page the client already holds; otherwise it
reads the page and its digest in one statement. The view's own checks (membership, ...) run before either.

A page that renders rows of other tables its service reads anyway right after it (``paged(...,
completed_by_service=True)``: the events page and its members) is not digested twice: the pager reads the page with
the digest of its own rows, the service folds what it read next into it (``add_to_digest``), and only then is a
client holding the result answered 304, before anything is rendered.
"""

import base64
import binascii
import collections
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

import marshmallow as ma
from sqlalchemy import Select, Text, bindparam, case, cast, func, inspect, literal, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from torium_api import clock
from torium_api.errors import Invalid
from torium_api.extensions import db
from torium_api.fields import MAX_ID, FullMatch

MAX_BIGINT = 2**63 - 1
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL text holds neither NUL nor lone surrogates


# --- offset pages (the contract's lists) --------------------------------------------------------

def paged(query: Select, digest_also: Callable[[Select], list] | None = None, *,
          completed_by_service: bool = False) -> Select:
    """``query`` ready for ``offset_page``: its total row count as a last column (``count(*) OVER ()``, computed
    before LIMIT) and LIMIT/OFFSET as parameters. Build it once, at import: list queries run on every request,
    and a statement built per call costs SQLAlchemy more time than PostgreSQL takes to run it.

    ``digest_also(page)``: what else shapes the page's rendering, for its ETag digest (scalar subqueries over
    the page's rows, each in a stated order, e.g. rows of another table; ``:digest_now`` is the time).
    ``completed_by_service``: the service calls ``add_to_digest`` with what else it rendered (module docstring)."""
    statement = (query.add_columns(func.count().over().label("rows_in_all_pages"))
                 .limit(bindparam("page_limit")).offset(bindparam("page_offset")))
    page = statement.cte("page")
    extras = digest_also(page) if digest_also else []
    _DIGESTED[id(statement)] = (statement, *_digest_statements(page, list(page.c), list(page.c), extras, []),
                                completed_by_service)
    return statement


def offset_page(query: Select, page: int, page_size: int, **params) -> tuple[list, int]:
    """Page ``page`` of a ``paged`` query's rows (without the count column) and the total, in one round trip.

    Only a page past the end, which has no row to carry the total, costs a second (count) query.
    """
    params = {**params, "page_limit": page_size, "page_offset": (page - 1) * page_size}
    check = _REVALIDATION.get()
    if check is None:
        rows, bookkeeping = db.session.execute(query, params).all(), 1
    else:
        _, digest_only, with_digest, completed_by_service = _DIGESTED[id(query)]
        params["digest_now"], shape = clock.now(), f"offset {params['page_offset']} limit {page_size}"
        empty_past_the_end = page > 1  # a page with no row carries no total: not revalidated
        if check.held is not None and not completed_by_service:
            check.unchanged(*db.session.execute(digest_only, params).one(), shape, empty_past_the_end)
        rows, bookkeeping = db.session.execute(with_digest, params).all(), 2
        check.found(rows, shape, empty_past_the_end, completed_by_service)
    if rows:
        return [row[:-bookkeeping] for row in rows], rows[0][-bookkeeping]
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
    check = _REVALIDATION.get()
    if check is None:
        rows = (db.session.execute(query) if tuples else db.session.scalars(query)).all()
    else:
        rows = _keyset_rows_and_digest(query, keys, ascending, tuples, check, f"cursor {cursor} limit {limit}")
    page = list(rows[:limit])
    if len(rows) <= limit:
        return CursorPage(page, None)
    last_row = page[-1]
    last_value = None if sort_column is None else getattr(last_row, sort_column.key)
    return CursorPage(page, encode(listing, last_value, last_row[0] if tuples else last_row.id))


# --- conditional GETs: the digest of a page -----------------------------------------------------------

class NotModified(Exception):
    """Raised by a pager instead of reading the page a conditional GET's client already holds."""

    def __init__(self, digest: str):
        super().__init__(digest)
        self.digest = digest


@dataclass
class Revalidation:
    """A conditional GET in progress (``web.Blueprint.conditional``). ``held(digest)`` says whether the client's
    If-None-Match names the page with that digest (None: it sent none); ``digest`` is the page's, once read
    (None when no digest stands for it)."""

    held: Callable[[str], bool] | None
    digest: str | None = None
    pending: bool = False  # the digest waits for the service's add_to_digest

    def unchanged(self, rows_md5: str, rows: int, shape: str, empty_past_the_end: bool) -> None:
        digest = _digest(rows_md5, rows, shape, empty_past_the_end)
        if digest is not None and self.held(digest):
            raise NotModified(digest)

    def found(self, rows: list, shape: str, empty_past_the_end: bool, completed_by_service: bool = False) -> None:
        self.digest = _digest(rows[0][-1] if rows else None, len(rows), shape, empty_past_the_end)
        self.pending = completed_by_service and self.digest is not None


_REVALIDATION: ContextVar[Revalidation | None] = ContextVar("revalidation", default=None)
# id(paged statement) -> (the statement, its digest alone, the statement with its digest as a last column)
_DIGESTED: dict[int, tuple[Select, Select, Select, bool]] = {}  # id(statement): it, its digest statements, completed


def add_to_digest(rendered: str) -> None:
    """What a ``completed_by_service`` page renders besides its rows (read after it), folded into its digest; then
    a client that holds the result gets NotModified. Outside a conditional GET, or for a page with no digest, it
    does nothing."""
    check = _REVALIDATION.get()
    if check is None or not check.pending:
        return
    check.digest = f"{check.digest} {hashlib.blake2b(rendered.encode(), digest_size=16).hexdigest()}"
    check.pending = False
    if check.held is not None and check.held(check.digest):
        raise NotModified(check.digest)


@contextmanager
def revalidating(held: Callable[[str], bool] | None) -> Iterator[Revalidation]:
    """Pages read inside answer for a conditional GET (see the module's docstring)."""
    state = Revalidation(held)
    token = _REVALIDATION.set(state)
    try:
        yield state
    finally:
        _REVALIDATION.reset(token)


def _digest(rows_md5: str | None, rows: int, shape: str, empty_past_the_end: bool) -> str | None:
    if rows == 0:  # its X-Pagination total (past the end) comes from another query: no tag rather than a wrong one
        return None if empty_past_the_end else f"no rows {shape}"
    return f"{rows_md5} {shape}"


def _digest_statements(page, columns: list, selected: list, extras: list, order: list) -> tuple[Select, Select]:
    """The page's digest and row count alone, and the page's rows (``selected``) with the digest as a last column.

    The digest is md5 over the page's ``columns`` as text (a record: written unambiguously), row after row in
    ``order`` (none: the page's own), and ``extras``; PostgreSQL computes it once (on the first row only), with
    the page read once (``page`` is a subquery or CTE of the page's statement)."""
    text = cast(tuple_(*columns) if len(columns) > 1 else columns[0], Text)

    def md5(rows_text):
        return func.md5(cast(func.json_build_array(rows_text, *extras), Text))

    alone = func.string_agg(text, aggregate_order_by(literal("|"), *order) if order else literal("|"))
    window = func.string_agg(text, literal("|")).over(order_by=order or None, rows=(None, None) if order else None)
    first = func.row_number().over(order_by=order or None) == 1
    return (select(md5(alone), func.count()).select_from(page),
            select(*selected, case((first, md5(window)))).select_from(page).order_by(*order))


def _keyset_rows_and_digest(query: Select, keys, ascending: bool, tuples: bool, check: Revalidation,
                            shape: str) -> list:
    """A keyset page's rows and digest in one statement (the rows re-selected from the page as a subquery, in
    the page's order), after its digest alone when the client may hold it already."""
    page = query.subquery("page")
    order = [page.c[key.key].asc() if ascending else page.c[key.key].desc() for key in keys]
    if tuples:
        selected, columns = list(page.c), list(page.c)
    else:
        entity = query.column_descriptions[0]["entity"]
        deferred = {prop.key for prop in inspect(entity).column_attrs if prop.deferred}
        selected, columns = [aliased(entity, page)], [c for c in page.c if c.key not in deferred]
    digest_only, with_digest = _digest_statements(page, columns, selected, [], order)
    if check.held is not None:
        check.unchanged(*db.session.execute(digest_only).one(), shape, False)
    rows = db.session.execute(with_digest).all()
    check.found(rows, shape, False)
    if not tuples:
        return [row[0] for row in rows]
    named = _row_type(tuple(column.key for column in page.c))  # rows as without the digest: by position and name
    return [named._make(row[:-1]) for row in rows]


@functools.lru_cache(maxsize=64)
def _row_type(keys: tuple[str, ...]) -> type:
    return collections.namedtuple("PageRow", keys)


def rows_digest(query: Select, order_by: Callable[[Select], list], **params) -> str:
    """The digest of a list no pager reads (``@blp.conditional(digest=...)``): md5 over ``query``'s rows as
    text, in ``order_by(rows)`` order (expressions over the rows as a subquery)."""
    rows = query.subquery("rows")
    digest_only, _ = _digest_statements(rows, list(rows.c), [], [], order_by(rows))
    return _digest(*db.session.execute(digest_only, params).one(), "all", False)
