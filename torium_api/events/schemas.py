import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import validate

from torium_api.events.schedule import Period, Reminder
from torium_api.fields import FlexibleInteger, StrictBoolean, StrictSchema

_TIMESTAMP = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"\s*(Z|[+-][0-9]{2}:?[0-9]{2})?$")
MAX_BUDGET = Decimal("1000000000")  # numeric(12, 2) holds up to 9999999999.99
# What the spec shows of a budget: the app's text, 0 to MAX_BUDGET with at most two decimals, or "" (no budget). The
# field also reads numbers, signs, spaces and exponents; the spec documents the form clients should send.
BUDGET_PATTERN = r"^([0-9]{1,9}(\.[0-9]{1,2})?|1000000000(\.0{1,2})?)?$"
# Event times are read and shown in every member's zone (UTC-12 to UTC+14) and reminders count months back from
# them: a range far from datetime's ends (years 1-9999) keeps every conversion representable, and holds any
# event a group plans. Checked on the wall-clock value, so it does not depend on the zone it is read in.
MIN_YEAR, MAX_YEAR = 1970, 2999
MAX_OFFSET_MINUTES = 18 * 60  # ISO 8601 / RFC 3339 in practice (java.time's ZoneOffset bound); real zones: -12 to +14
# What the spec shows: the same format with the ranges spelled out (tests/test_properties.py checks the two agree).
SPEC_PATTERN = (r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-4]):[0-5][0-9]"
                r"(:[0-5][0-9](\.[0-9]{1,6})?)?\s*(Z|[+-](0[0-9]|1[0-7]):?[0-5][0-9]|[+-]18:?00)?$")


class AppTimestamp(ma.fields.Field):
    """What the app sends: "2023-02-01 18:30:00.00" (Dart intl `kk`: hour 24 = midnight of that date),
    "2023-02-01 18:30:00.000" (DateTime.toString) or ISO 8601 with an offset. Naive values are read
    in the caller's time zone by the service; values with an offset are returned as the same instant in UTC
    (PostgreSQL refuses offsets beyond ±15:59). Years 1970-2999, offsets up to ±18:00."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "pattern": SPEC_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        match = _TIMESTAMP.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ma.ValidationError("Not a timestamp like 2023-02-01 18:30:00.")
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        hour = 0 if hour == "24" else int(hour)  # `kk` renders 00:xx as 24:xx, on the same date
        try:
            parsed = datetime(int(year), int(month), int(day), hour, int(minute), int(second or 0),
                              int((fraction or "0").ljust(6, "0")))
        except ValueError:
            raise ma.ValidationError("Not a valid date or time.") from None
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise ma.ValidationError(f"Must be in the years {MIN_YEAR} to {MAX_YEAR}.")
        if offset:
            parsed = parsed.replace(tzinfo=_offset(offset)).astimezone(UTC)
        return parsed

    def _serialize(self, value, attr, obj, **kwargs):
        return value


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if minutes >= 60 or hours * 60 + minutes > MAX_OFFSET_MINUTES:
        raise ma.ValidationError("The UTC offset must be between -18:00 and +18:00.")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


# A decimal number in ASCII: Decimal() also reads "1_000", "NaN", "١٢" and "１２".
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")


class Budget(ma.fields.Field):
    """A non-negative amount with at most two decimals, as a number or the app's text ("150", "")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ma.ValidationError("Must be a number.")
        if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
            raise ma.ValidationError("Must be a number.")
        try:
            amount = Decimal(value) if isinstance(value, int) else Decimal(str(value).strip())
        except InvalidOperation:
            raise ma.ValidationError("Must be a number.") from None
        if not amount.is_finite() or amount.as_tuple().exponent < -2:
            raise ma.ValidationError("Must be a number with at most two decimals.")
        return amount


