"""The reminder schedule as a pure function: step through time and collect every trigger."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from torium_api.events.schedule import Period, Reminder, next_trigger

WARSAW = ZoneInfo("Europe/Warsaw")


def local(*args, zone=WARSAW) -> datetime:
    return datetime(*args, tzinfo=zone)


def all_triggers(event_at, reminder, period, created_at, zone=WARSAW) -> list[datetime]:
    """What a scheduler firing each trigger on time would send, from creation on."""
    fired, after = [], created_at
    nxt = next_trigger(event_at, zone, reminder, period, after=after)
    while nxt is not None:
        fired.append(nxt)
        nxt = next_trigger(event_at, zone, reminder, period, after=nxt)
        assert len(fired) < 1000
    return fired


@pytest.mark.parametrize("period, expected", [
    (Period.DAY, local(2026, 6, 14, 18, 30)),
    (Period.WEEK, local(2026, 6, 8, 18, 30)),
    (Period.MONTH, local(2026, 5, 15, 18, 30)),
])
def test_once_fires_exactly_once_at_event_minus_period(period, expected):
    event = local(2026, 6, 15, 18, 30)
    assert all_triggers(event, Reminder.ONCE, period, created_at=local(2026, 1, 1)) == [expected]


def test_once_whose_moment_has_passed_does_not_fire_at_creation():
    """It used to fire at once: every POST /event could text up to 500 members (issue 14)."""
    event, created = local(2026, 6, 15, 18, 30), local(2026, 6, 15, 9, 0)
    assert all_triggers(event, Reminder.ONCE, Period.WEEK, created_at=created) == []


def test_no_reminder_for_an_event_in_the_past():
    assert all_triggers(local(2026, 1, 1), Reminder.PERIODICAL, Period.DAY, created_at=local(2026, 2, 1)) == []
    assert all_triggers(local(2026, 1, 1), Reminder.ONCE, Period.DAY, created_at=local(2026, 2, 1)) == []


def test_daily_keeps_the_local_time_across_the_dst_change_and_stops_before_the_event():
    # Poland moves to summer time on 2026-03-29: 18:30 stays 18:30 local (17:30 → 16:30 UTC)
    event, created = local(2026, 4, 2, 18, 30), local(2026, 3, 26, 12, 0)
    fired = all_triggers(event, Reminder.PERIODICAL, Period.DAY, created_at=created)
    assert [t.astimezone(WARSAW).strftime("%m-%d %H:%M") for t in fired] == [
        "03-26 18:30", "03-27 18:30", "03-28 18:30", "03-29 18:30", "03-30 18:30", "03-31 18:30", "04-01 18:30"]
    utc_hours = {t.date(): t.astimezone(UTC).hour for t in fired}
    assert utc_hours[datetime(2026, 3, 28).date()] == 17 and utc_hours[datetime(2026, 3, 30).date()] == 16


def test_weekly_fires_on_the_events_weekday():
    event = local(2026, 11, 27, 20, 0)  # a Friday
    fired = all_triggers(event, Reminder.PERIODICAL, Period.WEEK, created_at=local(2026, 11, 1, 8, 0))
    assert [t.astimezone(WARSAW).strftime("%a %d %H:%M") for t in fired] == [
        "Fri 06 20:00", "Fri 13 20:00", "Fri 20 20:00"]


def test_monthly_is_aligned_to_the_day_of_month_and_clamped_in_short_months():
    event = local(2027, 5, 31, 10, 0)
    fired = all_triggers(event, Reminder.PERIODICAL, Period.MONTH, created_at=local(2027, 1, 15))
    assert [t.astimezone(WARSAW).strftime("%m-%d %H:%M") for t in fired] == [
        "01-31 10:00", "02-28 10:00", "03-31 10:00", "04-30 10:00"]


def test_a_scheduler_that_was_down_catches_up_once():
    event = local(2026, 7, 1, 9, 0)
    missed_since = local(2026, 6, 20, 9, 0)
    back_at = local(2026, 6, 25, 13, 0)
    # the stored trigger (June 20) fires once late; the next is after "now", not June 21, 22, …
    assert next_trigger(event, WARSAW, Reminder.PERIODICAL, Period.DAY, after=back_at) == local(2026, 6, 26, 9, 0)
    assert missed_since < back_at


def test_time_zone_of_the_event_decides_the_wall_clock():
    tokyo = ZoneInfo("Asia/Tokyo")
    event = datetime(2026, 6, 10, 9, 0, tzinfo=tokyo)
    [trigger] = all_triggers(event, Reminder.ONCE, Period.DAY, created_at=event - timedelta(days=30), zone=tokyo)
    assert trigger.astimezone(tokyo).strftime("%d %H:%M") == "09 09:00"
    assert Period.parse("7 days, 0:00:00") is Period.WEEK and Period.WEEK.legacy == "7 days, 0:00:00"
