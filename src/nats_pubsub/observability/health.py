"""The HTTP endpoint on METRICS_PORT: `/metrics` for Prometheus, `/healthz` and `/readyz` probes.

It runs inside the service's event loop, on 127.0.0.1 unless METRICS_HOST says otherwise, and
holds at most `MAX_CONNECTIONS` connections: a new one beyond that closes the oldest connection
still waiting for its request (or itself, when none is), so idle connections can neither use up
the process's file descriptors nor keep a probe out. `with_endpoint` wraps a service's main
coroutine: it starts the endpoint before the service connects (so `/healthz` answers while NATS
is still being retried) and stops it after the service returns. The service calls `expose(...)`
once its main loop runs, handing over the counters it keeps; from then on `/readyz` follows the
connection.
`check_ready` is the client side, behind `nats-pubsub health`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:  # prometheus_client and the collector load only when an endpoint is on
    from nats_pubsub.domain.capture import SubjectStats
    from nats_pubsub.domain.stats import ConsumeStats, PublishStats, ReceiveStats
    from nats_pubsub.domain.transactions import PaymentStats
    from nats_pubsub.logs.logger import Logger
    from nats_pubsub.observability.collector import ConnectionState

__all__ = [
    "MAX_CONNECTIONS",
    "Endpoint",
    "check_ready",
    "expose",
    "readiness",
    "readyz_url",
    "with_endpoint",
]

ServiceMain = Callable[[asyncio.Event], Awaitable[int]]
Response = tuple[int, str, bytes]

_REQUEST_TIMEOUT: Final = 5.0
MAX_CONNECTIONS: Final = 32
_MAX_HEAD_BYTES: Final = 8192
_JSON: Final = "application/json"
_REASONS: Final = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
_REASONS_503: Final = "Service Unavailable"
_CURRENT: ContextVar[Endpoint | None] = ContextVar("nats_pubsub_endpoint", default=None)


def readiness(running: bool, connected: bool, stopping: bool) -> tuple[bool, str]:
    """Whether a service is ready, and why not: its loop must run, connected, and not stopping."""
    if stopping:
        return False, "shutting down"
    if not running:
        return False, "starting: not connected to NATS yet"
    if not connected:
        return False, "not connected to NATS"
    return True, "connected to NATS"


class Endpoint:
    """One service's HTTP endpoint, its metrics registry and its readiness state."""

    def __init__(self, service: str, top_subjects: int = 10) -> None:
        from prometheus_client import CollectorRegistry

        from nats_pubsub.observability.collector import MetricSources, register

        self.service = service
        self.registry = CollectorRegistry(auto_describe=False)
        self.sources = MetricSources()
        register(self.registry, service, self.sources, top_subjects)
        self.running = False
        self.stop: asyncio.Event | None = None
        self.port: int | None = None
        self.max_connections = MAX_CONNECTIONS
        self._server: asyncio.Server | None = None
        self._open = 0
        self._waiting: dict[asyncio.StreamWriter, None] = {}  # no request yet, oldest first

    def state(self) -> tuple[bool, str]:
        """(ready, reason) right now."""
        conn = self.sources.connection
        stopping = self.stop is not None and self.stop.is_set()
        connected = conn is not None and conn.is_connected
        return readiness(self.running, connected, stopping)

    def respond(self, method: str, path: str) -> Response:
        """Status, content type and body for one request."""
        if method not in ("GET", "HEAD"):
            return 405, _JSON, b'{"error":"only GET and HEAD"}'
        if path == "/metrics":
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
        if path == "/healthz":
            return 200, _JSON, json.dumps({"status": "alive", "service": self.service}).encode()
        if path == "/readyz":
            ready, reason = self.state()
            body = {"ready": ready, "reason": reason, "service": self.service}
            return (200 if ready else 503), _JSON, json.dumps(body).encode()
        return 404, _JSON, b'{"error":"not found; try /metrics, /healthz or /readyz"}'

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 = any free port); return the port bound."""
        self._server = await asyncio.start_server(self._handle, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    def _make_room(self, writer: asyncio.StreamWriter) -> bool:
        """At the connection cap: close the oldest connection still waiting for its request, or
        else the new one (`writer`); False when the new one was closed."""
        if self._open < self.max_connections:
            return True
        self.sources.dropped_connections += 1
        if not self._waiting:
            writer.transport.abort()
            return False
        oldest = next(iter(self._waiting))
        del self._waiting[oldest]
        oldest.transport.abort()  # its handler's read fails at once, and it ends
        return True

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._make_room(writer):
            return
        self._open += 1
        self._waiting[writer] = None
        try:
            await self._answer(reader, writer)
        finally:
            self._waiting.pop(writer, None)
            self._open -= 1

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _REQUEST_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            writer.close()
            return
        self._waiting.pop(writer, None)
        parts = head[:_MAX_HEAD_BYTES].split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) == 3:
            method = parts[0]
            status, content_type, body = self.respond(method, urlsplit(parts[1]).path)
        else:
            method, status, content_type, body = "GET", 400, _JSON, b'{"error":"bad request"}'
        reason = _REASONS.get(status, _REASONS_503)
        header = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode("latin-1")
        with contextlib.suppress(OSError):
            writer.write(header if method == "HEAD" else header + body)
            await writer.drain()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def expose(
    connection: ConnectionState | None = None,
    *,
    publish: PublishStats | None = None,
    receive: ReceiveStats | None = None,
    payments: PaymentStats | None = None,
    capture: SubjectStats | None = None,
    consume: ConsumeStats | None = None,
) -> None:
    """Hand a service's counters to its endpoint and mark its main loop running (no-op if off)."""
    endpoint = _CURRENT.get()
    if endpoint is None:
        return
    sources = endpoint.sources
    sources.connection = connection
    sources.publish = publish
    sources.receive = receive
    sources.payments = payments
    sources.capture = capture
    sources.consume = consume
    endpoint.running = True


