"""Durations and times as the gateway's JSON writes them: TimeSpans and RFC 3339 (pure).

The upstream serialises durations as .NET TimeSpans (`"00:00:30"`, `"1.00:00:00"`); the gateway
writes the same and reads them, or our own durations (`30s`, `5m`, `1h`, `7d`).
"""

from __future__ import annotations

import re
from typing import Final

from nats_pubsub.domain.stream_rules import parse_duration
from nats_pubsub.domain.timeutil import format_ns, parse_timestamp_ns

__all__ = ["format_time", "parse_time", "parse_timespan", "timespan"]

_NS: Final = 1_000_000_000
_SPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$", re.ASCII)


def timespan(nanoseconds: int | float | None) -> str | None:
    """A TimeSpan text for a duration in nanoseconds (None or 0 stays None)."""
    if not nanoseconds:
        return None
    total = int(nanoseconds)
    seconds, fraction = divmod(total, _NS)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        text = f"{days}.{text}"
    if fraction:
        text += f".{fraction // 100:07d}"  # .NET writes 7 fractional digits
    return text


def parse_timespan(text: str) -> int:
    """Nanoseconds in a TimeSpan (`[d.]hh:mm:ss[.fffffff]`) or a duration (`30s`, `5m`, `7d`).

    Raises ValueError naming both forms.
    """
    value = text.strip()
    match = _SPAN.match(value)
    if match:
        days, hours, minutes, seconds, fraction = match.groups()
        if int(minutes) > 59 or int(seconds) > 59 or int(hours) > 23:
            raise ValueError(f"{text!r} is not a TimeSpan: hours 0-23, minutes and seconds 0-59")
        whole = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
        return whole * _NS + int((fraction or "0").ljust(9, "0"))
    try:
        return round(parse_duration(value) * _NS)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a duration: use a TimeSpan such as 00:00:30 or 1.00:00:00, "
            "or 30s, 5m, 1h, 7d"
        ) from None


def parse_time(text: str) -> int:
    """Epoch nanoseconds of an RFC 3339 time with a zone; ValueError if it is not one."""
    try:
        return parse_timestamp_ns(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use RFC 3339 with a zone, e.g. 2025-01-01T00:00:00Z"
        ) from None


def format_time(text: str | None) -> str | None:
    """A server time (RFC 3339, nanoseconds) in our form; the zero time and None stay None."""
    if not text or text.startswith("0001-01-01"):
        return None
    try:
        return format_ns(parse_timestamp_ns(text))
    except ValueError:
        return text
