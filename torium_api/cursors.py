"""Opaque keyset-pagination cursors: the sort they belong to and the last row's sort key and id."""

import base64
import json
from datetime import datetime

from torium_api.errors import Invalid
from torium_api.extensions import db


def encode(sort: str, value, row_id: int) -> str:
    if isinstance(value, datetime):
        value = {"ts": value.isoformat()}
    raw = json.dumps([sort, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, sort: str) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, row_id = json.loads(raw)
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["ts"])
        if cursor_sort != sort or not isinstance(row_id, int):
            raise ValueError
    except (ValueError, TypeError, KeyError):
        raise Invalid("Invalid cursor", errors={"cursor": ["Not a cursor for this listing."]}) from None
    return value, row_id


def page_by_id(query, id_column, listing: str, cursor: str | None, limit: int, *, newest_first: bool = True,
               tuples: bool = False) -> tuple[list, str | None]:
    """One keyset page ordered by ``id_column`` and the cursor of the next (None at the end).

    Rows are entities with an ``id``, or (``tuples``) rows whose first column is the id.
    """
    if cursor:
        last_id = decode(cursor, listing)[1]
        query = query.where(id_column < last_id if newest_first else id_column > last_id)
    fetch = db.session.execute if tuples else db.session.scalars
    rows = fetch(query.order_by(id_column.desc() if newest_first else id_column.asc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, None
    return page, encode(listing, None, page[-1][0] if tuples else page[-1].id)
