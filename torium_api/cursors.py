"""Opaque keyset-pagination cursors: the sort they belong to and the last row's sort key and id."""

import base64
import json
from datetime import datetime

from torium_api.errors import Invalid


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
