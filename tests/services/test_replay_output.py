"""The replay hot path: ack reply parsing and output lines, byte for byte as `record` makes them."""

from __future__ import annotations

import asyncio
import io

import msgspec
import pytest

from nats_pubsub.connection.replay_feed import ack_fields
from nats_pubsub.services.replay import StreamChoice, batch_size, choose_stream
from nats_pubsub.services.replay_output import Progress, Writer, record

PREFIX = "$JS.ACK.EVENTS.c1."
TS = 1_767_225_599_999_999_999  # 2025-12-31T23:59:59.999999999Z


def test_ack_fields_reads_a_v1_reply() -> None:
    """Stream sequence, consumer sequence, time and pending come from the reply."""
    assert ack_fields(f"{PREFIX}1.42.7.{TS}.3", PREFIX) == (42, 7, TS, 3)


def test_ack_fields_reads_a_v2_reply() -> None:
    """The domain / account-hash form is read too."""
    reply = f"$JS.ACK.hub.acchash.EVENTS.c1.1.42.7.{TS}.3.rand"
    assert ack_fields(reply, PREFIX) == (42, 7, TS, 3)


@pytest.mark.parametrize(
    "reply",
    [f"$JS.ACK.EVENTS.other.1.42.7.{TS}.3", "_INBOX.abc", f"{PREFIX}1.x.7.{TS}.3", ""],
)
def test_ack_fields_rejects_other_replies(reply: str) -> None:
    """Another consumer's reply, a plain inbox or a malformed one: None."""
    assert ack_fields(reply, PREFIX) is None


def _lines(messages: list[tuple[str, dict[str, str] | None, bytes, int, int]]) -> list[bytes]:
    out = io.BytesIO()

    async def run() -> None:
        writer = Writer(out, Progress(io.StringIO()))
        for subject, headers, data, seq, ts in messages:
            writer.add(subject, headers, data, seq, ts, 0)
        writer.flush()

    asyncio.run(run())
    return out.getvalue().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({"Nats-Msg-Id": "publisher-1@run"}, b'{"message_id":"publisher-1","n":[1,2.5,null]}'),
        (None, b'{"a":"\\u00e9 \\"quoted\\""}'),
        ({}, '{"name":"Zoë ✓"}'.encode()),
        ({"K": 'va"l\\ue'}, b" 42 "),
        (None, b'{\n  "a": 1\n}'),
        (None, b"plain text"),
        (None, b"\xff\x00"),
        (None, b""),
        (None, b'{"a":'),
    ],
)
def test_writer_lines_equal_the_record_encoding(
    headers: dict[str, str] | None, data: bytes
) -> None:
    """Each line is exactly `record()` encoded by msgspec, one JSON object per line."""
    encode = msgspec.json.Encoder().encode
    got = _lines([("events.a.b", headers, data, 7, TS)])
    assert got == [encode(record("events.a.b", 7, TS, headers, data)) + b"\n"]


def test_writer_times_cross_seconds_and_days() -> None:
    """The cached second is renewed whenever a time leaves it, forwards or backwards."""
    times = [TS, TS + 1, TS + 1_000_000_001, TS - 2_000_000_000, 0]
    encode = msgspec.json.Encoder().encode
    got = _lines([("s", None, b"1", i + 1, ts) for i, ts in enumerate(times)])
    want = [encode(record("s", i + 1, ts, None, b"1")) + b"\n" for i, ts in enumerate(times)]
    assert got == want


@pytest.mark.parametrize(
    ("messages", "size", "expected"),
    [(0, 0, 4000), (100_000, 25_000_000, 4000), (1000, 100 * 1024 * 1024, 80), (10, 10**8, 16)],
)
def test_batch_size_shrinks_for_large_messages(messages: int, size: int, expected: int) -> None:
    """Pull requests ask for about 8 MiB at most: 4,000 small messages, fewer large ones."""
    assert batch_size({"messages": messages, "bytes": size}) == expected


STREAMS = {"EVENTS": ["events.>"], "PAYMENTS": ["payments.>"], "DLQ": ["dlq.>"]}


@pytest.mark.parametrize(
    ("subject", "streams", "chosen"),
    [
        (None, {"EVENTS": ["events.>"]}, "EVENTS"),
        ("events.test", STREAMS, "EVENTS"),
        ("payments.*.declined", STREAMS, "PAYMENTS"),
        ("dlq.>", STREAMS, "DLQ"),
        ("orders.new", {"ORDERS": ["orders.*"], "EVENTS": ["events.>"]}, "ORDERS"),
    ],
)
def test_replay_picks_the_stream_holding_the_subject_or_the_only_one(
    subject: str | None, streams: dict[str, list[str]], chosen: str
) -> None:
    """Without --stream: the one stream whose subjects hold --subject, else the only stream."""
    assert choose_stream(subject, streams) == StreamChoice(chosen)


@pytest.mark.parametrize(
    ("subject", "streams", "code", "says"),
    [
        (None, STREAMS, 2, "choose a stream with --stream: DLQ (dlq.>), EVENTS (events.>), "),
        (">", STREAMS, 2, "> is in DLQ, EVENTS, PAYMENTS: choose one with --stream"),
        ("orders.new", STREAMS, 2, "no stream holds orders.new: streams are DLQ (dlq.>), "),
        (None, {}, 1, "the server has no streams"),
        ("events.test", {}, 1, "the server has no streams"),
    ],
)
def test_replay_asks_for_a_stream_when_it_cannot_choose(
    subject: str | None, streams: dict[str, list[str]], code: int, says: str
) -> None:
    """Several candidates or none: no choice, the streams that exist, and the exit code."""
    choice = choose_stream(subject, streams)
    assert (choice.name, choice.exit_code) == (None, code)
    assert choice.problem.startswith(says)
