"""Event shapes the real peers send, and a hypothesis strategy for events with and without
their optional fields, shared by the schema, subscriber-path and capture tests.

Timestamps are formatted here with `datetime`, independently of `nats_pubsub.domain.timeutil`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from hypothesis import strategies as st

__all__ = [
    "BASE_NS",
    "INVALID_SHAPES",
    "PEER_SHAPES",
    "STAMP_FORMS",
    "assert_latency_true",
    "events",
    "format_stamp",
    "peer_event",
    "peer_shapes",
    "stamp_ns",
]

# 2025-10-09T01:15:30.123456789Z, the instant the shapes below are stamped with.
BASE_NS: Final = 1_759_972_530_123_456_789


def format_stamp(epoch_ns: int, form: str, offset_minutes: int = 330) -> str:
    """`epoch_ns` written the way one language writes a timestamp."""
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    utc = datetime.fromtimestamp(seconds, UTC)
    whole = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if form == "csharp":  # DateTime.UtcNow.ToString("o"): 7 digits and Z
        return f"{whole}.{nanos // 100:07d}Z"
    if form == "go":  # time.RFC3339Nano: trailing zeros (and a bare dot) dropped
        fraction = f"{nanos:09d}".rstrip("0")
        return f"{whole}{'.' + fraction if fraction else ''}Z"
    if form == "js":  # Date.prototype.toISOString(): milliseconds and Z
        return f"{whole}.{nanos // 1_000_000:03d}Z"
    if form == "python":  # datetime.now(timezone.utc).isoformat(): no fraction when µs == 0
        return utc.replace(microsecond=nanos // 1000).isoformat()
    if form == "offset":  # the same instant in another zone
        zone = timezone(timedelta(minutes=offset_minutes))
        return utc.replace(microsecond=nanos // 1000).astimezone(zone).isoformat()
    if form == "ours":
        return f"{whole}.{nanos // 1000:06d}Z"
    raise ValueError(form)


STAMP_FORMS: Final = ("csharp", "go", "js", "python", "offset", "ours")


def peer_event(
    form: str = "ours",
    *,
    source: str = "peer",
    sequence: int = 42,
    epoch_ns: int = BASE_NS,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An event as a peer builds it: the upstream data fields unless `data` says otherwise."""
    return {
        "message_id": f"{source}-{sequence}",
        "timestamp": format_stamp(epoch_ns, form),
        "source": source,
        "sequence": sequence,
        "data": data or {"event_type": "user.login", "value": 523, "random_field": "alpha"},
    }


_SEED_DATA: Final = {
    "event_type": "user.login",
    "value": 73,
    "status": "success",
    "description": "User login event #42",
}
_OUR_DATA: Final = {
    "event_type": "user.login",
    "value": 73,
    "random_field": "gamma",
    "status": "success",
    "description": "User login event #42",
}


def peer_shapes(epoch_ns: int = BASE_NS) -> dict[str, dict[str, Any]]:
    """Valid events stamped `epoch_ns`, one source each: what each peer language writes (the
    upstream shape, no status or description), the seed README's shape, ours, and the
    upstream's own test vector (in its form)."""
    whole_second = epoch_ns - epoch_ns % 10**9
    shapes = {
        **{f"upstream-{form}": peer_event(form, epoch_ns=epoch_ns) for form in STAMP_FORMS},
        "python-whole-second": peer_event("python", epoch_ns=whole_second),
        "go-whole-second": peer_event("go", epoch_ns=whole_second),
        "offset-negative": {
            **peer_event(epoch_ns=epoch_ns),
            "timestamp": format_stamp(epoch_ns, "offset", -420),
        },
        "seed": peer_event("python", epoch_ns=epoch_ns, data=_SEED_DATA),
        "ours": peer_event("ours", epoch_ns=epoch_ns, data=_OUR_DATA),
        "nulls": peer_event(
            "go",
            epoch_ns=epoch_ns,
            data={
                "event_type": "order.created",
                "value": 1,
                "random_field": None,
                "status": None,
                "description": None,
            },
        ),
        "upstream-vector": {
            "message_id": "test-1",
            "timestamp": format_stamp(epoch_ns, "js"),
            "source": "test",
            "sequence": 1,
            "data": {"event_type": "user.login", "value": 100, "random_field": "test"},
        },
    }
    for name, message in shapes.items():
        if name != "upstream-vector":
            message["source"] = name
            message["message_id"] = f"{name}-{message['sequence']}"
    return shapes


PEER_SHAPES: Final = peer_shapes()
PEER_SHAPES["upstream-vector"]["timestamp"] = "2025-10-08T00:00:00.000Z"  # as the upstream has it


