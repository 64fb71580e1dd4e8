"""Tests for connection.fast_ingest: fast-ingest batches published to a real server's stream."""

from __future__ import annotations

import asyncio
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.fast_ingest import AcksCallback, BatchWindow
from nats_pubsub.connection.js_streams import JetStream
from nats_pubsub.connection.pub_ack import PubAckInfo
from nats_pubsub.domain import batch_protocol
from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.ingest_build import IngestBatcher
from nats_pubsub.domain.stream_rules import StreamSpec
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.connections import connect_subscriber
from tests.helpers.jetstream import stream_messages

STREAM = "FI"
Inject = Callable[[BatchWindow, Callable[[str, bytes], None]], None]


class _Outcomes:
    """What a window reported: acked contexts with their acks, failed contexts with the reason."""

    def __init__(self) -> None:
        self.acked: list[tuple[Any, PubAckInfo]] = []
        self.failed: list[tuple[Any, str]] = []

    def on_acks(self, contexts: list[Any], ack: PubAckInfo) -> None:
        self.acked.extend((context, ack) for context in contexts)

    def on_fail(self, context: Any, why: str) -> None:
        self.failed.append((context, why))


def _records(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def _window(
    conn: Connection,
    log: Logger,
    subject: str,
    flow: int,
    outcomes: _Outcomes,
    on_acks: AcksCallback | None = None,
) -> BatchWindow:
    """A window on STREAM (made for `subject`.>, fast ingest on) reporting to `outcomes` (acks
    to `on_acks` if given), with no ping or timeout during a test."""
    js = JetStream(conn, log)
    await js.ensure_stream(StreamSpec(STREAM, (f"{subject}.>",), 3600.0, 1 << 30))
    await js.enable_fast_ingest(STREAM)
    return BatchWindow(
        conn,
        stream=STREAM,
        flow=flow,
        ack_timeout=30.0,
        give_up_after=None,
        on_acks=on_acks or outcomes.on_acks,
        on_fail=outcomes.on_fail,
        log=log,
    )


def _run_batch(
    url: str, subject: str, prefix: str, count: int, inject: Inject
) -> tuple[_Outcomes, BatchWindow, bool, list[dict[str, Any]]]:
    """Put `count` messages in one batch (flow 100); when the stream's first ack confirms the
    batch, `inject` hands replies to the window in the same callback, before anything else runs.
    Returns the outcomes, the window, what `wait_all` said, and the window's log records."""
    logs = io.BytesIO()

    async def scenario() -> tuple[_Outcomes, BatchWindow, bool]:
        conn = await connect_subscriber(url, io.BytesIO())
        outcomes = _Outcomes()
        # flow 100: no flow ack covers any of the `count` messages
        window = await _window(conn, Logger("t", LogSink(logs)), subject, 100, outcomes)
        real = window._on_reply
        injected: list[str] = []

        def on_reply(subj: str, reply: str, data: bytes, headers: dict[str, str] | None) -> None:
            real(subj, reply, data, headers)
            if not injected and window._open is not None and window._open.confirmed:
                injected.append(window._open.id)

                def send(reply_subject: str, payload: bytes) -> None:
                    real(reply_subject, "", payload, None)

                inject(window, send)

        window._on_reply = on_reply  # type: ignore[method-assign]
        await window.start()
        for n in range(1, count + 1):
            window.put(f"{subject}.in", b'{"n":%d}' % n, f"{prefix}-{n}", n)
        await window.flush()
        settled = await window.wait_all(timeout=30)
        await conn.drain()
        assert injected, "the stream never confirmed the batch"
        return outcomes, window, settled

    outcomes, window, settled = asyncio.run(scenario())
    return outcomes, window, settled, _records(logs)


def test_gap_resends_unacked_messages_stored_once(
    nats_server: EmbeddedServer, subject: str
) -> None:
    """A gap ending the batch at 5 resends 6..10 in a new batch; each is acked and stored once."""
    batches: list[str] = []

    def gap_after_five(window: BatchWindow, send: Callable[[str, bytes], None]) -> None:
        assert window._open is not None
        batch = window._open.id
        batches.append(batch)
        at = f"{window._inbox}.{batch}.100.fail.7.1.$FI"
        send(at, b'{"type":"gap","last_seq":5,"seq":7}')
        final = {"stream": STREAM, "seq": 5, "batch": batch, "count": 5}
        send(at, json.dumps(final).encode())

    outcomes, window, settled, records = _run_batch(
        nats_server.url, subject, "gap", 10, gap_after_five
    )
    assert settled
    assert outcomes.failed == []
    assert Counter(n for n, _ in outcomes.acked) == Counter(range(1, 11))
    first = [ack.batch for n, ack in outcomes.acked if n <= 5]
    again = [ack.batch for n, ack in outcomes.acked if n > 5]
    assert first == batches * 5
    assert len(set(again)) == 1
    assert again[0] not in batches
    assert all(ack.stream == STREAM for _, ack in outcomes.acked)
    assert window.retried == 5
    assert window.in_flight == 0
    gaps = [r for r in records if r["message"] == "Batch lost messages on the way; resending"]
    assert [(r["level"], r["lost"]) for r in gaps] == [("WARNING", 1)]
    ids = [m["headers"]["Nats-Msg-Id"] for m in stream_messages(nats_server.url, STREAM)]
    assert sorted(ids, key=lambda i: int(i.split("-")[1])) == [f"gap-{n}" for n in range(1, 11)]


def test_refused_message_fails_alone(nats_server: EmbeddedServer, subject: str) -> None:
    """An err reply for message 3 fails it once with the server's reason; the others are acked."""
    error = {"code": 400, "err_code": 10054, "description": "message size exceeds maximum allowed"}

    def refuse_third(window: BatchWindow, send: Callable[[str, bytes], None]) -> None:
        assert window._open is not None
        at = f"{window._inbox}.{window._open.id}.100.fail.3.1.$FI"
        refusal = json.dumps({"type": "err", "seq": 3, "error": error}).encode()
        send(at, refusal)
        send(at, refusal)  # said twice: still one failure

    outcomes, window, settled, _ = _run_batch(nats_server.url, subject, "err", 10, refuse_third)
    assert settled
    assert outcomes.failed == [(3, "message size exceeds maximum allowed (code 10054)")]
    assert Counter(n for n, _ in outcomes.acked) == Counter(n for n in range(1, 11) if n != 3)
    assert window.retried == 0
    assert window.in_flight == 0


def test_message_the_stream_refuses_fails_alone(nats_server: EmbeddedServer, subject: str) -> None:
    """A message over the stream's max_msg_size fails alone; the others are acked and stored."""

    async def scenario() -> tuple[_Outcomes, bool]:
        conn = await connect_subscriber(nats_server.url, io.BytesIO())
        config = {
            "name": STREAM,
            "subjects": [f"{subject}.>"],
            "storage": "file",
            "max_msg_size": 100,
            "allow_batched": True,
        }
        await conn.client.request(
            f"$JS.API.STREAM.CREATE.{STREAM}", json.dumps(config).encode(), timeout=10
        )
        outcomes = _Outcomes()
        window = BatchWindow(
            conn,
            stream=STREAM,
            flow=100,
            ack_timeout=30.0,
            give_up_after=None,
            on_acks=outcomes.on_acks,
            on_fail=outcomes.on_fail,
            log=Logger("t", LogSink(io.BytesIO())),
        )
        await window.start()
        for n in range(1, 11):
            payload = b"x" * (200 if n == 3 else 10)
            await window.publish(f"{subject}.in", payload, f"big-{n}", n)
        settled = await window.wait_all(timeout=30)
        await conn.drain()
        return outcomes, settled

    outcomes, settled = asyncio.run(scenario())
    assert settled
    assert [n for n, _ in outcomes.failed] == [3]
    assert "message size exceeds maximum allowed" in outcomes.failed[0][1]
    assert Counter(n for n, _ in outcomes.acked) == Counter(n for n in range(1, 11) if n != 3)
    ids = [m["headers"]["Nats-Msg-Id"] for m in stream_messages(nats_server.url, STREAM)]
    assert sorted(ids) == sorted(f"big-{n}" for n in range(1, 11) if n != 3)


def test_stray_reply_on_a_short_subject_changes_nothing(
    nats_server: EmbeddedServer, subject: str
) -> None:
    """An error reply on a subject without a message number refuses nothing; all are acked."""
    error = {"error": {"code": 400, "err_code": 10054, "description": "too big"}}

    raised: list[Exception] = []

    def stray(window: BatchWindow, send: Callable[[str, bytes], None]) -> None:
        assert window._open is not None
        try:
            send(f"{window._inbox}.{window._open.id}.junk", json.dumps(error).encode())
        except Exception as exc:  # the reply handler must take any subject in its inbox
            raised.append(exc)

    outcomes, window, settled, _ = _run_batch(nats_server.url, subject, "stray", 10, stray)
    assert raised == []
    assert settled
    assert outcomes.failed == []
    assert Counter(n for n, _ in outcomes.acked) == Counter(range(1, 11))
    assert window.retried == 0


def _line(subject: str, event_type: str) -> bytes:
    """A line format with the holes IngestBatcher fills: stamp, micros, sequence twice, size."""
    return b'{"t":"%b%06d","id":%b,"seq":%b,"size":%d,"batch":""}\n'


def test_runs_are_reported_per_ack_in_order_and_stored_once(
    nats_server: EmbeddedServer, subject: str
) -> None:
    """Runs framed by IngestBatcher (`slot`, `put_run`) are stored once each, in order, and
    `on_acks` reports them once per reply, in order, with the batch's ack."""
    count = 500
    reports: list[tuple[list[Any], PubAckInfo]] = []

    async def scenario() -> tuple[_Outcomes, bool]:
        conn = await connect_subscriber(nats_server.url, io.BytesIO())
        outcomes = _Outcomes()
        log = Logger("t", LogSink(io.BytesIO()))
        window = await _window(
            conn, log, subject, 64, outcomes, lambda contexts, ack: reports.append((contexts, ack))
        )
        await window.start()
        factory = EventFactory("runs", ("user.login",), seed=1)
        batcher = IngestBatcher(factory, lambda _: f"{subject}.in", "@r", _line)
        while factory.sequence < count:
            free = await window.room()
            run = batcher.build(min(free, count - factory.sequence), 1 << 20, *window.slot())
            window.put_run(run.frames, run.jobs, run.payload_bytes)
            await window.flush()
        settled = await window.wait_all(timeout=30)
        await conn.drain()
        return outcomes, settled

    outcomes, settled = asyncio.run(scenario())
    assert settled
    assert (outcomes.acked, outcomes.failed) == ([], [])
    assert len(reports) > 1
    assert [sent[2] for contexts, _ in reports for sent in contexts] == list(range(1, count + 1))
    assert all(ack.stream == STREAM and ack.batch == reports[0][1].batch for _, ack in reports)
    ids = [m["headers"]["Nats-Msg-Id"] for m in stream_messages(nats_server.url, STREAM)]
    assert ids == [f"runs-{n}@r" for n in range(1, count + 1)]


def test_wait_all_ends_the_batch_without_waiting_for_a_pause(
    nats_server: EmbeddedServer, subject: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The publisher is done once it calls `wait_all`: the batch ends at once, even were the
    idle pause an hour, and every message is acked."""
    monkeypatch.setattr(batch_protocol, "IDLE_SECONDS", 3600.0)
    outcomes, _, settled, _ = _run_batch(nats_server.url, subject, "done", 10, lambda *_: None)
    assert settled
    assert [context for context, _ in outcomes.acked] == list(range(1, 11))


def test_public_api_batches_are_stored_once_in_order(
    nats_server: EmbeddedServer, subject: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NATS_PUBSUB_FAST_PATH=0: no frames; each message of the batch goes through nats-py's
    publish() with the same reply subject and id, acked per flow, stored once each, in order."""
    monkeypatch.setenv("NATS_PUBSUB_FAST_PATH", "0")
    count = 300

    async def scenario() -> tuple[_Outcomes, bool, bool]:
        conn = await connect_subscriber(nats_server.url, io.BytesIO())
        outcomes = _Outcomes()
        window = await _window(conn, Logger("t", LogSink(io.BytesIO())), subject, 32, outcomes)
        await window.start()
        for n in range(1, count + 1):
            await window.publish(f"{subject}.in", b'{"n":%d}' % n, f"plain-{n}", n)
        settled = await window.wait_all(timeout=30)
        await conn.drain()
        return outcomes, settled, window.frames.usable

    outcomes, settled, usable = asyncio.run(scenario())
    assert not usable
    assert settled
    assert outcomes.failed == []
    assert [context for context, _ in outcomes.acked] == list(range(1, count + 1))
    assert len({ack.batch for _, ack in outcomes.acked}) == 1
    messages = stream_messages(nats_server.url, STREAM)
    assert [m["headers"]["Nats-Msg-Id"] for m in messages] == [
        f"plain-{n}" for n in range(1, count + 1)
    ]
    assert [m["data"] for m in messages] == [b'{"n":%d}' % n for n in range(1, count + 1)]
