"""The chaos run's cluster: three nats-server processes, each killed, frozen, restarted or cut
off on its own (keeping its store dir), and who leads JetStream and each stream right now."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from nats_pubsub.chaos.timing import NodeEvent
from nats_pubsub.errors import EmbeddedServerError
from nats_pubsub.server.cluster import EmbeddedCluster, get_json, meta_leader
from nats_pubsub.server.embedded import EmbeddedServer

__all__ = ["ChaosNodes", "stream_leader"]

_RESTART_TRIES = 5
_LEADER_WAIT = 10.0  # seconds to wait for a leader to be elected before picking a node
_POLL = 0.2


def stream_leader(jsz: dict[str, Any] | None, stream: str) -> str | None:
    """The server leading `stream`, from a /jsz?streams=true answer."""
    for account in (jsz or {}).get("account_details") or []:
        for detail in account.get("stream_detail") or []:
            if detail.get("name") == stream:
                leader = (detail.get("cluster") or {}).get("leader")
                return str(leader) if leader else None
    return None


class ChaosNodes:
    """Three named nodes (n1, n2, n3) and what the schedule does to them."""

    def __init__(self, cluster: EmbeddedCluster, on_event: Callable[[NodeEvent], None]) -> None:
        self.cluster = cluster
        self._by_name = {f"n{i + 1}": node for i, node in enumerate(cluster.nodes)}
        self._server_names = {f"{cluster.name}-{name}": name for name in self._by_name}
        self._frozen: set[str] = set()
        self._cut: set[str] = set()
        self._on_event = on_event
        self.healthy = {name: asyncio.Event() for name in self._by_name}
        for event in self.healthy.values():
            event.set()

    @property
    def names(self) -> list[str]:
        """The nodes' names, n1 first."""
        return list(self._by_name)

    def node(self, name: str) -> EmbeddedServer:
        """The server process of node `name`."""
        return self._by_name[name]

    def _mark(self, name: str, healthy: bool) -> None:
        if healthy:
            self.healthy[name].set()
        else:
            self.healthy[name].clear()
        self._on_event(NodeEvent(time.time(), name, healthy))

    async def kill(self, name: str) -> None:
        """kill -9 the node."""
        self._mark(name, False)
        await asyncio.to_thread(self._by_name[name].kill)

    async def restart(self, name: str) -> None:
        """Start a killed node again on its ports and store dir; healthy once it takes clients."""
        node = self._by_name[name]
        for attempt in range(_RESTART_TRIES):
            try:
                await asyncio.to_thread(node.start)
                break
            except EmbeddedServerError:
                if attempt == _RESTART_TRIES - 1:
                    raise
                await asyncio.sleep(0.5)
        self._mark(name, True)

    def freeze(self, name: str) -> None:
        """SIGSTOP the node: it holds its connections and answers nothing."""
        pid = self._by_name[name].pid
        if pid is not None:
            self._mark(name, False)
            self._frozen.add(name)
            os.kill(pid, signal.SIGSTOP)

    def thaw(self, name: str) -> None:
        """SIGCONT a frozen node."""
        pid = self._by_name[name].pid
        if name in self._frozen and pid is not None:
            os.kill(pid, signal.SIGCONT)
        self._frozen.discard(name)
        self._mark(name, True)

    def mark_cut(self, name: str, cut: bool) -> None:
        """Record that a partition cut the node off (or healed)."""
        if cut:
            self._cut.add(name)
        else:
            self._cut.discard(name)
        self._mark(name, not cut)

    def _answering(self) -> list[EmbeddedServer]:
        return [
            node
            for name, node in self._by_name.items()
            if node.pid is not None and name not in self._frozen and name not in self._cut
        ]

    async def leader(self, stream: str | None) -> str | None:
        """The node leading JetStream (`stream` None) or `stream`, once one is elected."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _LEADER_WAIT
        query = "/jsz?streams=true" if stream else "/jsz"
        while loop.time() < deadline:
            for node in self._answering():
                answer = await asyncio.to_thread(get_json, f"{node.monitor_url}{query}")
                server = stream_leader(answer, stream) if stream else meta_leader(answer)
                if server in self._server_names:
                    return self._server_names[server]
            await asyncio.sleep(_POLL)
        return None

    async def wait_ready(self, timeout: float) -> None:
        """Until every node routes to the others and JetStream has a meta leader."""
        await asyncio.to_thread(self.cluster.wait_ready, timeout)

    async def stop(self) -> None:
        """Thaw anything frozen and stop every node."""
        for name in list(self._frozen):
            self.thaw(name)
        await asyncio.to_thread(self.cluster.stop)
