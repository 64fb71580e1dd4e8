"""The subscriber's fast path and general path decide and log the same way.

`services.subscriber.make_handler` logs canonical events on a fast path and everything else
through `receiving.inspect_message`; these tests feed both kinds and compare every record with
what `inspect_message` says, at a fixed clock.
"""

from __future__ import annotations

import asyncio
import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nats_pubsub.config import SubscriberSettings
from nats_pubsub.domain.receiving import inspect_message
from nats_pubsub.domain.stats import ReceiveStats
from nats_pubsub.domain.timeutil import parse_timestamp_ns
from nats_pubsub.errors import InvalidMessageError
from nats_pubsub.logs import loss
from nats_pubsub.logs.bounds import CUT_MARK, MAX_FIELD_CHARS, bound_fields
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.services import subscriber
from tests.helpers.event_shapes import INVALID_SHAPES, PEER_SHAPES, events
from tests.helpers.messages import EVENT, PAYMENT, SENT_NS, encode

NOW_NS = SENT_NS + 1_234_567
SETTINGS = SubscriberSettings(nats_url="nats://127.0.0.1:4222", metrics_every=10**9)
_HEAD = ("timestamp", "level", "logger", "message", "module", "function")


def _run(
    monkeypatch: pytest.MonkeyPatch, subject: str, payloads: list[bytes], now: int = NOW_NS
) -> tuple[list[dict[str, Any]], ReceiveStats]:
    """Feed payloads to a real handler at a fixed clock; its records and stats."""
    monkeypatch.setattr(subscriber, "now_ns", lambda: now)
    stream = io.BytesIO()
    stats = ReceiveStats()
    handler = subscriber.make_handler(
        SETTINGS, Logger("t", LogSink(stream)), stats, asyncio.Event()
    )
    for data in payloads:
        handler(subject, "", data, None)
    return [json.loads(line) for line in stream.getvalue().splitlines()], stats


def _expected(subject: str, data: bytes, now: int = NOW_NS) -> dict[str, Any]:
    """What the general path says about one payload: its record fields (long strings cut, as in
    every record) or its rejection."""
    try:
        fields = inspect_message(subject, data, "", now).fields
        return {"message": "Message received", **bound_fields(fields)}
    except InvalidMessageError as exc:
        return {"message": "Invalid message", "reason": exc.reason}


def _check(
    monkeypatch: pytest.MonkeyPatch, subject: str, data: bytes, now: int = NOW_NS
) -> dict[str, Any]:
    records, _ = _run(monkeypatch, subject, [data], now)
    [record] = [r for r in records if r["message"] in ("Message received", "Invalid message")]
    expected = _expected(subject, data, now)
    if expected["message"] == "Invalid message":
        assert (record["message"], record["reason"]) == ("Invalid message", expected["reason"])
    else:
        assert record == {**{k: record[k] for k in _HEAD}, **expected}
    return record


def test_canonical_event_is_logged_as_inspect_message_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A canonical event (the fast path) gets exactly the general path's fields and latency."""
    record = _check(monkeypatch, "events.x", encode(EVENT))
    assert record["latency_ms"] == 1.235


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": "2024-05-06T07:08:09Z"},
        {"timestamp": "2024-05-06T09:08:09.000000+02:00"},
        {"timestamp": "2024-05-06t07:08:09.000000z"},
        {"timestamp": "2024-05-06T07:08:09.000000"},
        {"timestamp": "2024-05-06T07:08:09.12345678Z"},
        {"message_id": "pub-4"},
        {"sequence": 0},
        {"trace_id": "unknown field"},
        {"data": {**EVENT["data"], "extra": 1}},  # type: ignore[dict-item]
    ],
)
def test_event_variants_agree(monkeypatch: pytest.MonkeyPatch, change: dict[str, Any]) -> None:
    """Events off the canonical form are accepted or rejected as inspect_message decides."""
    _check(monkeypatch, "events.x", encode({**EVENT, **change}))


