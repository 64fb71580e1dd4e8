"""Fixtures for the gateway: a real `nats-pubsub gateway` process on a free port, against a real
nats-server, and a plain nats-py client to set up and check what the gateway did."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, NamedTuple

import httpx
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess

CliFactory = Callable[..., ServiceProcess]


class RunningGateway(NamedTuple):
    """A gateway process, its base URL and an HTTP client bound to it."""

    proc: ServiceProcess
    url: str
    http: httpx.Client


def start_gateway(
    run_cli: CliFactory,
    nats_url: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    connected: bool = True,
    scheme: str = "http",
    verify: Any = True,
) -> RunningGateway:
    """Start `nats-pubsub gateway --port 0`, wait until it listens (and is connected)."""
    proc = run_cli("gateway", "--port", "0", *args, url=nats_url, env=env)
    started = proc.logs.wait_for("NATS HTTP Gateway starting")[0]
    if connected:
        proc.logs.wait_for("NATS Gateway connected")
    url = f"{scheme}://127.0.0.1:{started['port']}"
    return RunningGateway(proc, url, httpx.Client(base_url=url, timeout=30, verify=verify))


@pytest.fixture
def gateway(run_cli: CliFactory, nats_server: EmbeddedServer) -> Iterator[RunningGateway]:
    """A gateway without authentication on a fresh nats-server."""
    running = start_gateway(run_cli, nats_server.url)
    yield running
    running.http.close()


def nats_call(url: str, job: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
    """Run `job(nc)` with a plain nats-py connection (setting up and checking, not the product)."""
    import nats

    async def go() -> Any:
        nc = await nats.connect(url)
        try:
            return await job(nc)
        finally:
            await nc.drain()

    return asyncio.run(go())


def add_stream(url: str, name: str, subjects: list[str]) -> None:
    """Create a stream directly."""

    async def job(nc: Any) -> None:
        await nc.jetstream().add_stream(name=name, subjects=subjects)

    nats_call(url, job)


def js_publish(url: str, subject: str, payloads: list[bytes]) -> list[int]:
    """Publish through JetStream directly; the stream sequences."""

    async def job(nc: Any) -> list[int]:
        js = nc.jetstream()
        return [(await js.publish(subject, p)).seq for p in payloads]

    result: list[int] = nats_call(url, job)
    return result


def stream_messages(url: str, stream: str) -> list[tuple[str, bytes]]:
    """Every message a stream holds, read directly by sequence."""

    async def job(nc: Any) -> list[tuple[str, bytes]]:
        jsm = nc.jsm()
        info = await jsm.stream_info(stream)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await jsm.get_msg(stream, seq)
            found.append((msg.subject, msg.data))
        return found

    result: list[tuple[str, bytes]] = nats_call(url, job)
    return result


class Responder:
    """A NATS service on a subject, in a thread of its own: answers `reply|request`, or never
    (`reply` None)."""

    def __init__(self, url: str, subject: str, reply: bytes | None) -> None:
        import threading

        self._url, self._subject, self._reply = url, subject, reply
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        import nats

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        nc = await nats.connect(self._url)

        async def answer(msg: Any) -> None:
            if self._reply is not None:
                await msg.respond(self._reply + b"|" + msg.data)

        await nc.subscribe(self._subject, cb=answer)
        await nc.flush()
        self._ready.set()
        await self._stop.wait()
        await nc.drain()

    def __enter__(self) -> Responder:
        self._thread.start()
        assert self._ready.wait(10), "the responder did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class RawWebSocket:
    """A WebSocket client on a plain socket that reads only when told to: a client that stalls.

    Its receive buffer is small, so the gateway's writes back up quickly while it does not read.
    """

    def __init__(self, base_url: str, path: str) -> None:
        import base64
        import os
        import socket

        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self.sock.recv(4096)
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _need(self, size: int, timeout: float) -> bool:
        self.sock.settimeout(timeout)
        while len(self._buffer) < size:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            if not chunk:
                return False
            self._buffer += chunk
        return True

    def frame(self, timeout: float = 5.0) -> tuple[int, bytes] | None:
        """The next frame (opcode, payload), or None after `timeout` without one."""
        if not self._need(2, timeout):
            return None
        opcode, length = self._buffer[0] & 0x0F, self._buffer[1] & 0x7F
        start = 2
        if length == 126:
            self._need(4, timeout)
            length, start = int.from_bytes(self._buffer[2:4], "big"), 4
        elif length == 127:
            self._need(10, timeout)
            length, start = int.from_bytes(self._buffer[2:10], "big"), 10
        if not self._need(start + length, timeout):
            return None
        payload = self._buffer[start : start + length]
        self._buffer = self._buffer[start + length :]
        return opcode, payload

    def close(self) -> None:
        """Drop the connection."""
        self.sock.close()
