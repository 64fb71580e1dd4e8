"""What the gateway accepts in paths and queries, pure: each check returns the value or raises
`Invalid` with the one line the client gets (the upstream's texts where it has them)."""

from __future__ import annotations

import math
from typing import Final, NamedTuple

from nats_pubsub.domain.stream_rules import since_ns
from nats_pubsub.domain.subjects import validate_publish_subject, validate_subscribe_subject
from nats_pubsub.gateway.consumer_rules import valid_name

__all__ = [
    "LIMIT_TEXT",
    "REPLAY_START_TEXT",
    "TIMEOUT_TEXT",
    "Invalid",
    "ReplayFrom",
    "filter_subject",
    "limit",
    "name",
    "publish_subject",
    "replay_from",
    "request_timeout",
    "samples",
    "timeout",
]

LIMIT_TEXT: Final = "Limit must be between 1 and 100"
TIMEOUT_TEXT: Final = "Timeout must be between 1 and 30 seconds"
SAMPLES_TEXT: Final = "Samples must be between 1 and 60"
REQUEST_TIMEOUT_TEXT: Final = "timeout must be a number of seconds above 0 and at most 60"
REPLAY_START_TEXT: Final = (
    "start must be a stream sequence (42 or seq:42), a time (since:2026-01-02T03:04:05Z) or a "
    "duration back from now (since:15m), or all"
)


class Invalid(ValueError):
    """The client sent something the gateway does not accept (answered with 400); `details`
    adds what a parser said, where it helps."""

    def __init__(self, text: str, details: str | None = None) -> None:
        super().__init__(text)
        self.details = details


def _int_in(query: dict[str, str], key: str, default: int, low: int, high: int, text: str) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise Invalid(text) from None
    if not low <= value <= high:
        raise Invalid(text)
    return value


def limit(query: dict[str, str], default: int = 10) -> int:
    """`?limit=`: 1 to 100."""
    return _int_in(query, "limit", default, 1, 100, LIMIT_TEXT)


def timeout(query: dict[str, str], default: int = 5) -> int:
    """`?timeout=` of a fetch: 1 to 30 seconds."""
    return _int_in(query, "timeout", default, 1, 30, TIMEOUT_TEXT)


def samples(query: dict[str, str], default: int = 10) -> int:
    """`?samples=` of a metrics history: 1 to 60."""
    return _int_in(query, "samples", default, 1, 60, SAMPLES_TEXT)


def request_timeout(query: dict[str, str], default: float = 5.0) -> float:
    """`?timeout=` of a request/reply: seconds, above 0 and at most 60."""
    raw = query.get("timeout")
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise Invalid(REQUEST_TIMEOUT_TEXT) from None
    if not math.isfinite(value) or not 0 < value <= 60:
        raise Invalid(REQUEST_TIMEOUT_TEXT)
    return value


def publish_subject(subject: str) -> str:
    """A concrete subject to publish or send a request on (no wildcards)."""
    try:
        return validate_publish_subject(subject)
    except ValueError as exc:
        raise Invalid(f"Invalid subject: {exc}") from None


def filter_subject(subject: str) -> str:
    """A subject filter to read from (wildcards allowed)."""
    try:
        return validate_subscribe_subject(subject)
    except ValueError as exc:
        raise Invalid(f"Invalid subject filter: {exc}") from None


def name(value: str, what: str) -> str:
    """A stream or consumer name from the path."""
    if not valid_name(value):
        raise Invalid(f"Invalid {what} name {value!r}: use letters, digits, '-' and '_' only")
    return value


class ReplayFrom(NamedTuple):
    """Where a replay starts: a stream sequence, or the first message at or after a time."""

    sequence: int | None
    time_ns: int | None


def replay_from(query: dict[str, str], now_ns: int) -> ReplayFrom:
    """`?start=` of a replay: `all` (the default), `N` or `seq:N`, `since:<duration or time>`."""
    text = (query.get("start") or "all").strip()
    lowered = text.lower()
    if lowered == "all":
        return ReplayFrom(1, None)
    number = lowered.removeprefix("seq:")
    if number.isdigit():
        if int(number) < 1:
            raise Invalid(REPLAY_START_TEXT)
        return ReplayFrom(int(number), None)
    if lowered.startswith("since:"):
        try:
            return ReplayFrom(None, since_ns(text[len("since:") :].strip(), now_ns))
        except ValueError as exc:
            raise Invalid(REPLAY_START_TEXT, details=str(exc)) from None
    raise Invalid(REPLAY_START_TEXT)
