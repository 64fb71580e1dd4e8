"""uvicorn's sans-I/O WebSocket protocol, with data frames written in one piece per event-loop
turn: the fan-out's hot path.

uvicorn writes every frame with its own `transport.write`, a system call each: at 50 clients x
2,000 msg/s that alone is a core. Here a data frame (text or binary, never compressed or
fragmented) is framed in place and queued; the queue goes out in one write at the end of the
loop turn, before any other frame (close, ping answers) and as the connection ends. Flow control
is uvicorn's: a send waits while the socket's buffer is over its high-water mark. Anything else,
or a connection that negotiated an extension, takes uvicorn's own path unchanged.
`NATS_PUBSUB_WS_BATCH=0` switches the batching off (uvicorn's protocol then runs as it is).
"""

from __future__ import annotations

import os
import struct
from typing import Any, Final

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

__all__ = ["ENABLED", "BatchedWebSocketProtocol", "frame_header"]

ENABLED: Final = os.environ.get("NATS_PUBSUB_WS_BATCH", "1").strip() not in ("0", "false", "no")
_BINARY: Final = 0x82  # FIN + binary
_TEXT: Final = 0x81  # FIN + text
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def frame_header(first: int, length: int) -> bytes:
    """The header of an unmasked server frame carrying `length` bytes (RFC 6455, 5.2)."""
    if length < 126:
        return _SHORT.pack(first, length)
    if length < 65536:
        return _MEDIUM.pack(first, 126, length)
    return _LONG.pack(first, 127, length)


class BatchedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's protocol; data frames coalesced into one write per event-loop turn."""

    _pending: list[bytes]
    _flush_scheduled: bool

    def connection_made(self, transport: Any) -> None:
        self._pending = []
        self._flush_scheduled = False
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._pending.clear()
        super().connection_lost(exc)

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending = self._pending
        if pending:
            if not self.transport.is_closing():
                self.transport.write(b"".join(pending))
            pending.clear()

    def _framing(self) -> bool:
        """True when data frames may be framed here (open, no extension, not closing)."""
        return (
            self.handshake_complete
            and not self.close_sent
            and self.initial_response is None
            and not self.conn.extensions
            and self.conn.state is State.OPEN
        )

    async def send_frames(self, frames: list[bytes | str]) -> None:
        """Send several data frames (bytes: binary, str: text) with one wait for room."""
        if not self._framing():
            for data in frames:
                key = "text" if isinstance(data, str) else "bytes"
                await self.send({"type": "websocket.send", key: data})
            return
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        pending = self._pending
        for data in frames:
            if isinstance(data, str):
                raw = data.encode()
                pending.append(frame_header(_TEXT, len(raw)))
                pending.append(raw)
            else:
                pending.append(frame_header(_BINARY, len(data)))
                pending.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    async def send(self, message: Any) -> None:  # uvicorn's ASGISendEvent
        if message["type"] == "websocket.send" and self._framing():
            data = message.get("bytes")
            await self.send_frames([message["text"] if data is None else data])
            return
        self._flush()  # whatever comes next goes after the frames already sent
        await super().send(message)