@pytest.mark.parametrize("name", PEER_SHAPES)
def test_peer_shapes_agree_and_are_received(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Every peer's shape is received on both paths, its latency from the instant it wrote."""
    message = PEER_SHAPES[name]
    now = parse_timestamp_ns(message["timestamp"]) + 2_000_000
    record = _check(monkeypatch, "events.x", encode(message), now)
    assert record["message"] == "Message received"
    assert record["latency_ms"] == 2.0


@pytest.mark.parametrize("name", INVALID_SHAPES)
def test_invalid_shapes_agree(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Hostile and broken shapes are rejected with the same reason on both paths."""
    message, reason = INVALID_SHAPES[name]
    assert _check(monkeypatch, "events.x", encode(message))["reason"] == reason


@pytest.mark.parametrize(
    ("subject", "change"),
    [
        ("events." + "s" * 3000, {}),  # the fast path, a subject as long as a server allows
        ("events." + "s" * 3000, {"trace_id": "t"}),  # the general path
        ("events.x", {"data": {**EVENT["data"], "event_type": "e" * 100_000}}),  # type: ignore[dict-item]
        ("events.x", {"data": {**EVENT["data"], "event_type": "e" * 100_000, "x": 1}}),  # type: ignore[dict-item]
    ],
)
def test_long_strings_are_cut_alike_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, subject: str, change: dict[str, Any]
) -> None:
    """A long subject or event type: both paths log it cut, and agree on everything else."""
    record = _check(monkeypatch, subject, encode({**EVENT, **change}))
    longest = max(len(value) for value in record.values() if isinstance(value, str))
    assert longest == MAX_FIELD_CHARS + len(CUT_MARK)


def test_payment_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """A payment transaction (general path) is logged as inspect_message says."""
    _check(monkeypatch, "payments.card", encode(PAYMENT))


@settings(max_examples=200, deadline=None)
@given(
    second=st.integers(0, 59),
    micros=st.integers(0, 999_999),
    form=st.sampled_from(["{s:02d}.{u:06d}Z", "{s:02d}Z", "{s:02d}.{u:03d}Z", "{s:02d}.{u:06d}"]),
    sequence=st.integers(-1, 2**40),
    same_id=st.booleans(),
)
def test_generated_events_agree(
    second: int, micros: int, form: str, sequence: int, same_id: bool
) -> None:
    """Generated timestamps, sequences and ids: both paths agree on every one."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        stamp = "2024-05-06T07:08:" + form.format(s=second, u=micros % (10 ** form.count("0")))
        message = {**EVENT, "timestamp": stamp, "sequence": sequence}
        message["message_id"] = f"pub-{sequence if same_id else sequence + 1}"
        _check(monkeypatch, "events.x", encode(message))


@settings(max_examples=300, deadline=None)
@given(message=events())
def test_generated_peer_shapes_agree(message: dict[str, Any]) -> None:
    """Generated events with and without the optional fields, in every peer's timestamp form,
    near the length bounds and with wrong types: both paths agree on every one."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _check(monkeypatch, "events.x", encode(message))


def test_fast_path_counts_and_tracks_sequences(monkeypatch: pytest.MonkeyPatch) -> None:
    """Canonical events are counted, their latency observed and sequence gaps found."""
    payloads = [encode({**EVENT, "sequence": n, "message_id": f"pub-{n}"}) for n in (1, 2, 5)]
    records, stats = _run(monkeypatch, "events.x", payloads)
    assert stats.valid == 3
    assert stats.received_bytes == sum(map(len, payloads))
    assert stats.histogram.counts[2] == 3  # 1.235 ms falls in the (1, 2.5] bucket
    assert stats.sequences.lost == 2
    assert [r["message"] for r in records].count("Messages lost") == 1


def test_fast_path_reports_held_losses_when_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loss held back is reported by a later in-sequence event once its interval passed."""
    clock = [100.0]
    monkeypatch.setattr(loss, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(subscriber, "now_ns", lambda: NOW_NS)
    stream = io.BytesIO()
    stats = ReceiveStats()
    handler = subscriber.make_handler(
        SETTINGS, Logger("t", LogSink(stream)), stats, asyncio.Event()
    )
    for n in (1, 3, 5, 6):  # the gap before 5 is held: within a second of the first
        handler("events.x", "", encode({**EVENT, "sequence": n, "message_id": f"pub-{n}"}), None)
    clock[0] += 1.5
    handler("events.x", "", encode({**EVENT, "sequence": 7, "message_id": "pub-7"}), None)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["lost"] for r in records if r["message"] == "Messages lost"] == [1, 1]
    assert stats.sequences.lost == 2


def test_canonical_event_skips_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A canonical event never reaches inspect_message: the fast path handles it whole."""

    def general(*args: object) -> None:
        raise AssertionError("the general path was taken")

    monkeypatch.setattr(subscriber, "inspect_message", general)
    records, stats = _run(monkeypatch, "events.x", [encode(EVENT)])
    assert stats.valid == 1
    assert records[0]["message"] == "Message received"