def with_endpoint(
    host: str,
    port: int | None,
    log: Logger,
    service: str,
    main: ServiceMain,
    *,
    top_subjects: int = 10,
) -> ServiceMain:
    """`main` with the metrics/health endpoint on `host`:`port` around it (METRICS_HOST,
    METRICS_PORT); `main` itself when `port` is None."""
    if port is None:
        return main

    async def run(stop: asyncio.Event) -> int:
        endpoint = Endpoint(service, top_subjects)
        endpoint.stop = stop
        try:
            bound = await endpoint.start(host, port)
        except OSError as exc:
            log.error("Metrics endpoint could not start", host=host, port=port, error=str(exc))
            return 2
        log.info("Metrics endpoint listening", host=host, port=bound)
        token = _CURRENT.set(endpoint)
        try:
            return await main(stop)
        finally:
            endpoint.running = False
            _CURRENT.reset(token)
            await endpoint.close()

    return run


def readyz_url(url: str | None, metrics_port: int | None) -> str:
    """The /readyz URL to check: `url` (its path defaults to /readyz), else the local port."""
    if url is None:
        if metrics_port is None:
            raise ValueError("give --url or set METRICS_PORT")
        return f"http://127.0.0.1:{metrics_port}/readyz"
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// URL")
    return url if parts.path not in ("", "/") else f"{url.rstrip('/')}/readyz"


def _reason_from(body: bytes) -> str:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip() or "no reason given"
    if isinstance(data, dict) and isinstance(data.get("reason"), str):
        return str(data["reason"])
    return "no reason given"


def check_ready(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """GET `url`: (True, reason) on 200, else (False, one line saying why)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return True, _reason_from(response.read())
    except urllib.error.HTTPError as exc:
        return False, f"{url}: HTTP {exc.code}: {_reason_from(exc.read())}"
    except urllib.error.URLError as exc:
        return False, f"{url}: {exc.reason}"
    except (OSError, TimeoutError) as exc:
        return False, f"{url}: {exc or type(exc).__name__}"
