"""JetStream decisions, free of I/O: stream specs, replay start positions, de-duplication ids."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any, Final

from nats_pubsub.domain.timeutil import parse_timestamp_ns

__all__ = [
    "DEFAULT_STREAMS",
    "DLQ_PREFIX",
    "LIMITS",
    "JsMeta",
    "Outcome",
    "ReplayStart",
    "StreamSpec",
    "backoff_delay",
    "decide",
    "dedupe_id",
    "new_run_id",
    "parse_ack_reply",
    "parse_duration",
    "parse_replay",
    "since_ns",
    "stream_differences",
    "stream_for_subject",
    "stream_spec_for",
    "subjects_overlap",
]

DLQ_PREFIX: Final = "dlq"
_DAY: Final = 86400.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)", re.ASCII)
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": _DAY, "w": 7 * _DAY}
_RUN_ALPHABET: Final = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class StreamSpec:
    """What a stream should look like: name, subjects and retention limits."""

    name: str
    subjects: tuple[str, ...]
    max_age_seconds: float
    max_bytes: int
    replicas: int = 1
    storage: str = "file"
    discard: str = "old"
    duplicate_window_seconds: float = 120.0

    def with_limits(
        self,
        *,
        max_age_seconds: float | None = None,
        max_bytes: int | None = None,
        replicas: int | None = None,
    ) -> StreamSpec:
        """A copy with the given limits changed."""
        return StreamSpec(
            name=self.name,
            subjects=self.subjects,
            max_age_seconds=self.max_age_seconds if max_age_seconds is None else max_age_seconds,
            max_bytes=self.max_bytes if max_bytes is None else max_bytes,
            replicas=self.replicas if replicas is None else replicas,
            storage=self.storage,
            discard=self.discard,
            duplicate_window_seconds=self.duplicate_window_seconds,
        )


DEFAULT_STREAMS: Final = {
    "PAYMENTS": StreamSpec("PAYMENTS", ("payments.>",), 7 * _DAY, 1024**3),
    "EVENTS": StreamSpec("EVENTS", ("events.>",), _DAY, 100 * 1024**2),
    "DLQ": StreamSpec("DLQ", (f"{DLQ_PREFIX}.>",), 7 * _DAY, 100 * 1024**2),
}


def stream_for_subject(subject: str) -> str | None:
    """The default stream whose subjects a subject or filter falls in, if any."""
    for spec in DEFAULT_STREAMS.values():
        if any(subjects_overlap(pattern, subject) for pattern in spec.subjects):
            return spec.name
    return None


def subjects_overlap(a: str, b: str) -> bool:
    """True when some subject matches both patterns `a` and `b`."""
    ta, tb = a.split("."), b.split(".")
    for x, y in zip(ta, tb, strict=False):
        if x == ">" or y == ">":
            return True
        if x != y and "*" not in (x, y):
            return False
    return len(ta) == len(tb)


LIMITS: Final = frozenset({"max_age", "max_bytes", "replicas"})


def stream_differences(
    spec: StreamSpec, existing: dict[str, Any], limits: frozenset[str] = LIMITS
) -> list[str]:
    """How an existing stream (server field names) differs from `spec` in subjects and `limits`.

    Only limits someone configured are compared: a service started with defaults must not
    shrink or re-replicate a stream that an operator provisioned differently.
    """
    diffs = []
    if sorted(existing.get("subjects") or []) != sorted(spec.subjects):
        diffs.append(f"subjects {existing.get('subjects')} != {list(spec.subjects)}")
    age = float(existing.get("max_age") or 0)
    if "max_age" in limits and abs(age - spec.max_age_seconds) > 0.5:
        diffs.append(f"max_age {age:g}s != {spec.max_age_seconds:g}s")
    if "max_bytes" in limits and int(existing.get("max_bytes") or -1) != spec.max_bytes:
        diffs.append(f"max_bytes {existing.get('max_bytes')} != {spec.max_bytes}")
    if "replicas" in limits and int(existing.get("num_replicas") or 1) != spec.replicas:
        diffs.append(f"replicas {existing.get('num_replicas')} != {spec.replicas}")
    return diffs


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90s``, ``15m``, ``1h30m`` or ``7d``, else ValueError."""
    text = text.strip()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{text!r} is not a duration such as 30s, 15m, 1h or 7d")
    return total


@dataclass(frozen=True)
class ReplayStart:
    """Where a new consumer starts: a JetStream deliver policy and its option."""

    policy: str  # all | new | last | last_per_subject | by_start_sequence | by_start_time
    start_sequence: int | None = None
    start_time_ns: int | None = None
    text: str = "all"


