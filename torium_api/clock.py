"""The one place that says what time it is (tests move it)."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