def _without(message: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in message.items() if name != key}


def _with_data(**changes: Any) -> dict[str, Any]:
    message = peer_event()
    return {**message, "data": {**message["data"], **changes}}


_VECTOR: Final = PEER_SHAPES["upstream-vector"]
# Invalid, with the reason every receiver gives.
INVALID_SHAPES: Final[dict[str, tuple[dict[str, Any], str]]] = {
    "vector-bare-date": ({**_VECTOR, "timestamp": "2025-10-08"}, "bad_timestamp"),
    "vector-text-sequence": ({**_VECTOR, "sequence": "not-a-number"}, "schema"),
    **{f"vector-no-{key}": (_without(_VECTOR, key), "schema") for key in _VECTOR},
    "no-event-type": (peer_event(data={"value": 5}), "schema"),
    "no-value": (peer_event(data={"event_type": "user.login"}), "schema"),
    "value-text": (_with_data(value="523"), "schema"),
    "value-float": (_with_data(value=523.5), "schema"),
    "event-type-number": (_with_data(event_type=7), "schema"),
    "status-number": (_with_data(status=1), "schema"),
    "random-field-list": (_with_data(random_field=["alpha"]), "schema"),
    "no-zone": ({**peer_event(), "timestamp": "2025-10-09T01:15:30.123"}, "bad_timestamp"),
    "february-30": ({**peer_event(), "timestamp": "2025-02-30T01:15:30Z"}, "bad_timestamp"),
    "id-mismatch": ({**peer_event(), "message_id": "peer-43"}, "bad_message_id"),
    "source-too-long": (peer_event(source="s" * 257), "too_long"),
    "id-too-long": ({**peer_event(), "message_id": "m" * 278}, "too_long"),
}

_TEXT: Final = st.text(max_size=8)
_ABSENT: Final = object()


@st.composite
def _data(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if draw(st.integers(0, 19)):  # required fields: usually present and typed
        data["event_type"] = draw(st.sampled_from(["user.login", "order.created", ""]))
    if draw(st.integers(0, 19)):
        data["value"] = draw(st.one_of(st.integers(-5, 2000), st.just("7"), st.just(7.5)))
    for name in ("random_field", "status", "description"):
        value = draw(st.one_of(st.just(_ABSENT), st.none(), _TEXT, st.integers(0, 9)))
        if value is not _ABSENT:
            data[name] = value
    if draw(st.integers(0, 9)) == 0:
        data["priority"] = draw(st.one_of(_TEXT, st.integers()))
    return data


@st.composite
def events(draw: st.DrawFn, *, consistent_ids: bool = False) -> dict[str, Any]:
    """Events in every peer's timestamp form, with and without optional and unknown fields,
    near the source/message_id bounds, now and then with a wrong type or a mismatched id."""
    epoch_ns = draw(st.integers(0, 4_102_444_800 * 10**9))  # 1970 .. 2100
    form = draw(st.sampled_from(STAMP_FORMS))
    offset = draw(st.integers(-14 * 60, 14 * 60))
    source = draw(
        st.one_of(
            st.text(min_size=1, max_size=12),
            st.integers(254, 258).map(lambda n: "s" * n),
            st.just(""),
        )
    )
    sequence = draw(st.one_of(st.integers(-1, 10**6), st.just(2**64 - 1)))
    message: dict[str, Any] = {
        "message_id": f"{source}-{sequence}",
        "timestamp": format_stamp(epoch_ns, form, offset),
        "source": source,
        "sequence": sequence,
        "data": draw(_data()),
    }
    if not consistent_ids and draw(st.integers(0, 9)) == 0:
        message["message_id"] = draw(st.text(max_size=290))
    if draw(st.integers(0, 9)) == 0:
        message["trace_id"] = draw(_TEXT)
    return message


def stamp_ns(text: str) -> int:
    """Epoch ns of a timestamp, read with `datetime` (to the microsecond): the tests' oracle."""
    moment = datetime.fromisoformat(text)
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def assert_latency_true(record: dict[str, Any], sent: str, published_after_ns: int) -> None:
    """A `Message received` record's latency_ms puts the receipt between the publish and the
    record: so the subscriber read `sent` (any zone, any precision) as the instant it names."""
    received_ns = stamp_ns(sent) + round(record["latency_ms"] * 1_000_000)
    logged_ns = stamp_ns(record["timestamp"])
    slack = 1_000_000  # the latency's and the oracle's rounding, well under a millisecond
    assert published_after_ns - slack <= received_ns <= logged_ns + slack, (record, sent)
