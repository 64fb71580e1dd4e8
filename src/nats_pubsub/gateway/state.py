"""One gateway's shared state: settings, logger, the NATS connection once made, its counters.

Handlers get this object with every request. NATS is connected at start (in the background, so
health answers while it is still being retried); until then, and while it is down, routes that
need it answer 503.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Final

from nats_pubsub.domain.stats import PublishStats
from nats_pubsub.errors import JetStreamError, NatsConnectError, NatsError
from nats_pubsub.gateway.stats import HttpStats
from nats_pubsub.gateway.stream_rules import StreamSubjectsOf
from nats_pubsub.logs.logger import Logger

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from nats_pubsub.connection.core import Connection
    from nats_pubsub.connection.js_admin import JsApi
    from nats_pubsub.connection.service_api import Announcement
    from nats_pubsub.gateway.dashboard.feed import DashboardFeed
    from nats_pubsub.gateway.history import ConsumerHistory
    from nats_pubsub.gateway.live import LiveHubs
    from nats_pubsub.gateway.publishing import Publisher
    from nats_pubsub.observability.collector import MetricSources

__all__ = ["DEFAULT_MAX_BODY", "Gateway"]

DEFAULT_MAX_BODY: Final = 1024 * 1024  # until the server says its max_payload
_DIRECTORY_TTL: Final = 2.0
_JS_CHECK_TTL: Final = 5.0


class Gateway:
    """What every handler shares."""

    def __init__(self, settings: Any, log: Logger, version: str) -> None:
        self.settings = settings
        self.log = log
        self.version = version
        token = settings.gateway_token
        self.token: bytes | None = token.get_secret_value().encode() if token else None
        self.origins: tuple[str, ...] = tuple(settings.gateway_cors_origins)
        self.http = HttpStats()
        self.publish_stats = PublishStats(jetstream=True)
        self.stopping = asyncio.Event()
        self.started = False  # the HTTP side runs
        self._conn: Connection | None = None
        self._api: JsApi | None = None
        self._publisher: Publisher | None = None
        self.registry: CollectorRegistry | None = None  # /metrics, set by the service
        self.metric_sources: MetricSources | None = None
        self.route_list: list[str] = []  # what the index lists
        self.live: LiveHubs | None = None
        self.history: ConsumerHistory | None = None
        self.dashboard: DashboardFeed | None = None  # the live dashboard's feed, once connected
        self.announcement: Announcement | None = None  # answering the NATS service API
        self._streams: list[StreamSubjectsOf] = []
        self._streams_at = -_DIRECTORY_TTL
        self._js_ok = False
        self._js_at = -_JS_CHECK_TTL

    def counters(self) -> dict[str, int]:
        """The gateway's own counters, as the NATS service API's STATS shows them."""
        answered = self.http.requests
        return {
            "requests": sum(answered.values()),
            "client_errors": sum(n for (_, _, s), n in answered.items() if 400 <= s < 500),
            "server_errors": sum(n for (_, _, s), n in answered.items() if s >= 500),
            "published": self.publish_stats.published,
            "publish_errors": self.publish_stats.errors,
            "live_streams": self.http.live_streams,
            "live_sent": self.http.live_sent,
            "live_missed": self.http.live_missed,
        }

    def open_live(self) -> bool:
        """Take a live-stream slot; False when GATEWAY_MAX_STREAMS are open already."""
        if self.http.live_streams >= self.settings.gateway_max_streams:
            return False
        self.http.live_streams += 1
        return True

    def close_live(self) -> None:
        """Give a live-stream slot back."""
        self.http.live_streams -= 1

    def attach(self, conn: Connection, api: JsApi, publisher: Publisher) -> None:
        """The connection is made: routes that need NATS work from now on."""
        self._conn, self._api, self._publisher = conn, api, publisher
        if self.metric_sources is not None:
            self.metric_sources.connection = conn

    @property
    def publisher(self) -> Publisher | None:
        """The acked publisher, once connected."""
        return self._publisher

    @property
    def connection(self) -> Connection | None:
        """The NATS connection, once made."""
        return self._conn

    @property
    def max_body(self) -> int:
        """The largest request body accepted: the server's max_payload."""
        conn = self._conn
        if conn is None:
            return DEFAULT_MAX_BODY
        return int(getattr(conn.client, "max_payload", 0) or DEFAULT_MAX_BODY)

    def ready(self) -> tuple[bool, str]:
        """(ready, reason): serving, connected to NATS, not shutting down."""
        if self.stopping.is_set():
            return False, "shutting down"
        if self._conn is None:
            return False, "starting: not connected to NATS yet"
        if not self._conn.is_connected:
            return False, "not connected to NATS"
        return True, "connected to NATS"

    def need(self) -> tuple[Connection, JsApi, Publisher]:
        """The connection layer, or NatsConnectError (answered 503) while not connected."""
        conn, api, publisher = self._conn, self._api, self._publisher
        if conn is None or api is None or publisher is None:
            raise NatsConnectError("not connected to NATS yet; try again shortly")
        if not conn.is_connected:
            raise NatsConnectError("not connected to NATS (reconnecting); try again shortly")
        return conn, api, publisher

    async def streams(self, fresh: bool = False) -> list[StreamSubjectsOf]:
        """Every stream's name and subjects (read again when `fresh` or after two seconds)."""
        now = time.monotonic()
        if fresh or now - self._streams_at > _DIRECTORY_TTL:
            _, api, _ = self.need()
            infos = await api.streams()
            self._streams = [
                StreamSubjectsOf(str(i["config"]["name"]), tuple(i["config"].get("subjects") or ()))
                for i in infos
            ]
            self._streams_at = now
        return self._streams

    def forget_streams(self) -> None:
        """Streams changed: read them again next time."""
        self._streams_at = -_DIRECTORY_TTL

    async def jetstream_available(self) -> bool:
        """Whether JetStream answers (asked at most every five seconds)."""
        now = time.monotonic()
        if now - self._js_at < _JS_CHECK_TTL:
            return self._js_ok
        self._js_at = now
        try:
            _, api, _ = self.need()
            await asyncio.wait_for(api.account_info(), 2.0)
            self._js_ok = True
        except (NatsError, JetStreamError, TimeoutError):
            self._js_ok = False
        return self._js_ok
