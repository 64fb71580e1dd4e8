"""Fixtures for the gateway: a real `nats-pubsub gateway` process on a free port, against a real
nats-server, and a plain nats-py client to set up and check what the gateway did."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any, NamedTuple

import httpx
import pytest

from nats_pubsub.embedded import EmbeddedServer
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
