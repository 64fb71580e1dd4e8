"""`nats-pubsub gateway`: the HTTP gateway's process: listen, connect to NATS, serve, drain.

It listens first (so `/healthz` and `/readyz` answer while NATS is still being retried), connects
to NATS at once in the background and keeps reconnecting; on SIGTERM it stops taking requests,
lets in-flight ones finish, ends live streams with a close frame, settles publishes in flight and
drains the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import uvicorn

from nats_pubsub.config import GatewaySettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import connect
from nats_pubsub.connection.js_admin import JsApi
from nats_pubsub.connection.js_streams import JetStream
from nats_pubsub.connection.service_api import announce
from nats_pubsub.domain.service_api import SERVICE_NAMES
from nats_pubsub.errors import NatsAuthError, NatsConnectError, NatsError
from nats_pubsub.gateway.app import GatewayApp
from nats_pubsub.gateway.dashboard.feed import DashboardFeed
from nats_pubsub.gateway.history import ConsumerHistory
from nats_pubsub.gateway.live import LiveHubs
from nats_pubsub.gateway.publishing import Publisher
from nats_pubsub.gateway.routes import build_routes
from nats_pubsub.gateway.state import Gateway
from nats_pubsub.gateway.ws_protocol import ENABLED as WS_BATCH
from nats_pubsub.gateway.ws_protocol import BatchedWebSocketProtocol
from nats_pubsub.logs.logger import Logger
from nats_pubsub.memory import release_startup_memory

__all__ = ["run_gateway"]


class _Server(uvicorn.Server):
    """uvicorn inside our service: our lifecycle owns the signals, not uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _ToLogger(logging.Handler):
    """uvicorn's own warnings and errors as our records (a traceback never reaches a client)."""

    def __init__(self, log: Logger) -> None:
        super().__init__(logging.WARNING)
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        level = "ERROR" if record.levelno >= logging.ERROR else "WARNING"
        self._log.log(level, "HTTP server message", {"text": record.getMessage()}, 2)


def _package_version() -> str:
    try:
        return version("nats-pubsub")
    except PackageNotFoundError:
        return "0.0.0"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _metrics(gw: Gateway) -> None:
    from prometheus_client import CollectorRegistry

    from nats_pubsub.gateway.stats import GatewayCollector
    from nats_pubsub.observability.collector import MetricSources, register

    registry = CollectorRegistry(auto_describe=False)
    sources = MetricSources(publish=gw.publish_stats)
    register(registry, "gateway", sources)
    registry.register(GatewayCollector("gateway", gw.http))
    gw.registry = registry
    gw.metric_sources = sources


async def _connect(gw: Gateway, settings: Any, log: Logger, stop: asyncio.Event, url: str) -> None:
    options = connect_options(settings)
    conn = await connect(options, name=f"gateway-{settings.hostname}", log=log, stop=stop)
    api = JsApi(conn)
    publisher = Publisher(
        conn,
        window=settings.js_window,
        ack_timeout=settings.js_ack_timeout,
        log=log,
        stats=gw.publish_stats,
    )
    await publisher.start()
    gw.live = LiveHubs(conn, api, JetStream(conn, log), gw.http)
    gw.history = ConsumerHistory()
    gw.attach(conn, api, publisher)
    try:
        gw.announcement = await announce(
            conn,
            SERVICE_NAMES["gateway"],
            "NATS over HTTP, WebSocket and Server-Sent Events, and the live dashboard",
            {"hostname": settings.hostname, "url": url},
            gw.counters,
            gw.version,
        )
    except NatsError as exc:  # e.g. not allowed to subscribe to $SRV.>: the rest still works
        log.warning("Service API not answered", error=str(exc))
    if settings.gateway_dashboard != "off":
        dashboard = DashboardFeed(
            log, gw.version, settings.gateway_dashboard, settings.gateway_dashboard_linger
        )
        try:
            await dashboard.start(conn, api, gw.stopping)
            gw.dashboard = dashboard
        except NatsError as exc:
            log.warning("Dashboard not available", error=str(exc))
    # What exists now lives as long as the process: out of the collector's way (a full
    # collection over it would pause every live stream for tens of milliseconds).
    release_startup_memory()
    log.info("NATS Gateway connected", url=conn.connected_url)


