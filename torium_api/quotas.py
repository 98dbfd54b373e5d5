"""Per-user quotas on what grows without bound or fans out to other people (events, comments, invitations,
groups, verification SMS): a refusal is a 429 with ``Retry-After`` saying when the oldest counted item leaves the
window. Counted in SQL against the rows' own creation times, which the database stamps, with its clock.

Two requests at the same instant may both pass the last free slot: quotas bound abuse, they are not money.
"""

from datetime import timedelta

from sqlalchemy import func, select

from torium_api.errors import TooManyRequests
from torium_api.extensions import db


def enforce(what: str, stamped, *where, limit: int, window: timedelta) -> None:
    """Refuse one more ``what`` when ``limit`` were made within ``window``.

    ``stamped`` is the items' creation-time column and ``where`` picks the actor's (or the destination's) items.
    """
    used, wait = db.session.execute(
        select(func.count(), func.ceil(func.extract("epoch", func.min(stamped) + window - func.now())))
        .where(*where, stamped > func.now() - window)).one()
    if used >= limit:
        raise TooManyRequests(f"At most {limit} {what} per {_span(window)}; try again later",
                              headers={"Retry-After": str(max(int(wait or 1), 1))})


def refuse(message: str, retry_after: timedelta) -> None:
    """A cap that is not a rate (e.g. groups owned): 429, to retry once something was given up."""
    raise TooManyRequests(message, headers={"Retry-After": str(int(retry_after.total_seconds()))})


def _span(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"
