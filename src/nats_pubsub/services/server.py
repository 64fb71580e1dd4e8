"""`nats-pubsub server`: run the bundled nats-server in the foreground with our log format."""

from __future__ import annotations

import signal
import threading

from nats_pubsub.config import ServerSettings
from nats_pubsub.embedded import EmbeddedServer, LineCallback
from nats_pubsub.logs import Logger

__all__ = ["run_server", "server_line_logger"]


def server_line_logger(log: Logger) -> LineCallback:
    """Forward nats-server's own lines: all of them at DEBUG, else only warnings and errors."""
    verbose = log.is_enabled("DEBUG")

    def on_line(level: str, text: str) -> None:
        if verbose or level in ("WARNING", "ERROR"):
            log.log(level, text, {}, 1)

    return on_line


def run_server(settings: ServerSettings, log: Logger) -> int:
    """Start the server, log its output, stop it cleanly on SIGINT/SIGTERM."""
    done = threading.Event()
    signalled: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        signalled.append(signal.Signals(signum).name)
        done.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    server = EmbeddedServer(
        host=settings.host,
        port=settings.port,
        http_port=settings.http_port or None,
        store_dir=settings.store_dir.resolve(),
        on_line=server_line_logger(log),
    )
    try:
        server.start()
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
        server.stop()
        log.info("NATS server stopped")
        return 0
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
