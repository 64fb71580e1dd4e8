"""What the message logger makes of any captured message: severity, payload, fields, statistics.

Every function here accepts arbitrary bytes and never raises: empty, binary, huge, deeply nested or
non-object JSON and invalid UTF-8 are all rendered and classified.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Final

import msgspec

from nats_pubsub.domain.subjects import subject_matches

__all__ = [
    "DEFAULT_IGNORE",
    "ERROR_STATUSES",
    "EXTRACTED_FIELDS",
    "Capture",
    "SubjectStats",
    "capture",
    "classify",
    "extract_fields",
    "is_ignored",
    "render_payload",
    "should_log",
]

# Replies, JetStream API calls and the NATS service API's discovery (the dashboard asks it every
# second): plumbing, not traffic.
DEFAULT_IGNORE: Final = ("_INBOX.>", "$JS.API.>", "$SRV.>")
ERROR_STATUSES: Final = frozenset({"declined", "failed", "error"})
EXTRACTED_FIELDS: Final = (
    "transaction_id",
    "status",
    "decline_reason",
    "amount",
    "card_type",
    "event_type",
    "message_id",
)
# Parsed JSON nested deeper than this is shown as text: the log encoder has a recursion limit too.
MAX_RENDER_DEPTH: Final = 32
_MAX_FIELD_CHARS: Final = 200
_decoder = msgspec.json.Decoder()


class Rendered(msgspec.Struct, frozen=True):
    """A payload made printable: `value` to log, how it was encoded, and what went wrong."""

    value: Any
    encoding: str  # "json", "text" or "base64"
    truncated: bool = False
    parsed: Any = None  # the decoded JSON value (whole payload), when it is JSON
    is_json: bool = False
    decode_error: str | None = None


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers in `value` nest deeper than `limit` (iterative, stops early)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def render_payload(data: bytes, max_bytes: int) -> Rendered:
    """Parsed JSON, else UTF-8 text, else base64; cut to `max_bytes` of the original payload."""
    truncated = len(data) > max_bytes
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        head = base64.b64encode(data[:max_bytes]).decode("ascii")
        return Rendered(head, "base64", truncated, decode_error="invalid_utf8")
    parsed: Any = None
    is_json = False
    error: str | None = None
    try:
        parsed = _decoder.decode(data)
        is_json = True
    except RecursionError:
        error = "too_deep"
    except (msgspec.MsgspecError, ValueError):
        if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
            error = "invalid_json"
    if truncated:
        head = data[:max_bytes].decode("utf-8", "ignore")  # drops only a split last character
        return Rendered(head, "text", True, parsed, is_json, error)
    if is_json and not _depth_exceeds(parsed, MAX_RENDER_DEPTH):
        return Rendered(parsed, "json", False, parsed, True)
    return Rendered(text, "text", False, parsed, is_json, error)


def _field_value(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:_MAX_FIELD_CHARS]
    return None


def extract_fields(parsed: Any) -> dict[str, Any]:
    """Known scalar fields found at the top level of a JSON object or under its `data`."""
    if not isinstance(parsed, dict):
        return {}
    found: dict[str, Any] = {}
    data = parsed.get("data")
    nested = data if isinstance(data, dict) else {}
    for name in EXTRACTED_FIELDS:
        value = _field_value(parsed.get(name))
        if value is None:
            value = _field_value(nested.get(name))
        if value is not None:
            found[name] = value
    return found


def classify(subject: str, rendered: Rendered) -> str:
    """ERROR for declined/failed/error subjects or statuses, WARNING if undecodable, else INFO."""
    if any(token.lower() in ERROR_STATUSES for token in subject.split(".")):
        return "ERROR"
    status = extract_fields(rendered.parsed).get("status")
    if isinstance(status, str) and status.lower() in ERROR_STATUSES:
        return "ERROR"
    if rendered.decode_error is not None:
        return "WARNING"
    return "INFO"


def is_ignored(subject: str, patterns: tuple[str, ...]) -> bool:
    """True when `subject` matches one of the ignore `patterns` (wildcards allowed)."""
    return any(subject_matches(pattern, subject) for pattern in patterns)


def should_log(level: str, index: int, sample_rate: int, errors_only: bool) -> bool:
    """Whether the `index`-th (from 0) captured message is logged; errors are never sampled out."""
    if level == "ERROR":
        return True
    if errors_only:
        return False
    return index % sample_rate == 0


class Capture(msgspec.Struct, frozen=True):
    """One captured message: its severity and the fields of its `Message captured` record."""

    level: str
    fields: dict[str, Any]


def capture(
    subject: str, reply: str, data: bytes, headers: dict[str, str] | None, max_bytes: int
) -> Capture:
    """Classify a delivered message and build its `Message captured` fields."""
    rendered = render_payload(data, max_bytes)
    fields: dict[str, Any] = {
        "subject": subject,
        "reply_to": reply or None,
        "size_bytes": len(data),
    }
    if headers:
        fields["headers"] = dict(headers)
    fields.update(extract_fields(rendered.parsed))
    fields["payload"] = rendered.value
    if rendered.encoding != "json":
        fields["payload_encoding"] = rendered.encoding
    if rendered.truncated:
        fields["payload_truncated"] = True
    if rendered.decode_error is not None:
        fields["decode_error"] = rendered.decode_error
    return Capture(classify(subject, rendered), fields)


class SubjectStats:
    """Messages and bytes per subject, bounded: at most `max_tracked` names, the rest as other."""

    __slots__ = (
        "_other",
        "_subjects",
        "by_level",
        "bytes",
        "ignored",
        "logged",
        "max_tracked",
        "messages",
        "started",
    )

    def __init__(self, max_tracked: int = 10_000, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.max_tracked = max_tracked
        self.messages = 0
        self.bytes = 0
        self.logged = 0
        self.ignored = 0
        self.by_level = {"INFO": 0, "WARNING": 0, "ERROR": 0}
        self._subjects: dict[str, list[int]] = {}
        self._other = [0, 0]

    def add(self, subject: str, size: int, level: str) -> None:
        """Count one captured message."""
        self.messages += 1
        self.bytes += size
        self.by_level[level] = self.by_level.get(level, 0) + 1
        entry = self._subjects.get(subject)
        if entry is None:
            if len(self._subjects) >= self.max_tracked:
                entry = self._other
            else:
                entry = self._subjects[subject] = [0, 0]
        entry[0] += 1
        entry[1] += size

    def per_subject(self) -> dict[str, tuple[int, int]]:
        """(messages, bytes) for every tracked subject; untracked ones are only in the totals."""
        return {name: (entry[0], entry[1]) for name, entry in self._subjects.items()}

    def counters(self) -> dict[str, int]:
        """What the service API's STATS shows: totals only, no ranking of subjects."""
        return {
            "captured": self.messages,
            "captured_bytes": self.bytes,
            "logged": self.logged,
            "ignored": self.ignored,
            "errors": self.by_level.get("ERROR", 0),
            "warnings": self.by_level.get("WARNING", 0),
            "subjects": len(self._subjects),
        }

    def snapshot(self, top: int = 10, now: float | None = None) -> dict[str, Any]:
        """The fields of a `Monitor metrics` record: totals and the `top` busiest subjects."""
        uptime = (time.monotonic() if now is None else now) - self.started
        ranked = sorted(self._subjects.items(), key=lambda item: (-item[1][0], item[0]))
        other_messages, other_bytes = self._other
        for _, (messages, size) in ranked[top:]:
            other_messages += messages
            other_bytes += size
        return {
            "total_messages": self.messages,
            "total_bytes": self.bytes,
            "logged_messages": self.logged,
            "ignored_messages": self.ignored,
            "errors": self.by_level.get("ERROR", 0),
            "warnings": self.by_level.get("WARNING", 0),
            "messages_per_second": round(self.messages / uptime, 2) if uptime > 0 else 0.0,
            "uptime_seconds": round(uptime, 3),
            "distinct_subjects": len(ranked),
            "subjects": [
                {"subject": name, "messages": messages, "bytes": size}
                for name, (messages, size) in ranked[:top]
            ],
            "other": {"messages": other_messages, "bytes": other_bytes},
        }
