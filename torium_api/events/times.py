"""Stored instants shown as wall-clock time in a zone, for every row that may be stored.

Input is held to years 1970-2999 (``events.schemas``), but rows written before that check may hold any
instant PostgreSQL and psycopg2 could round-trip: 9999-12-31 23:30 UTC is 10000-01-01 in Tokyo, which no
``datetime`` can hold, and ``astimezone`` raises. A read must not fail because of a stored row (R14), so such
an instant is shown clamped to the nearest moment a ``datetime`` can hold (the far past or the far future
still sorts and reads as one).
"""

from datetime import datetime, tzinfo


def local_moment(instant: datetime, zone: tzinfo) -> datetime:
    """``instant`` (aware) as naive wall-clock time in ``zone``; clamped to datetime's range at its ends."""
    try:
        return instant.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return datetime.max.replace(microsecond=0) if instant.year > 5000 else datetime.min


def local_text(instant: datetime, zone: tzinfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``local_moment`` formatted; the year always has four digits (glibc's ``%Y`` drops leading zeros)."""
    moment = local_moment(instant, zone)
    return moment.strftime(fmt.replace("%Y", f"{moment.year:04d}"))
