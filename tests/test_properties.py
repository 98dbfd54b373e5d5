"""Property-based tests of the input parsers (hypothesis): any input is either a value the database and every
later read can hold, or a ValidationError (a 422) -- never another exception (a 500).

Bounded for `make test` (deterministic, a few hundred examples each, about 10 s in all); the `@example`s
are the edges found by hand (tests/test_hostile_input.py has the same cases end to end).
"""

import base64
import importlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, available_timezones

import marshmallow as ma
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from torium_api import paging
from torium_api.errors import Invalid
from torium_api.events.schedule import Period
from torium_api.events.schemas import (
    _TIMESTAMP,
    MAX_BUDGET,
    MAX_YEAR,
    MIN_YEAR,
    SPEC_PATTERN,
    AppTimestamp,
    Budget,
    EventCreateSchema,
    PeriodField,
)
from torium_api.events.times import local_text
from torium_api.fields import MAX_ID, FlexibleInteger, StrictSchema
from torium_api.users.schemas import E164, ZONES

PROPERTIES = settings(max_examples=300, deadline=None, derandomize=True, database=None)
ALL_ZONES = sorted(available_timezones())
MAX_BIGINT = 2**63 - 1

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def examples(*values):
    """``@example(value)`` for each of ``values`` (single-argument tests)."""
    def decorate(test):
        for value in reversed(values):
            test = example(value)(test)
        return test
    return decorate


def refuses_or_returns(field: ma.fields.Field, value):
    """``field``'s value for ``value``, or None when it raises ValidationError (anything else fails the test)."""
    try:
        return field.deserialize(value)
    except ma.ValidationError:
        return None


# --- AppTimestamp ---------------------------------------------------------------------------------------------

TIMESTAMP = AppTimestamp()
EARLIEST = datetime(MIN_YEAR, 1, 1) - timedelta(hours=26)  # the range in any zone, UTC-12 to UTC+14 (and ±18:00)
LATEST = datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999999) + timedelta(hours=26)


@PROPERTIES
@given(st.text() | st.from_regex(_TIMESTAMP, fullmatch=True) | st.from_regex(SPEC_PATTERN, fullmatch=True)
       | json_values)
@examples("2023-02-01 18:30:00+99:99", "2023-02-01 18:30:00+24:00", "2023-02-01 18:30:00-2400")
@examples("9999-12-31 23:30:00", "0001-01-01 00:00:00+05:00", "2999-12-31 24:59:59.999999-18:00")
@examples("1970-01-01 00:00:00+18:00", "2023-02-30 10:00:00", "2023-02-01 18:30:00+05:60")
@examples("\u0662\u0660\u0662\u0663-02-01 18:30:00", "2023-02-01 18:30:00\n", " 2023-02-01 18:30 ")
def test_any_timestamp_input_is_an_instant_in_range_or_a_validation_error(value):
    parsed = refuses_or_returns(TIMESTAMP, value)
    if parsed is None:
        return
    assert parsed.tzinfo in (None, UTC)  # naive: the caller's local time; aware: converted to UTC
    assert EARLIEST <= parsed.replace(tzinfo=None) <= LATEST
    assert re.fullmatch(SPEC_PATTERN, value.strip()), "the spec's pattern admits what the field accepts"


@PROPERTIES
@given(st.from_regex(SPEC_PATTERN, fullmatch=True))
def test_what_the_spec_admits_is_accepted_unless_the_day_does_not_exist(text):
    try:
        TIMESTAMP.deserialize(text)
    except ma.ValidationError as error:
        assert error.messages == ["Not a valid date or time."], text  # 30 February, 31 April...


