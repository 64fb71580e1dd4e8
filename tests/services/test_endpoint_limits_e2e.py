"""End to end: the metrics endpoint is not a door (local by default, a cap on connections)."""

from __future__ import annotations

import contextlib
import resource
import socket
from collections.abc import Iterator

import pytest

from nats_pubsub.observability.health import MAX_CONNECTIONS
from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, ServerFactory, free_port
from tests.helpers.metrics import endpoint, get, scrape

pytestmark = pytest.mark.e2e

IDLE_CONNECTIONS = 1500
FD_LIMIT = 256  # the service's own limit in this test: far below the idle connections


@contextlib.contextmanager
def idle_connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    """Open `count` connections that never send a request; closed at the end."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            # A SYN dropped on a full accept queue would wait a second for its retry: skip it.
            with contextlib.suppress(OSError):
                sockets.append(socket.create_connection(("127.0.0.1", port), timeout=0.25))
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_metrics_endpoint_listens_on_loopback_by_default(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Without METRICS_HOST the endpoint binds 127.0.0.1 (containers set 0.0.0.0)."""
    sub = run_cli("subscribe", "--subject", subject, "--metrics-port", "0", url=nats_server.url)
    [record] = sub.logs.wait_for("Metrics endpoint listening")
    assert record["host"] == "127.0.0.1"


def test_idle_connections_neither_starve_readyz_nor_the_nats_connection(
    start_server: ServerFactory, run_cli: CliFactory, subject: str
) -> None:
    """1,500 idle connections to a service limited to 256 file descriptors: /readyz still
    answers, and when NATS restarts the service reconnects (it failed with `Too many open
    files`); the connections it closed are counted."""
    nats_port = free_port()
    server = start_server(port=nats_port, jetstream=False)
    sub = run_cli(
        "subscribe",
        "--subject",
        subject,
        "--metrics-port",
        "0",
        url=server.url,
        env={"RECONNECT_WAIT": "0.2"},
    )
    sub.logs.wait_for("Subscribed")
    base = endpoint(sub)
    port = int(base.rsplit(":", 1)[1])
    resource.prlimit(sub.process.pid, resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))
    with idle_connections(port, IDLE_CONNECTIONS) as held:
        assert len(held) > FD_LIMIT
        status, body = get(f"{base}/readyz")
        assert status == 200, body
        server.stop()
        sub.logs.wait_for("Disconnected from NATS")
        start_server(port=nats_port, jetstream=False)
        sub.logs.wait_for("Reconnected to NATS", timeout=30)
        assert get(f"{base}/readyz")[0] == 200
    dropped = scrape(base)["nats_pubsub_http_connections_dropped_total{service=subscriber}"]
    assert dropped >= len(held) - MAX_CONNECTIONS
    assert "Too many open files" not in sub.output()
    sub.signal()
    assert sub.wait() == 0, sub.output()
