"""When reminders fire. Pure functions of the event, its zone and a moment: no clock, no database.

Triggers are computed in the event's wall-clock time (its IANA zone), so a reminder keeps its local
time of day across DST changes, and months are calendar months clamped to short months
(an event on the 31st is reminded on Feb 28/29 and Apr 30).

- ``once``: a single trigger at event − period; none when that moment has already passed when the
  event is created or moved (it used to fire at once, so one POST /event could text hundreds of people).
- ``periodical``: event − k·period for k = 1, 2, …: every period, aligned to the event's time of
  day / weekday / day of month, up to (not including) the event itself.
"""

import calendar
import enum
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


class Reminder(enum.StrEnum):
    ONCE = "once"
    PERIODICAL = "periodical"


class Period(enum.StrEnum):
    DAY = "1 day"
    WEEK = "1 week"
    MONTH = "1 month"

    @property
    def legacy(self) -> str:
        """How the original API rendered it (Python's str(timedelta)); the app maps exactly these."""
        return {"1 day": "1 day, 0:00:00", "1 week": "7 days, 0:00:00", "1 month": "30 days, 0:00:00"}[self.value]

    @classmethod
    def parse(cls, value: str) -> "Period":
        legacy = {p.legacy: p for p in cls}
        return legacy.get(value) or cls(value)


def _minus(local: datetime, period: Period, k: int) -> datetime:
    """The wall-clock moment k periods before ``local`` (naive, in the event's zone)."""
    if period is Period.DAY:
        return local - timedelta(days=k)
    if period is Period.WEEK:
        return local - timedelta(weeks=k)
    month_index = local.year * 12 + local.month - 1 - k
    year, month = divmod(month_index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def _aware(naive: datetime, zone: ZoneInfo) -> datetime:
    return naive.replace(tzinfo=zone)


def next_trigger(event_at: datetime, zone: ZoneInfo, reminder: Reminder, period: Period,
                 after: datetime) -> datetime | None:
    """The first trigger strictly after ``after`` (aware), or None when no reminder is left."""
    if event_at <= after:
        return None
    local = event_at.astimezone(zone).replace(tzinfo=None)
    if reminder is Reminder.ONCE:
        trigger = _aware(_minus(local, period, 1), zone)
        return trigger if trigger > after else None
    return _first_periodic_after(local, zone, period, after)


def _first_periodic_after(local: datetime, zone: ZoneInfo, period: Period, after: datetime) -> datetime | None:
    """The smallest event − k·period (k ≥ 1) that is after ``after``: the largest such k."""
    after_local = after.astimezone(zone).replace(tzinfo=None)
    span_days = (local - after_local).total_seconds() / 86400
    step_days = {Period.DAY: 1, Period.WEEK: 7, Period.MONTH: 28}[period]
    k = max(int(span_days // step_days) + 1, 1)  # an upper bound on k, then walk down
    while k >= 1:
        trigger = _aware(_minus(local, period, k), zone)
        if trigger > after:
            return trigger
        k -= 1
    return None