offsets = st.integers(-18 * 60, 18 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
in_range = st.datetimes(min_value=datetime(MIN_YEAR, 1, 1), max_value=datetime(MAX_YEAR, 12, 31, 23, 59, 59))


@PROPERTIES
@given(in_range, st.none() | offsets)
@example(datetime(MIN_YEAR, 1, 1), timezone(timedelta(hours=18)))
@example(datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999999), timezone(timedelta(hours=-18)))
def test_valid_timestamps_round_trip(moment, offset):
    moment = moment.replace(tzinfo=offset)
    assert TIMESTAMP.deserialize(moment.isoformat(sep=" ")) == moment
    assert TIMESTAMP.deserialize(moment.isoformat(sep="T", timespec="seconds")) == moment.replace(microsecond=0)
    if offset is None:  # the app's own formats: two-digit fraction, and hour 24 for midnight (Dart's `kk`)
        app_text = f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 10000:02d}"
        assert TIMESTAMP.deserialize(app_text) == moment.replace(microsecond=moment.microsecond // 10000 * 10000)
        if moment.hour == 0:
            assert TIMESTAMP.deserialize(f"{moment:%Y-%m-%d} 24:{moment:%M:%S}") == moment.replace(microsecond=0)


def test_every_zone_renders_every_instant_the_field_accepts():
    """The extreme instants: the earliest and latest wall-clock times, read in the zone furthest ahead or behind
    (naive input is read in the caller's zone, any IANA zone) or with a ±18:00 offset, shown in every zone."""
    first, last = datetime(MIN_YEAR, 1, 1), datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999999)
    readings = [ZoneInfo(name) for name in ALL_ZONES] + [timezone(timedelta(hours=h)) for h in (-18, 18)]
    earliest = min(first.replace(tzinfo=zone) for zone in readings)
    latest = max(last.replace(tzinfo=zone) for zone in readings)
    assert TIMESTAMP.deserialize(f"{first:%Y-%m-%d %H:%M:%S}+18:00") >= earliest
    for name in ALL_ZONES:
        zone = ZoneInfo(name)
        for instant in (earliest, latest):
            assert local_text(instant, zone) == instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


@PROPERTIES
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=st.just(UTC)),
       st.sampled_from(ALL_ZONES))
@example(datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "Asia/Tokyo")
@example(datetime(1, 1, 1, tzinfo=UTC), "Etc/GMT+12")
def test_any_stored_instant_renders_in_any_zone(instant, zone_name):
    """Rows stored before the range check may hold any instant: rendering clamps, never raises."""
    text = local_text(instant, ZoneInfo(zone_name))
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", text)


# --- Budget, ids, periods, phone numbers ---------------------------------------------------------------------

BUDGET = Budget()


@PROPERTIES
@given(json_values | st.decimals().map(str) | st.from_regex(r"[+-]?[0-9]{0,12}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,5})?",
                                                            fullmatch=True))
@examples("1e400", "NaN", "-Infinity", "1_000", "\u0661\u0662", 10**5000)
@examples(float("inf"), 1e-7, "9999999999.99", "-0", "sNaN", "1e99999")
def test_any_budget_input_fits_numeric_12_2_or_is_refused(value):
    amount = refuses_or_returns(BUDGET, value)
    if amount is None:
        return
    assert amount.is_finite() and amount.as_tuple().exponent >= -2
    schema = EventCreateSchema(only=("is_budget", "budget"))
    try:
        loaded = schema.load({"is_budget": True, "budget": value})["budget"]
    except ma.ValidationError:
        return
    assert Decimal(0) <= loaded <= MAX_BUDGET and loaded == loaded.quantize(Decimal("0.01"))
    assert len(loaded.quantize(Decimal("0.01")).as_tuple().digits) <= 12


ID = FlexibleInteger()


@PROPERTIES
@given(json_values | st.integers().map(str) | st.from_regex(r"\s*-?[0-9\u0660-\u0669\uff10-\uff19\u00b2]+\s*",
                                                             fullmatch=True))
@examples("--5", "\u00b2", "9" * 5000, "\u0661\u0662", "1\u00a0", 2**31)
@examples(True, 1.0, " 12 ", "-0")
def test_any_id_input_is_an_int4_id_or_refused(value):
    parsed = refuses_or_returns(ID, value)
    if parsed is not None:
        assert type(parsed) is int and 1 <= parsed <= MAX_ID
        assert not isinstance(value, str) or value.strip(" \t\n\r\f\v").isascii()


@PROPERTIES
@given(st.integers(1, MAX_ID), st.sampled_from(["{}", " {} ", "{}\n"]), st.booleans())
def test_valid_ids_round_trip_as_numbers_and_text(number, template, as_text):
    assert ID.deserialize(template.format(number) if as_text else number) == number


