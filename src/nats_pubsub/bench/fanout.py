"""WebSocket fan-out for `bench gateway --mode fanout`: many clients on one subject, one of them
stalled, a paced publisher; what each healthy client receives and how late.

Clients read binary frames on plain sockets (cheap enough for 50 clients x 2,000 msg/s in one
process); a message's added latency is the time it reached the client minus the time JetStream
stored it (the frame's timestamp, same machine clock). The stalled client completes the handshake
and never reads. The publisher is a separate process (`python -m nats_pubsub.bench.fanout`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import subprocess
import sys
import time
from typing import Any, NamedTuple

from hdrh.histogram import HdrHistogram

from nats_pubsub.gateway.proto import message_pb2 as pb

__all__ = ["MESSAGE_BYTES", "FanoutResult", "fanout"]

_SAMPLE_EVERY = 10  # the latency of every 10th message (parsing them all costs the client more)
_PAD = 1000  # bytes: enough data that a client that never reads overflows its socket buffers
_MESSAGE = b'{"n":%d,"pad":"%s"}'
MESSAGE_BYTES = len(_MESSAGE % (0, b"x" * _PAD))  # about: n grows to a few digits
_HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class FanoutResult(NamedTuple):
    """Per healthy client: messages received and rate; latency percentiles over all of them."""

    published: int
    received: list[int]
    rates: list[float]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


async def _open(host: str, port: int, path: str, rcvbuf: int | None = None) -> Any:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(_HANDSHAKE.format(path=path, host=host, key=key).encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"WebSocket refused: {head[:80]!r}")
    return reader, writer


class _Client:
    def __init__(self, hist: HdrHistogram, expected: int) -> None:
        self.count = 0
        self.first = self.last = 0.0
        self.subscribed = asyncio.Event()
        self.complete = asyncio.Event()
        self._hist = hist
        self._expected = expected

    async def run(self, reader: asyncio.StreamReader) -> None:
        buffer = b""
        frame = pb.WebSocketFrame()
        while chunk := await reader.read(262144):
            buffer = buffer + chunk if buffer else chunk
            now = time.time_ns()
            pos, end = 0, len(buffer)
            while end - pos >= 2:
                length, start = buffer[pos + 1] & 0x7F, pos + 2
                if length == 126:
                    length, start = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), pos + 4
                elif length == 127:
                    length, start = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), pos + 10
                if end < start + length:
                    break
                pos = start + length
                self.count += 1  # a control frame first (subscribed), then messages
                if self.count == 1 or self.count % _SAMPLE_EVERY == 0:
                    frame.ParseFromString(buffer[start:pos])
                    self._sample(frame, now)
            buffer = buffer[pos:]
            if self.count > 1:
                self.last = time.monotonic()
                self.first = self.first or self.last
            if self.count > self._expected:
                self.complete.set()

    def _sample(self, frame: Any, now: int) -> None:
        if frame.type != pb.MESSAGE:
            self.count -= 1  # the subscribe acknowledgement is not a message
            self.subscribed.set()
            return
        stamp = frame.message.timestamp
        stored = stamp.seconds * 1_000_000_000 + stamp.nanos
        self._hist.record_value(max(1, (now - stored) // 1000))


def _publisher(url: str, subject: str, rate: float, seconds: float) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", __name__, url, subject, str(rate), str(seconds)]
    return subprocess.Popen(args, stdin=subprocess.DEVNULL)


async def fanout(
    gateway_url: str,
    nats_url: str,
    subject: str,
    *,
    clients: int,
    rate: float,
    seconds: float,
    stalled: int,
) -> FanoutResult:
    """Connect the clients (and `stalled` that never read), publish, collect."""
    host, port = gateway_url.removeprefix("http://").split(":")
    path = f"/ws/websocketmessages/{subject}"
    hist = HdrHistogram(1, 60_000_000, 3)
    sockets = [await _open(host, int(port), path, rcvbuf=4096) for _ in range(stalled)]
    total = int(rate * seconds)
    readers = [_Client(hist, total) for _ in range(clients)]
    opened = [await _open(host, int(port), path) for _ in readers]
    tasks = [asyncio.ensure_future(c.run(r)) for c, (r, _) in zip(readers, opened, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in readers)), 30)
    publisher = _publisher(nats_url, subject, rate, seconds)
    await asyncio.to_thread(publisher.wait)
    with contextlib.suppress(TimeoutError):  # a client short of messages: counted as it is
        await asyncio.wait_for(asyncio.gather(*(c.complete.wait() for c in readers)), 10)
    for task in tasks:
        task.cancel()
    for _, writer in opened + sockets:
        writer.close()
    rates = [c.count / max(c.last - c.first, 1e-9) if c.count > 1 else 0.0 for c in readers]

    def at(pct: float) -> float:
        return round(float(hist.get_value_at_percentile(pct)) / 1000, 3)

    return FanoutResult(
        published=total,
        received=[c.count for c in readers],
        rates=rates,
        p50_ms=at(50),
        p90_ms=at(90),
        p99_ms=at(99),
        max_ms=round(float(hist.get_max_value()) / 1000, 3),
    )


async def _publish(url: str, subject: str, rate: float, seconds: float) -> None:
    """Core NATS publishes on a fixed schedule (the stream stores them)."""
    import nats

    nc = await nats.connect(url)
    total = int(rate * seconds)
    interval = 1.0 / rate
    start = time.monotonic()
    for n in range(total):
        await nc.publish(subject, _MESSAGE % (n, b"x" * _PAD))
        wait = start + (n + 1) * interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
    await nc.flush()
    await nc.drain()


if __name__ == "__main__":
    url_arg, subject_arg, rate_arg, seconds_arg = sys.argv[1:5]
    asyncio.run(_publish(url_arg, subject_arg, float(rate_arg), float(seconds_arg)))
