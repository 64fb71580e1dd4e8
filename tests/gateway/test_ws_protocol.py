"""The batched WebSocket path writes the same bytes as uvicorn's own, and both paths work."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.sync.client import connect

from nats_pubsub.gateway.proto import message_pb2 as pb
from nats_pubsub.gateway.ws_protocol import frame_header
from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import CliFactory, add_stream, js_publish, start_gateway


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
@pytest.mark.parametrize("opcode", [Opcode.BINARY, Opcode.TEXT])
def test_frames_are_byte_for_byte_the_websockets_librarys(size: int, opcode: Opcode) -> None:
    """Header plus payload equals websockets' own serialisation of an unmasked frame."""
    data = b"a" * size
    first = 0x80 | opcode.value
    ours = frame_header(first, size) + data
    theirs = Frame(opcode, data).serialize(mask=False)
    assert ours == theirs


@pytest.mark.e2e
@pytest.mark.parametrize("batched", ["1", "0"])
def test_both_websocket_paths_deliver_every_size(
    run_cli: CliFactory, nats_server: EmbeddedServer, batched: str
) -> None:
    """NATS_PUBSUB_WS_BATCH on and off: small, medium and large messages arrive intact."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    gw = start_gateway(run_cli, nats_server.url, env={"NATS_PUBSUB_WS_BATCH": batched})
    payloads = [b'"%s"' % (b"x" * n) for n in (10, 1000, 70_000)]
    url = gw.url.replace("http://", "ws://") + "/ws/websocketmessages/events.>"
    with connect(url, open_timeout=10, max_size=None) as ws:
        assert pb.WebSocketFrame.FromString(ws.recv(timeout=10)).type == pb.CONTROL
        js_publish(nats_server.url, "events.sizes", payloads)
        got = [pb.WebSocketFrame.FromString(ws.recv(timeout=10)).message.data for _ in payloads]
    assert got == payloads