def parse_replay(text: str, now_ns: int | None = None) -> ReplayStart:
    """Parse ``all|new|last|last-per-subject|since:<duration or RFC3339>|seq:<n>``."""
    value = text.strip()
    lowered = value.lower()
    simple = {"all": "all", "new": "new", "last": "last", "last-per-subject": "last_per_subject"}
    if lowered in simple:
        return ReplayStart(simple[lowered], text=lowered)
    if lowered in ("true", "false"):  # REPLAY_HISTORY=true|false
        return ReplayStart("all" if lowered == "true" else "new", text=lowered)
    kind, _, arg = value.partition(":")
    if kind.lower() == "seq":
        if not arg.isdigit() or int(arg) < 1:
            raise ValueError(f"seq:{arg} needs a stream sequence number of at least 1")
        return ReplayStart("by_start_sequence", start_sequence=int(arg), text=f"seq:{int(arg)}")
    if kind.lower() == "since" and arg:
        return ReplayStart("by_start_time", start_time_ns=since_ns(arg, now_ns), text=value)
    raise ValueError(
        f"{text!r} is not a replay start: use all, new, last, last-per-subject, "
        "since:<duration or RFC3339 time> or seq:<n>"
    )


def since_ns(arg: str, now_ns: int | None = None) -> int:
    """Epoch nanoseconds for a ``since`` argument: a duration back from now, or a timestamp."""
    try:
        return parse_timestamp_ns(arg)
    except ValueError:
        pass
    try:
        seconds = parse_duration(arg)
    except ValueError:
        raise ValueError(f"since:{arg} needs a duration (1h, 30m) or an RFC3339 time") from None
    now = time.time_ns() if now_ns is None else now_ns
    return now - int(seconds * 1e9)


def new_run_id() -> str:
    """A short id unique to this publisher run: base-36 start time plus random bits."""
    number = (time.time_ns() // 1_000_000) << 16 | int.from_bytes(os.urandom(2), "big")
    digits = []
    while number:
        number, rem = divmod(number, 36)
        digits.append(_RUN_ALPHABET[rem])
    return "".join(reversed(digits))


def dedupe_id(message_id: str, run_id: str) -> str:
    """The JetStream de-duplication id (Nats-Msg-Id): the message id, unique per run."""
    return f"{message_id}@{run_id}"


def backoff_delay(delivered: int, base: float = 1.0, cap: float = 30.0) -> float:
    """Seconds before redelivering a message that failed `delivered` times: doubling, capped."""
    return float(min(cap, base * 2 ** max(0, delivered - 1)))


@dataclass(frozen=True)
class JsMeta:
    """Where a JetStream delivery sits: stream, sequences, delivery count, time, pending."""

    stream: str
    consumer: str
    delivered: int
    stream_seq: int
    consumer_seq: int
    timestamp_ns: int
    pending: int


def parse_ack_reply(reply: str) -> JsMeta | None:
    """Read a delivery's metadata from its `$JS.ACK...` reply subject (None if it is not one)."""
    tokens = reply.split(".")
    if len(tokens) < 9 or tokens[0] != "$JS" or tokens[1] != "ACK":
        return None
    # v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    # v2: $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>... [.<random>]
    start = 2 if len(tokens) == 9 else 4
    try:
        stream, consumer = tokens[start], tokens[start + 1]
        numbers = [int(t) for t in tokens[start + 2 : start + 7]]
    except (IndexError, ValueError):
        return None
    if len(numbers) != 5:
        return None
    delivered, stream_seq, consumer_seq, ts, pending = numbers
    return JsMeta(stream, consumer, delivered, stream_seq, consumer_seq, ts, pending)


class Outcome:
    """What a JetStream consumer does with a delivery after processing it."""

    ACK = "ack"  # done
    RETRY = "retry"  # redeliver later (nak with backoff), dead-letter after max_deliver
    DEAD_LETTER = "dead_letter"  # cannot succeed: copy to the dead-letter subject, terminate


def decide(outcome: str, delivered: int, max_deliver: int) -> str:
    """Turn a processing outcome into the action: ack, nak, or dead-letter when out of tries."""
    if outcome == Outcome.RETRY and max_deliver > 0 and delivered >= max_deliver:
        return Outcome.DEAD_LETTER
    return outcome


def stream_spec_for(
    subject: str,
    name: str | None,
    *,
    max_age_seconds: float | None = None,
    max_bytes: int | None = None,
    replicas: int = 1,
) -> StreamSpec:
    """The stream a publisher or consumer on `subject` uses: a default one, or a named one."""
    chosen = name or stream_for_subject(subject)
    if chosen is None:
        raise ValueError(
            f"no default stream covers {subject!r} (PAYMENTS: payments.>, EVENTS: events.>); "
            "name one with --stream / STREAM_NAME"
        )
    base = DEFAULT_STREAMS.get(chosen)
    if base is None:
        # A stream of the user's own: it covers the subject (a template's fields become '>').
        pattern = subject.split("{", 1)[0]
        pattern = pattern + ">" if "{" in subject else subject
        base = StreamSpec(chosen, (pattern,), 7 * _DAY, 1024**3)
    return base.with_limits(max_age_seconds=max_age_seconds, max_bytes=max_bytes, replicas=replicas)