def _uvicorn_config(app: GatewayApp, settings: GatewaySettings, log: Logger) -> uvicorn.Config:
    """How uvicorn serves the gateway: httptools, our WebSocket protocol, its lines as records."""
    uvicorn_log = logging.getLogger("uvicorn")
    uvicorn_log.handlers[:] = [_ToLogger(log)]
    uvicorn_log.propagate = False
    tls = settings.gateway_tls_cert is not None
    return uvicorn.Config(
        app,
        http="httptools",
        ws=BatchedWebSocketProtocol if WS_BATCH else "websockets-sansio",
        ws_per_message_deflate=False,  # small frames: compressing costs more than it saves
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=max(1, int(settings.drain_timeout)),
        ssl_certfile=str(settings.gateway_tls_cert) if tls else None,
        ssl_keyfile=str(settings.gateway_tls_key) if tls else None,
    )


async def run_gateway(settings: GatewaySettings, log: Logger, stop: asyncio.Event) -> int:
    """Serve until `stop`; 0 after a clean drain, 1 if NATS refused us, 2 if the port is taken."""
    gw = Gateway(settings, log, _package_version())
    _metrics(gw)
    routes = build_routes()
    gw.route_list = [r.template for r in routes if not r.hidden]
    try:
        sock = _listen(settings.gateway_host, settings.gateway_port)
    except OSError as exc:
        log.error(
            "Gateway could not listen",
            host=settings.gateway_host,
            port=settings.gateway_port,
            error=str(exc),
        )
        return 2
    port = sock.getsockname()[1]
    tls = settings.gateway_tls_cert is not None
    server = _Server(_uvicorn_config(GatewayApp(gw, routes), settings, log))
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    scheme = "https" if tls else "http"
    shown_host = (
        "127.0.0.1" if settings.gateway_host in ("0.0.0.0", "::") else settings.gateway_host
    )
    url = f"{scheme}://{shown_host}:{port}"
    log.info(
        "NATS HTTP Gateway starting",
        url=url,
        host=settings.gateway_host,
        port=port,
        auth=gw.token is not None,
        cors=list(gw.origins),
    )
    code = 0
    connecting = asyncio.ensure_future(_connect(gw, settings, log, stop, url))
    sampling: asyncio.Task[None] | None = None
    waiters = [connecting, asyncio.ensure_future(stop.wait()), serving]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if connecting.done() and not connecting.cancelled():
        error = connecting.exception()
        if isinstance(error, NatsAuthError):
            log.error("Could not connect to NATS", error=str(error))
            code = 1
            stop.set()
        elif error is None and gw.history is not None:
            from nats_pubsub.gateway.api_consumers import take_sample

            history = gw.history
            sampling = asyncio.ensure_future(
                history.run(lambda s, c: take_sample(gw, s, c), gw.stopping)
            )
            await asyncio.wait([waiters[1], serving], return_when=asyncio.FIRST_COMPLETED)
    await _shutdown(gw, server, serving, connecting, sampling, log)
    return code


async def _shutdown(
    gw: Gateway,
    server: _Server,
    serving: asyncio.Future[None],
    connecting: asyncio.Future[None],
    sampling: asyncio.Task[None] | None,
    log: Logger,
) -> None:
    gw.stopping.set()  # live streams send their close frames; /readyz says shutting down
    if gw.announcement is not None:
        await gw.announcement.stop()
    if gw.dashboard is not None:
        await gw.dashboard.close()
    if gw.live is not None:
        await gw.live.close()
    server.should_exit = True
    with contextlib.suppress(Exception):
        await serving
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError, NatsConnectError, Exception):
        await connecting
    if sampling is not None:
        sampling.cancel()
    conn = gw.connection
    if conn is not None:
        publisher = gw.publisher
        if publisher is not None:
            await publisher.wait_all(gw.settings.drain_timeout)
        await conn.drain()
    log.info("Gateway stopped", requests=sum(gw.http.requests.values()))
