"""Timestamps on the wire: UTC ISO-8601 formatting and an exact, allocation-light parser."""

from __future__ import annotations

import re
import time

__all__ = [
    "canonical_timestamp_ns",
    "format_ns",
    "now_ns",
    "now_timestamp",
    "parse_timestamp_ns",
    "stamp_parts",
]

now_ns = time.time_ns

# Date-time with a time zone; 0-9 fractional digits; 'Z' or a numeric offset.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))",
    re.ASCII,
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_NS = 1_000_000_000


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Inverse of `_days_from_civil`."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    year = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return year + (month <= 2), month, day


# Epoch nanoseconds of "YYYY-MM-DDTHH:MM:SS" prefixes already validated: one sender's
# timestamps share their second, so most messages skip the full parse.
_seconds_seen: dict[str, int] = {}
_SECONDS_SEEN_MAX = 4096


def canonical_timestamp_ns(text: str) -> int | None:
    """Epoch nanoseconds of a timestamp in the canonical form we publish
    (2025-10-08T15:30:45.123456Z) whose second was already parsed; None for anything else."""
    base = _seconds_seen.get(text[:19])
    if base is None or len(text) != 27 or text[26] != "Z" or text[19] != ".":
        return None
    micros = text[20:26]
    return base + int(micros) * 1000 if micros.isdigit() and micros.isascii() else None


def parse_timestamp_ns(text: str) -> int:
    """Return epoch nanoseconds for an ISO-8601 date-time with a zone, else raise ValueError."""
    fast = canonical_timestamp_ns(text)
    if fast is not None:
        return fast
    match = _ISO.fullmatch(text)
    if match is None:
        raise ValueError("timestamp is not an ISO-8601 date-time with a time zone")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    if not 1 <= month <= 12:
        raise ValueError("timestamp month is out of range")
    days_in_month = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= days_in_month:
        raise ValueError("timestamp day is out of range")
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError("timestamp time of day is out of range")
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if text[10] == "T" and match.group(8) == "Z" and second < 60:
        if len(_seconds_seen) >= _SECONDS_SEEN_MAX:
            _seconds_seen.clear()
        _seconds_seen[text[:19]] = seconds * _NS
    fraction = match.group(7)
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    if match.group(8) is None:
        off_h, off_m = int(match.group(10)), int(match.group(11))
        if off_h > 23 or off_m > 59:
            raise ValueError("timestamp offset is out of range")
        offset = off_h * 3600 + off_m * 60
        seconds -= offset if match.group(9) == "+" else -offset
    return seconds * _NS + nanos


_second_cache: list[object] = [None, ""]
# (epoch ns of a millisecond's start, its text): replaced as a whole, never seen half-made.
_ms_cache: tuple[int, str] = (0, "1970-01-01T00:00:00.000")
_MICROS = tuple(f"{n:03d}Z" for n in range(1000))


def _second_text(seconds: int) -> str:
    """'YYYY-MM-DDTHH:MM:SS.' for epoch seconds (the last one cached)."""
    cache = _second_cache
    if cache[0] != seconds:
        days, rem = divmod(seconds, 86400)
        year, month, day = _civil_from_days(days)
        hour, rem = divmod(rem, 3600)
        minute, second = divmod(rem, 60)
        cache[0] = seconds
        cache[1] = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}."
    return str(cache[1])


def format_ns(epoch_ns: int) -> str:
    """Format epoch nanoseconds as UTC ISO-8601 with microseconds and a 'Z' suffix."""
    global _ms_cache
    cache = _ms_cache
    rest = epoch_ns - cache[0]  # one text per millisecond; then only the last three digits differ
    if not 0 <= rest < 1_000_000:
        millis, rest = divmod(epoch_ns, 1_000_000)
        seconds, ms = divmod(millis, 1000)
        cache = _ms_cache = (epoch_ns - rest, f"{_second_text(seconds)}{ms:03d}")
    return cache[1] + _MICROS[rest // 1000]


_stamp_cache: list[object] = [None, b""]


def stamp_parts(epoch_ns: int) -> tuple[bytes, int]:
    """`format_ns(epoch_ns)` in two parts, for byte templates: its text up to the seconds' dot
    (b"2025-10-08T15:30:45.", made once per second) and the microseconds (then comes "%06dZ")."""
    second, nanos = divmod(epoch_ns, 1_000_000_000)
    cache = _stamp_cache
    if cache[0] != second:
        cache[0] = second
        cache[1] = _second_text(second).encode()
    return cache[1], nanos // 1000  # type: ignore[return-value]


def now_timestamp() -> str:
    """The current time as the wire format's timestamp string."""
    return format_ns(time.time_ns())
