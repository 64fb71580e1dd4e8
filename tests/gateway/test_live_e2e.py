"""End to end: live streams (WebSocket, protobuf and JSON; Server-Sent Events) through a real
gateway, a stalled client, and a nats-server restart during a stream."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from nats_pubsub.gateway.proto import message_pb2 as pb
from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import (
    CliFactory,
    RawWebSocket,
    RunningGateway,
    add_stream,
    js_publish,
    start_gateway,
)
from tests.helpers.fixtures import free_port

pytestmark = pytest.mark.e2e


def _ws(gw: RunningGateway, path: str) -> ClientConnection:
    return connect(gw.url.replace("http://", "ws://") + path, open_timeout=10)


def _frame(ws: ClientConnection) -> Any:
    return pb.WebSocketFrame.FromString(ws.recv(timeout=10))


def test_websocket_protobuf_frames(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """SUBSCRIBE_ACK first, then one MESSAGE frame per message published after it."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    js_publish(nats_server.url, "events.old", [b'{"old":true}'])  # before: not sent
    with _ws(gateway, "/ws/websocketmessages/events.>") as ws:
        ack = _frame(ws)
        assert ack.type == pb.CONTROL
        assert (ack.control.type, ack.control.message) == (
            pb.SUBSCRIBE_ACK,
            "Subscribed to events.>",
        )
        seqs = js_publish(nats_server.url, "events.a", [b'{"n":1}', b'{"n":2}'])
        frames = [_frame(ws), _frame(ws)]
    assert [f.type for f in frames] == [pb.MESSAGE, pb.MESSAGE]
    assert [f.message.sequence for f in frames] == seqs
    assert [f.message.data for f in frames] == [b'{"n":1}', b'{"n":2}']
    assert {(f.message.subject, f.message.stream, f.message.size_bytes) for f in frames} == {
        ("events.a", "EVENTS", 7)
    }
    assert gateway.proc.logs.wait_for("WebSocket connection closed")