@PROPERTIES
@given(json_values | st.sampled_from([p.value for p in Period] + [p.legacy for p in Period]))
def test_any_period_input_is_a_period_or_refused(value):
    period = refuses_or_returns(PeriodField(), value)
    assert period is None or isinstance(period, Period)
    if isinstance(value, str) and value in {p.value for p in Period} | {p.legacy for p in Period}:
        assert period is not None


@PROPERTIES
@given(st.text() | st.from_regex(E164.regex.pattern, fullmatch=True) | st.from_regex(r"\+[0-9\u0660-\u0669]{7,15}\s?"))
@examples("+4812345\u0666\u0667\u0668", "+48123456789\n", "+48123456789")
def test_phone_numbers_are_ascii_e164_that_fit_the_column(text):
    try:
        E164(text)
    except ma.ValidationError:
        return
    assert re.fullmatch(r"\+[1-9][0-9]{6,14}", text) and len(text) <= 20  # users.mobile_number varchar(20)


# --- every request schema -------------------------------------------------------------------------------------

def _request_schemas():
    modules = [importlib.import_module(f"torium_api.{name}.schemas") for name in
               ("accounts", "events", "groups", "orders", "products", "users")]
    found = {paging.CursorPageArgsSchema}
    for module in modules:
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, ma.Schema) and value.__module__ == module.__name__
                    and (issubclass(value, StrictSchema) or value.__name__.endswith(("ArgsSchema", "HeadersSchema")))):
                found.add(value)
    return sorted(found, key=lambda schema: schema.__name__)