class PeriodField(ma.fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return Period.parse(value)
        except (ValueError, TypeError):
            raise ma.ValidationError("Must be one of: 1 day, 1 week, 1 month.") from None


EVENT_EXAMPLE = {"name": "Chess tournament", "description": "Bring your own clock",
                 "event_timestamp": "2031-02-01 18:30:00.00", "is_budget": True, "budget": "150",
                 "reminder": "once", "schedule_period": "1 day", "users": [34, 56]}


class EventCreateSchema(StrictSchema):
    EXAMPLE = EVENT_EXAMPLE

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))
    description = ma.fields.String(required=True, validate=validate.Length(max=500))
    event_timestamp = AppTimestamp(required=True, metadata={
        "example": "2023-02-01 18:30:00.00",
        "description": f"Years {MIN_YEAR}-{MAX_YEAR}; without an offset, the caller's local time; "
                       "offsets -18:00 to +18:00"})
    is_budget = StrictBoolean(required=True)
    budget = Budget(allow_none=True, metadata={
        "type": "string", "pattern": BUDGET_PATTERN,
        "description": "Numeric text (the API also reads a number); needed when is_budget, else ignored"})
    reminder = ma.fields.Enum(Reminder, by_value=True, required=True)
    schedule_period = PeriodField(required=True, metadata={"type": "string", "enum": [p.value for p in Period]})
    users = ma.fields.List(FlexibleInteger(), required=True, validate=validate.Length(max=500),
                           metadata={"description": "Event members (group members); duplicates ignored"})

    @ma.post_load
    def _budget_only_when_budgeted(self, data, **kwargs):
        if not data["is_budget"]:
            data["budget"] = None  # the app sends "" or -1 here; the original stored it anyway
        elif data.get("budget") is None:
            raise ma.ValidationError("A budgeted event needs a budget.", "budget")
        elif not Decimal(0) <= data["budget"] <= MAX_BUDGET:
            raise ma.ValidationError(f"Must be between 0 and {MAX_BUDGET}.", "budget")
        return data


class EventUpdateSchema(EventCreateSchema):
    EXAMPLE = {"id": 78, **EVENT_EXAMPLE, "group_id": 12}

    id = FlexibleInteger(required=True)
    group_id = FlexibleInteger(metadata={"description": "Must be the event's group (events do not move)"})


class EventIdSchema(StrictSchema):
    EXAMPLE = {"id": 78}

    id = FlexibleInteger(required=True)


class NotifySchema(StrictSchema):
    EXAMPLE = {"event_id": 78}

    event_id = FlexibleInteger(required=True)


class EventsHeadersSchema(ma.Schema):
    group_id = FlexibleInteger(data_key="trm-group-id", metadata={"description": "Only this group's events"})


class EventCreatedSchema(ma.Schema):
    id = ma.fields.Integer(required=True)


class EventUserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)


class EventSchema(ma.Schema):
    RENDERED_BY_SERVICE = True  # the list service returns dicts of exactly these fields (web.envelope_schema)

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    group_id = ma.fields.Integer(required=True)
    group_name = ma.fields.String(required=True)
    event_timestamp = ma.fields.String(required=True, metadata={"description": "Caller's local time"})
    is_budget = StrictBoolean(required=True)
    budget = ma.fields.Float(required=True, allow_none=True)
    reminder = ma.fields.String(required=True)
    schedule_period = ma.fields.String(required=True, metadata={"enum": [p.legacy for p in Period]})
    users = ma.fields.List(ma.fields.Nested(EventUserSchema), required=True)
    status = ma.fields.String(required=True, metadata={"description": "The caller's role in the group"})


class CommentCreateSchema(StrictSchema):
    EXAMPLE = {"event_id": 78, "comment": "I'll bring snacks"}

    event_id = FlexibleInteger(required=True)
    comment = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))


class CommentUpdateSchema(StrictSchema):
    EXAMPLE = {"id": 90, "comment": "I'll bring snacks and tea"}

    id = FlexibleInteger(required=True)
    comment = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))


class CommentHeadersSchema(ma.Schema):
    event_id = FlexibleInteger(required=True, data_key="trm-event-id")


class CommentCreatedSchema(ma.Schema):
    events_comments_id = ma.fields.List(ma.fields.Integer(), required=True,
                                        metadata={"description": "[id]: the app reads element 0"})


class CommentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    event_id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True, metadata={"description": "The author's e-mail"})
    comment = ma.fields.String(required=True)
    event_timestamp = ma.fields.String(required=True, metadata={"description": "Age, e.g. 5min ago"})