def test_websocket_json_frames(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """?format=json: text frames a browser reads with JSON.parse."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    with _ws(gateway, "/ws/websocketmessages/events.*?format=json") as ws:
        ack = json.loads(ws.recv(timeout=10))
        control = {"type": "subscribe_ack", "message": "Subscribed to events.*"}
        assert ack == {"type": "control", "control": control}
        gateway.http.post("/api/messages/events.j", json={"data": {"k": "v"}})
        frame = json.loads(ws.recv(timeout=10))
    assert frame["type"] == "message"
    assert frame["message"]["subject"] == "events.j"
    assert frame["message"]["data"]["data"] == {"k": "v"}


def test_websocket_on_an_unknown_subject_gets_an_error_frame(gateway: RunningGateway) -> None:
    """No stream: an ERROR control saying so, then CLOSE, then the close frame; nothing made."""
    with _ws(gateway, "/ws/websocketmessages/nowhere.x") as ws:
        error = _frame(ws)
        close = _frame(ws)
        with pytest.raises(Exception, match="Stream ended"):
            ws.recv(timeout=10)
    assert error.control.type == pb.ERROR
    assert "No stream stores messages on 'nowhere.x'" in error.control.message
    assert (close.control.type, close.control.message) == (pb.CLOSE, "Connection closing")
    assert gateway.http.get("/api/streams").json()["count"] == 0


def test_websocket_from_a_durable_consumer_acks_what_it_sends(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Frames carry the consumer's name; each is acknowledged; a missing consumer is an ERROR."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    seqs = js_publish(nats_server.url, "events.d", [b"{}"] * 3)
    gateway.http.post("/api/consumers/EVENTS", json={"name": "live"})
    with _ws(gateway, "/ws/websocketmessages/EVENTS/consumer/live") as ws:
        assert _frame(ws).control.message == "Subscribed to consumer live"
        frames = [_frame(ws) for _ in seqs]
        assert [f.message.sequence for f in frames] == seqs
        assert {f.message.consumer for f in frames} == {"live"}
        for _ in range(50):  # acks follow each send; the state is read until it shows them
            state = gateway.http.get("/api/consumers/EVENTS/live").json()["state"]
            if state["ackPending"] == 0 and state["delivered"] == 3:
                break
        assert (state["ackPending"], state["numPending"], state["delivered"]) == (0, 0, 3)
    with _ws(gateway, "/ws/websocketmessages/EVENTS/consumer/nobody") as ws:
        error = _frame(ws)
    assert error.control.type == pb.ERROR
    assert error.control.message == (
        "Consumer 'nobody' does not exist in stream 'EVENTS'. Please create the consumer first "
        "using the NATS CLI or management API."
    )


def _sse_events(lines: Iterator[str], count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The next `count` events from an event stream's lines, as (id, event, data)."""
    events: list[tuple[str, str, dict[str, Any]]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if fields:
                events.append((fields.get("id", ""), fields["event"], json.loads(fields["data"])))
                fields = {}
                if len(events) == count:
                    return events
            continue
        key, _, value = line.partition(": ")
        fields[key] = value
    return events


def test_server_sent_events_and_last_event_id(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """`id:` is the stream sequence; Last-Event-ID resumes right after it."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    with gateway.http.stream("GET", "/api/stream/events.>") as live:
        assert live.headers["content-type"] == "text/event-stream"
        lines = live.iter_lines()
        [(_, kind, data)] = _sse_events(lines, 1)
        assert (kind, data["stream"]) == ("subscribed", "EVENTS")
        seqs = js_publish(nats_server.url, "events.s", [b'{"n":%d}' % i for i in range(4)])
        got = _sse_events(lines, 4)
    assert [int(i) for i, _, _ in got] == seqs
    assert [d["data"] for _, _, d in got] == [{"n": i} for i in range(4)]
    resume = {"last-event-id": str(seqs[1])}
    with gateway.http.stream("GET", "/api/stream/events.>", headers=resume) as again:
        lines = again.iter_lines()
        _sse_events(lines, 1)
        got = _sse_events(lines, 2)
    assert [int(i) for i, _, _ in got] == seqs[2:]
    bad = gateway.http.get("/api/stream/events.>", headers={"last-event-id": "x"})
    assert bad.status_code == 400
    assert gateway.http.get("/api/stream/nowhere.x").status_code == 404


def test_a_stalled_client_misses_messages_and_nobody_else_does(
    run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    """A client that stops reading gets a lag notice with the number missed once it reads again
    (received + missed = published); a client beside it receives everything."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    gw = start_gateway(run_cli, nats_server.url, "--client-queue", "20")
    stalled = RawWebSocket(gw.url, "/ws/websocketmessages/events.>?format=json")
    total = 1000  # of 16 KiB: more than the kernel's socket buffers hold for the stalled one
    received: list[int] = []
    with _ws(gw, "/ws/websocketmessages/events.>?format=json") as healthy:
        assert json.loads(healthy.recv(timeout=10))["type"] == "control"
        reading = threading.Thread(
            target=lambda: received.extend(
                json.loads(healthy.recv(timeout=30))["message"]["sequence"] for _ in range(total)
            )
        )
        reading.start()
        js_publish(nats_server.url, "events.bulk", [b'{"pad":"%s"}' % (b"x" * 16384)] * total)
        reading.join(60)
    assert len(received) == total
    got = missed = 0
    notices = []
    while (frame := stalled.frame(timeout=5)) is not None:
        body = json.loads(frame[1])
        if body["type"] == "message":
            got += 1
        elif body["control"]["type"] == "lag":
            notices.append(body["control"])
            missed += body["control"]["missed"]
    stalled.close()
    assert notices, f"received {got} of {total} without a lag notice"
    assert missed > 0
    assert got + missed == total
    metrics = gw.http.get("/metrics").text
    assert (
        f'nats_pubsub_gateway_live_missed_messages_total{{service="gateway"}} {missed}.0' in metrics
    )


def test_a_live_stream_resumes_after_nats_restarts(run_cli: CliFactory, tmp_path: Path) -> None:
    """The server goes away and comes back on the same port and store: the WebSocket stays
    open and carries on with the messages published after the restart."""
    port = free_port()
    store = tmp_path / "store"
    server = EmbeddedServer(port=port, store_dir=store).start()
    try:
        add_stream(server.url, "EVENTS", ["events.>"])
        gw = start_gateway(run_cli, server.url)
        with _ws(gw, "/ws/websocketmessages/events.>") as ws:
            _frame(ws)
            js_publish(server.url, "events.r", [b'{"before":1}'])
            assert _frame(ws).message.data == b'{"before":1}'
            server.stop()
            gw.proc.logs.wait_for("Disconnected from NATS")
            down = gw.http.get("/readyz")
            assert (down.status_code, down.json()["reason"]) == (503, "not connected to NATS")
            assert gw.http.get("/api/streams").status_code == 503
            server = EmbeddedServer(port=port, store_dir=store).start()
            gw.proc.logs.wait_for("Reconnected to NATS")
            seqs = js_publish(server.url, "events.r", [b'{"after":1}', b'{"after":2}'])
            frames = [_frame(ws), _frame(ws)]
        assert [f.message.sequence for f in frames] == seqs
        assert [f.message.data for f in frames] == [b'{"after":1}', b'{"after":2}']
    finally:
        server.stop()


def test_live_streams_are_limited(run_cli: CliFactory, nats_server: EmbeddedServer) -> None:
    """GATEWAY_MAX_STREAMS: past it a WebSocket gets an ERROR and SSE a 429."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    gw = start_gateway(run_cli, nats_server.url, env={"GATEWAY_MAX_STREAMS": "1"})
    with _ws(gw, "/ws/websocketmessages/events.>") as first:
        assert _frame(first).control.type == pb.SUBSCRIBE_ACK
        with _ws(gw, "/ws/websocketmessages/events.>") as second:
            refused = _frame(second)
        assert refused.control.type == pb.ERROR
        assert "Too many live streams" in refused.control.message
        assert gw.http.get("/api/stream/events.>").status_code == 429
    # the slot is free again once the first has gone
    with _ws(gw, "/ws/websocketmessages/events.>") as third:
        assert _frame(third).control.type == pb.SUBSCRIBE_ACK


def test_sigterm_closes_websockets_and_finishes_requests(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """A request in flight completes; a WebSocket gets CLOSE and a close frame; exit 0."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    gateway.http.post("/api/consumers/EVENTS", json={"name": "slow"})
    answers: list[httpx.Response] = []
    with _ws(gateway, "/ws/websocketmessages/events.>") as ws:
        _frame(ws)
        waiting = threading.Thread(
            target=lambda: answers.append(
                gateway.http.get("/api/messages/EVENTS/consumer/slow", params={"timeout": 3})
            )
        )
        waiting.start()
        gateway.proc.logs.wait_for(lambda r: r.get("message") == "Connected to NATS")
        gateway.proc.signal(signal.SIGTERM)
        close = _frame(ws)
        with pytest.raises(Exception, match="1001"):
            ws.recv(timeout=10)
        waiting.join(30)
    assert (close.control.type, close.control.message) == (pb.CLOSE, "Connection closing")
    assert answers[0].status_code == 200
    assert gateway.proc.wait(30) == 0
    assert gateway.proc.logs.where("Gateway stopped")