def _fits_a_column(value, key=""):
    """Loaded data a PostgreSQL column can hold: ints within bigint (ids within integer), finite numbers,
    timestamps a day inside the event range, text of a bounded length."""
    if isinstance(value, dict):
        return all(_fits_a_column(item, str(name)) for name, item in value.items())
    if isinstance(value, list):
        return all(_fits_a_column(item, key) for item in value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        limit = MAX_ID if key in ("id", "users") or key.endswith("_id") else MAX_BIGINT
        return -limit <= value <= limit
    if isinstance(value, Decimal | float):
        return value.is_finite() if isinstance(value, Decimal) else abs(value) < float("inf")
    if isinstance(value, datetime):
        return EARLIEST <= value.replace(tzinfo=None) <= LATEST
    if isinstance(value, str):
        return len(value) <= 2000
    return True  # enums and periods


@pytest.mark.parametrize("schema_class", _request_schemas(), ids=lambda schema: schema.__name__)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_any_request_body_loads_into_storable_data_or_a_validation_error(schema_class, data):
    schema = schema_class()
    names = [field.data_key or name for name, field in schema.fields.items() if not field.dump_only]
    keys = st.sampled_from(names) | st.text(max_size=6) if names else st.text(max_size=6)
    body = data.draw(st.dictionaries(keys, json_values | st.integers().map(str), max_size=len(names) + 1)
                     | json_values)
    try:
        loaded = schema.load(body)
    except ma.ValidationError:
        return
    assert _fits_a_column(loaded), loaded


def test_the_request_schemas_are_all_found():
    names = {schema.__name__ for schema in _request_schemas()}
    assert {"EventCreateSchema", "OrderCreateSchema", "ProductQueryArgsSchema", "TargetHeadersSchema",
            "EmailLookupHeadersSchema", "PreferencesUpdateSchema", "CursorPageArgsSchema"} <= names
    assert len(names) >= 30


# --- cursors ------------------------------------------------------------------------------------------------

LISTINGS = {"newest": datetime, "price_asc": int, "price_desc": int, "name": str, "orders": None, "ledger": None,
            "customers": None, "deliveries": None}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


cursor_values = json_values | st.builds(lambda text: {"ts": text}, st.text() | st.datetimes(
    timezones=st.none() | st.timezones() | offsets).map(datetime.isoformat))
structured_cursors = st.builds(lambda listing, value, row_id: _b64(json.dumps([listing, value, row_id]).encode()),
                               st.sampled_from(sorted(LISTINGS)) | st.text(max_size=5), cursor_values,
                               st.integers() | json_scalars)
any_cursor = st.text(max_size=300) | st.binary(max_size=200).map(_b64) | structured_cursors


@PROPERTIES
@given(any_cursor, st.sampled_from(sorted(LISTINGS)))
@example(_b64(b'["name", "\\ud800", 1]'), "name")
@example(_b64(b'["newest", {"ts": "2020-01-01T00:00+23:59"}, 1]'), "newest")
@example(_b64(b'["newest", {"ts": "0001-01-01T00:00+05:00"}, 1]'), "newest")
@example(_b64(b"[" * 200), "orders")
@example(_b64(b'["price_asc", 1e999, 1]'), "price_asc")
@example(_b64(b'["orders", null, 2147483648]'), "orders")
def test_any_cursor_decodes_to_storable_values_or_is_invalid(cursor, listing):
    value_type = LISTINGS[listing]
    try:
        value, row_id = paging.decode(cursor, listing, value_type)
    except Invalid as error:
        assert error.status_code == 422
        return
    assert type(row_id) is int and 1 <= row_id <= MAX_ID
    if value_type is datetime:
        assert value.tzinfo is UTC
    elif value_type is str:
        assert "\x00" not in value and value.encode("utf-8")
    elif value_type is int:
        assert type(value) is int and abs(value) <= MAX_BIGINT
    else:
        assert value is None


@PROPERTIES
@given(st.sampled_from(sorted(LISTINGS)), st.data(), st.integers(1, MAX_ID))
def test_issued_cursors_decode_to_what_they_carry(listing, data, row_id):
    strategy = {datetime: st.datetimes(timezones=st.just(UTC) | offsets).filter(
                    lambda moment: datetime(1, 1, 2, tzinfo=UTC) < moment < datetime(9999, 12, 31, tzinfo=UTC)),
                int: st.integers(-MAX_BIGINT, MAX_BIGINT), str: st.text().filter(lambda s: s.isprintable()),
                None: st.none()}[LISTINGS[listing]]
    value = data.draw(strategy)
    assert paging.decode(paging.encode(listing, value, row_id), listing, LISTINGS[listing]) == (value, row_id)


CURSOR_ROUTES = [("/products?sort=newest&", "newest"), ("/products?sort=price_asc&", "price_asc"),
                 ("/products?sort=price_desc&", "price_desc"), ("/products?sort=name&", "name"),
                 ("/orders?", "orders"), ("/admin/orders?", "orders"), ("/accounts/me/transactions?", "ledger"),
                 ("/notifications?", "deliveries"), ("/accounts?", "customers")]


@pytest.fixture
def admin_headers(tokens, client):
    headers = tokens.headers("cursors@example.com", groups=["admin", "seller"])
    client.get("/users", headers=headers)
    return headers


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # read-only requests: one fixture is enough
@given(st.sampled_from(CURSOR_ROUTES), any_cursor)
@example(("/products?sort=name&", "name"), _b64(b'["name", "\\udfff", 1]'))
@example(("/products?sort=newest&", "newest"), _b64(b'["newest", {"ts": "2020-01-01T00:00+23:59"}, 1]'))
@example(("/products?sort=price_asc&", "price_asc"), _b64(b'["price_asc", "1", 1]'))
def test_no_cursor_makes_a_listing_fail(client, admin_headers, route, cursor):
    path, _ = route
    response = client.get(path + urlencode({"cursor": cursor}), headers=admin_headers)
    assert response.status_code in (200, 422), (path, cursor, response.get_json())
    assert response.get_json()["status"]["code"] == response.status_code


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CURSOR_ROUTES), st.data())
def test_issued_cursors_are_accepted_by_their_listing(client, admin_headers, route, data):
    path, listing = route
    strategy = {datetime: st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2999, 1, 1),
                                       timezones=st.just(UTC)),
                int: st.integers(-MAX_BIGINT, MAX_BIGINT), str: st.text(max_size=20).filter(str.isprintable),
                None: st.none()}[LISTINGS[listing]]
    cursor = paging.encode(listing, data.draw(strategy), data.draw(st.integers(1, MAX_ID)))
    response = client.get(path + urlencode({"cursor": cursor}), headers=admin_headers)
    assert response.status_code == 200, (path, cursor, response.get_json())


def test_zones_offered_are_the_iana_names_this_host_knows():
    assert "Europe/Warsaw" in ZONES and "localtime" not in ZONES
    assert all(ZoneInfo(name) for name in ZONES)
