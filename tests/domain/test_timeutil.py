"""Tests for nats_pubsub.domain.timeutil: wire timestamp formatting and parsing."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.domain.timeutil import format_ns, now_timestamp, parse_timestamp_ns, stamp_parts

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NS = 1_000_000_000
WIRE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def epoch_ns_of(dt: datetime) -> int:
    """Exact epoch nanoseconds of an aware datetime (microsecond precision)."""
    return (dt - EPOCH) // timedelta(microseconds=1) * 1000


def test_format_ns_uses_microseconds_and_z() -> None:
    """format_ns renders UTC with six fractional digits and a 'Z' suffix."""
    assert format_ns(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456Z"


def test_format_ns_epoch_zero() -> None:
    """format_ns(0) is the Unix epoch."""
    assert format_ns(0) == "1970-01-01T00:00:00.000000Z"


def test_format_ns_before_epoch() -> None:
    """Negative epoch nanoseconds format as a date before 1970."""
    assert format_ns(-1) == "1969-12-31T23:59:59.999999Z"


def test_now_timestamp_has_wire_shape() -> None:
    """now_timestamp returns the wire format and parses back."""
    stamp = now_timestamp()
    assert WIRE_SHAPE.fullmatch(stamp)
    parse_timestamp_ns(stamp)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02t03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02 03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T05:04:05+02:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T05:04:05+0200", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T00:34:05-02:30", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05+00:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05-00:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-01T01:00:00+02:00", datetime(2023, 12, 31, 23, 0, 0, tzinfo=UTC)),
    ],
)
def test_parse_zone_forms(text: str, expected: datetime) -> None:
    """Z, lower-case z, T/t/space separators and +HH:MM / +HHMM offsets all parse."""
    assert parse_timestamp_ns(text) == epoch_ns_of(expected)


@pytest.mark.parametrize(
    ("fraction", "nanos"),
    [
        ("", 0),
        (".1", 100_000_000),
        (".12", 120_000_000),
        (".123", 123_000_000),
        (".1234", 123_400_000),
        (".12345", 123_450_000),
        (".123456", 123_456_000),
        (".1234567", 123_456_700),
        (".12345678", 123_456_780),
        (".123456789", 123_456_789),
        (",5", 500_000_000),
    ],
)
def test_parse_fractional_digits(fraction: str, nanos: int) -> None:
    """Zero to nine fractional digits (dot or comma) are exact nanoseconds."""
    base = epoch_ns_of(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert parse_timestamp_ns(f"2024-01-02T03:04:05{fraction}Z") == base + nanos


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("2024-01-02", id="bare-date"),
        pytest.param("2024-01-02T03:04:05", id="no-zone"),
        pytest.param("2024-01-02T03:04:05.123", id="fraction-no-zone"),
        pytest.param("2024-01-02T03:04:05.1234567890Z", id="ten-fraction-digits"),
        pytest.param("2024-01-02T03:04:05.Z", id="dot-without-digits"),
        pytest.param("2024-13-01T00:00:00Z", id="month-13"),
        pytest.param("2024-00-01T00:00:00Z", id="month-0"),
        pytest.param("2024-01-00T00:00:00Z", id="day-0"),
        pytest.param("2024-01-32T00:00:00Z", id="jan-32"),
        pytest.param("2024-04-31T00:00:00Z", id="apr-31"),
        pytest.param("2024-02-30T00:00:00Z", id="feb-30"),
        pytest.param("2023-02-29T00:00:00Z", id="feb-29-non-leap"),
        pytest.param("1900-02-29T00:00:00Z", id="feb-29-century-non-leap"),
        pytest.param("2024-01-02T24:00:00Z", id="hour-24"),
        pytest.param("2024-01-02T23:60:00Z", id="minute-60"),
        pytest.param("2024-01-02T23:59:61Z", id="second-61"),
        pytest.param("2024-01-02T03:04:05+24:00", id="offset-hour-24"),
        pytest.param("2024-01-02T03:04:05+02:60", id="offset-minute-60"),
        pytest.param("2024-01-02T03:04:05+2:00", id="offset-one-digit"),
        pytest.param("2024-01-02T03:04:05 Z", id="space-before-zone"),
        pytest.param("2024-01-02T03:04:05Z\n", id="trailing-newline"),
        pytest.param("2024-1-02T03:04:05Z", id="one-digit-month"),
        pytest.param("24-01-02T03:04:05Z", id="two-digit-year"),
    ],
)
def test_parse_rejects(text: str) -> None:
    """Malformed or out-of-range timestamps raise ValueError."""
    with pytest.raises(ValueError, match="timestamp"):
        parse_timestamp_ns(text)


@pytest.mark.parametrize("year", [2000, 2024, 1600, 2400])
def test_parse_accepts_feb_29_on_leap_years(year: int) -> None:
    """Feb 29 is a valid date in leap years (including years divisible by 400)."""
    expected = epoch_ns_of(datetime(year, 2, 29, tzinfo=UTC))
    assert parse_timestamp_ns(f"{year}-02-29T00:00:00Z") == expected


def test_parse_rejects_non_ascii_digits() -> None:
    """Only ASCII digits are ISO-8601 digits; full-width digits are rejected."""
    with pytest.raises(ValueError, match="timestamp"):
        parse_timestamp_ns("\uff12\uff10\uff12\uff14-01-01T00:00:00Z")


instants = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(UTC),
)
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(instants, offsets)
def test_parse_matches_datetime_for_isoformat(instant: datetime, zone: timezone) -> None:
    """Parsing datetime.isoformat() output agrees with datetime arithmetic in any offset."""
    local = instant.astimezone(zone)
    assert parse_timestamp_ns(local.isoformat()) == epoch_ns_of(instant)


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_format_matches_datetime(epoch_ns: int) -> None:
    """format_ns agrees with datetime.fromisoformat on the microsecond-truncated instant."""
    text = format_ns(epoch_ns)
    assert WIRE_SHAPE.fullmatch(text)
    expected = EPOCH + timedelta(microseconds=epoch_ns // 1000)
    assert datetime.fromisoformat(text) == expected


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_format_parse_round_trip(epoch_ns: int) -> None:
    """parse_timestamp_ns(format_ns(n)) is n truncated to whole microseconds."""
    assert parse_timestamp_ns(format_ns(epoch_ns)) == epoch_ns // 1000 * 1000


def test_format_ns_first_call_just_before_the_epoch() -> None:
    """The last second before 1970 formats correctly even as a fresh process's first call."""
    code = "from nats_pubsub.domain.timeutil import format_ns; print(format_ns(-1_000))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1969-12-31T23:59:59.999999Z"


def test_format_ns_steps_across_milliseconds_and_seconds() -> None:
    """Consecutive instants within and across millisecond and second boundaries all format right."""
    start = 1_700_000_000_998_000_000
    for epoch_ns in range(start, start + 3_000_000, 1_500):
        expected = EPOCH + timedelta(microseconds=epoch_ns // 1000)
        assert datetime.fromisoformat(format_ns(epoch_ns)) == expected


def test_format_ns_first_call_in_the_epochs_first_millisecond() -> None:
    """An instant in the first millisecond of 1970 formats correctly as a process's first call."""
    code = "from nats_pubsub.domain.timeutil import format_ns; print(format_ns(5_000))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1970-01-01T00:00:00.000005Z"


@given(st.integers(min_value=0, max_value=253_402_300_799_999_999_999))
def test_stamp_parts_make_format_ns(epoch_ns: int) -> None:
    """The two parts of stamp_parts, as "%b%06dZ", are format_ns's text."""
    assert (b"%b%06dZ" % stamp_parts(epoch_ns)).decode() == format_ns(epoch_ns)
