"""`nats-pubsub server`: run the bundled nats-server (or a local cluster) in the foreground."""

from __future__ import annotations

import signal
import threading

from nats_pubsub.config import ServerSettings
from nats_pubsub.logs.logger import Logger
from nats_pubsub.server.cluster import EmbeddedCluster
from nats_pubsub.server.embedded import EmbeddedServer, LineCallback

__all__ = ["ServerLines", "run_server", "server_line_level", "server_line_logger"]

# What nats-server says, as WARNING or ERROR, while nodes come and go in a normal start or stop.
_TRANSITIONS = (
    "Error trying to connect to route",
    "Waiting for routing to be established",
    "JetStream has not established contact with a meta leader",
    "Metalayer blocking snapshot",
)


def server_line_level(level: str, text: str, *, settled: bool) -> str:
    """The level to log a nats-server line at: its own, except for the lines of nodes coming and
    going, which are INFO while the server starts or stops and WARNING once it is `settled`
    (a peer lost then is worth a look, but the server retries on its own: no ERROR)."""
    if level in ("WARNING", "ERROR") and text.startswith(_TRANSITIONS):
        return "WARNING" if settled else "INFO"
    return level


class ServerLines:
    """Forwards nats-server's own lines: all of them at DEBUG, else only warnings and errors."""

    def __init__(self, log: Logger) -> None:
        self._log = log
        self._verbose = log.is_enabled("DEBUG")
        self.settled = False  # started and not yet stopping

    def __call__(self, level: str, text: str) -> None:
        level = server_line_level(level, text, settled=self.settled)
        if self._verbose or level in ("WARNING", "ERROR"):
            self._log.log(level, text, {}, 1)


def server_line_logger(log: Logger) -> LineCallback:
    """A `ServerLines` for `log` (the embedded server's output callback)."""
    return ServerLines(log)


def _start_cluster(
    settings: ServerSettings, log: Logger, size: int, lines: ServerLines
) -> EmbeddedCluster:
    cluster = EmbeddedCluster(
        size,
        store_dir=settings.store_dir.resolve(),
        host=settings.host,
        port=settings.port,
        http_port=settings.http_port or -1,  # readiness is read from the monitoring endpoint
        on_line=lines,
    )
    cluster.start()
    lines.settled = True
    log.info(
        "NATS cluster ready",
        url=cluster.url,
        nodes=[node.url for node in cluster.nodes],
        monitor_urls=[node.monitor_url for node in cluster.nodes],
        jetstream_leader=cluster.leader(),
        cluster_name=cluster.name,
        store_dir=str(settings.store_dir),
    )
    return cluster


def run_server(settings: ServerSettings, log: Logger, *, cluster: int | None = None) -> int:
    """Start the server (or `cluster` routed nodes), log its output, stop on SIGINT/SIGTERM."""
    done = threading.Event()
    signalled: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        signalled.append(signal.Signals(signum).name)
        done.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    if cluster is not None:
        try:
            return _run_cluster(settings, log, cluster, done, signalled)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    lines = ServerLines(log)
    server = EmbeddedServer(
        host=settings.host,
        port=settings.port,
        http_port=settings.http_port or None,
        store_dir=settings.store_dir.resolve(),
        on_line=lines,
    )
    try:
        server.start()
        lines.settled = True
        log.info(
            "NATS server ready",
            url=server.url,
            monitor_url=server.monitor_url,
            store_dir=str(settings.store_dir),
            pid=server.pid,
        )

        def watch() -> None:
            server.wait()
            done.set()

        threading.Thread(target=watch, daemon=True).start()
        done.wait()
        if not signalled:
            log.error("nats-server exited unexpectedly", last_lines=server.lines[-3:])
            return 1
        log.info("Shutdown requested", signal=signalled[0])
        lines.settled = False
        server.stop()
        log.info("NATS server stopped")
        return 0
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _set_when_exits(node: EmbeddedServer, done: threading.Event) -> None:
    node.wait()
    done.set()


def _run_cluster(
    settings: ServerSettings, log: Logger, size: int, done: threading.Event, signalled: list[str]
) -> int:
    lines = ServerLines(log)
    nodes = _start_cluster(settings, log, size, lines)
    try:
        for node in nodes.nodes:
            threading.Thread(target=_set_when_exits, args=(node, done), daemon=True).start()
        done.wait()
        if not signalled:
            log.error("A cluster node exited unexpectedly")
            return 1
        log.info("Shutdown requested", signal=signalled[0])
        lines.settled = False
        nodes.stop()
        log.info("NATS cluster stopped")
        return 0
    finally:
        nodes.stop()
