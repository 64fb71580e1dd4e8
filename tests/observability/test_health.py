"""Tests for observability.health: the readiness decision, URLs, and the endpoint over real HTTP."""

from __future__ import annotations

import asyncio
import json

import pytest

from nats_pubsub.domain.stats import PublishStats
from nats_pubsub.observability.health import Endpoint, check_ready, readiness, readyz_url


class FakeConnection:
    """Just what readiness and the collector read from a connection."""

    def __init__(self, connected: bool) -> None:
        self.is_connected = connected
        self.reconnects = 0
        self.errors = 0


@pytest.mark.parametrize(
    ("running", "connected", "stopping", "ready", "reason"),
    [
        (True, True, False, True, "connected to NATS"),
        (True, False, False, False, "not connected to NATS"),
        (False, False, False, False, "starting: not connected to NATS yet"),
        (True, True, True, False, "shutting down"),
    ],
)
def test_readiness(
    running: bool, connected: bool, stopping: bool, ready: bool, reason: str
) -> None:
    """Ready only while the loop runs, connected, and not stopping; the reason says which."""
    assert readiness(running, connected, stopping) == (ready, reason)


@pytest.mark.parametrize(
    ("url", "port", "expected"),
    [
        (None, 9100, "http://127.0.0.1:9100/readyz"),
        ("http://h:1", None, "http://h:1/readyz"),
        ("http://h:1/", None, "http://h:1/readyz"),
        ("h:1", None, "http://h:1/readyz"),
        ("http://h:1/custom", None, "http://h:1/custom"),
    ],
)
def test_readyz_url(url: str | None, port: int | None, expected: str) -> None:
    """--url defaults its path to /readyz; without it METRICS_PORT on loopback is used."""
    assert readyz_url(url, port) == expected


@pytest.mark.parametrize(("url", "port"), [(None, None), ("ftp://h:1", None)])
def test_readyz_url_rejects(url: str | None, port: int | None) -> None:
    """No URL and no port, or a non-HTTP URL, is a ValueError."""
    with pytest.raises(ValueError, match=r"URL|METRICS_PORT"):
        readyz_url(url, port)


def test_respond_routes() -> None:
    """/healthz always 200, unknown paths 404, other methods 405."""
    endpoint = Endpoint("svc")
    assert endpoint.respond("GET", "/healthz")[0] == 200
    assert endpoint.respond("GET", "/nope")[0] == 404
    assert endpoint.respond("POST", "/metrics")[0] == 405


def test_readyz_follows_connection() -> None:
    """/readyz is 503 before the service exposes a connection, 200 while connected."""
    endpoint = Endpoint("svc")
    status, _, body = endpoint.respond("GET", "/readyz")
    assert status == 503
    assert json.loads(body)["reason"].startswith("starting")
    conn = FakeConnection(True)
    endpoint.sources.connection = conn
    endpoint.running = True
    assert endpoint.respond("GET", "/readyz")[0] == 200
    conn.is_connected = False
    assert json.loads(endpoint.respond("GET", "/readyz")[2]) == {
        "ready": False,
        "reason": "not connected to NATS",
        "service": "svc",
    }


def test_endpoint_over_http() -> None:
    """A real loopback endpoint answers check_ready and serves the attached counters."""

    async def scenario() -> tuple[tuple[bool, str], tuple[bool, str], bytes]:
        endpoint = Endpoint("svc")
        port = await endpoint.start("127.0.0.1", 0)
        url = f"http://127.0.0.1:{port}"
        try:
            before = await asyncio.to_thread(check_ready, f"{url}/readyz")
            stats = PublishStats()
            stats.published = 42
            endpoint.sources.publish = stats
            endpoint.sources.connection = FakeConnection(True)
            endpoint.running = True
            after = await asyncio.to_thread(check_ready, f"{url}/readyz")
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            response = await reader.read()
            writer.close()
        finally:
            await endpoint.close()
        return before, after, response

    before, after, response = asyncio.run(scenario())
    assert before[0] is False
    assert "HTTP 503" in before[1]
    assert "starting" in before[1]
    assert after == (True, "connected to NATS")
    assert response.startswith(b"HTTP/1.1 200 OK")
    assert b'nats_pubsub_published_messages_total{service="svc"} 42.0' in response


def test_check_ready_unreachable() -> None:
    """Nothing listening: not ready, and the line names the URL."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ready, reason = check_ready(f"http://127.0.0.1:{port}/readyz", timeout=2)
    assert not ready
    assert f"127.0.0.1:{port}" in reason
