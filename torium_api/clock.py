"""The one place that says what time it is (tests move it).

Business decisions (reminders, order and code expiry) read ``clock.now()``. Bookkeeping rows the
database stamps itself (``server_default=now()``: outbox rows, processed messages, the scheduler's
job table) are compared and moved in SQL with the database's ``now()``, so their times come from
one clock too. Nothing else calls ``datetime.now()`` or ``time.time()``.
"""

import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds on a clock that never jumps: for measuring intervals (cooldowns, backoffs), not for dates."""
    return time.monotonic()
