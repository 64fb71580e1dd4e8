"""A real N-node nats-server cluster on loopback: routes, JetStream, one store dir per node.

Used by `nats-pubsub server --cluster N` and the failover tests. Route ports are picked free up
front (every node must know the others' before it starts); client and monitoring ports are
consecutive from the given ones, or free ones for -1. `start()` returns once every node has its
routes and JetStream has elected a meta leader.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from nats_pubsub.errors import EmbeddedServerError
from nats_pubsub.server.embedded import EmbeddedServer, LineCallback

__all__ = ["EmbeddedCluster", "get_json", "meta_leader", "route_count"]

_POLL = 0.1


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> dict[str, Any] | None:
    """A monitoring endpoint's JSON object, or None when the node does not answer with one."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = json.load(response)
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def meta_leader(jsz: dict[str, Any] | None) -> str | None:
    """The JetStream meta leader's name from a /jsz answer, if one is elected."""
    if not jsz:
        return None
    leader = (jsz.get("meta_cluster") or {}).get("leader")
    return str(leader) if leader else None


def route_count(routez: dict[str, Any] | None) -> int:
    """How many other nodes a node has routes to, from its /routez answer (0 when unknown).

    Servers since 2.10 open a pool of routes per peer, so peers are counted, not connections.
    """
    routes = (routez or {}).get("routes") or []
    return len({r.get("remote_name") or r.get("remote_id") for r in routes if isinstance(r, dict)})


class EmbeddedCluster:
    """N nats-server nodes with routes to each other and JetStream."""

    def __init__(
        self,
        size: int = 3,
        *,
        store_dir: Path,
        host: str = "127.0.0.1",
        port: int = -1,
        http_port: int = -1,
        name: str = "nats-pubsub",
        on_line: LineCallback | None = None,
    ) -> None:
        if size < 1:
            raise EmbeddedServerError("a cluster needs at least one node")
        self.name = name
        self.host = host
        routes = [_free_port(host) for _ in range(size)]
        route_urls = [f"nats://{host}:{p}" for p in routes]
        self.nodes = [
            EmbeddedServer(
                host=host,
                port=port + i if port > 0 else -1,
                http_port=http_port + i if http_port > 0 else -1,
                store_dir=store_dir / f"n{i + 1}",
                name=f"{name}-n{i + 1}",
                extra_args=[
                    "--cluster_name",
                    name,
                    "--cluster",
                    route_urls[i],
                    "--routes",
                    ",".join(url for j, url in enumerate(route_urls) if j != i),
                ],
                on_line=on_line,
            )
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated: a NATS_URL for the whole cluster."""
        return ",".join(node.url for node in self.nodes)

    def node_for(self, url: str) -> EmbeddedServer:
        """The node whose client URL (as nats-py reports it) is `url`."""
        port = url.rstrip("/").rsplit(":", 1)[-1]
        for node in self.nodes:
            if str(node.port) == port:
                return node
        raise KeyError(url)

    def routes(self, node: EmbeddedServer) -> int:
        """How many other nodes `node` has routes to right now."""
        return route_count(get_json(f"{node.monitor_url}/routez"))

    def leader(self) -> str | None:
        """The JetStream meta leader, as one running node sees it."""
        for node in self.nodes:
            if node.pid is not None and (found := meta_leader(get_json(f"{node.monitor_url}/jsz"))):
                return found
        return None

    def wait_ready(self, timeout: float = 60.0) -> str:
        """Wait until every running node routes to all others and JetStream has a meta leader."""
        deadline = time.monotonic() + timeout
        running = [node for node in self.nodes if node.pid is not None]
        while time.monotonic() < deadline:
            routed = all(self.routes(node) >= len(self.nodes) - 1 for node in running)
            leader = self.leader() if routed else None
            if leader is not None:
                return leader
            time.sleep(_POLL)
        raise EmbeddedServerError(
            f"cluster {self.name} not ready after {timeout:.0f}s: "
            "routes or the JetStream meta leader missing"
        )

    def start(self, timeout: float = 60.0) -> EmbeddedCluster:
        """Start every node, then wait for routes and a JetStream meta leader."""
        try:
            for node in self.nodes:
                node.start()
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, node: EmbeddedServer, timeout: float = 60.0) -> None:
        """Start a stopped or killed node again on its old ports and wait for it to rejoin."""
        node.start()
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL if one hangs)."""
        for node in reversed(self.nodes):
            node.stop()

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
