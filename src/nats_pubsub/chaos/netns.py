"""`chaos --partition`: each node in its own network namespace, so one can be cut off from the
others for real (root only; `ip` from iproute2).

The nodes sit on one bridge in this namespace, which also carries the services' connections, so
a partition cuts routes between nodes (blackhole routes in both directions) while every node
stays reachable by clients. The command sets the namespaces up and removes them afterwards;
nothing leaves the bridge, which has no other port. The command lines are built by pure
functions (`setup_commands`, `cut_commands`, `teardown_commands`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from nats_pubsub.errors import ChaosError
from nats_pubsub.server.cluster import EmbeddedCluster
from nats_pubsub.server.embedded import EmbeddedServer

__all__ = [
    "NetnsCluster",
    "NetnsLab",
    "cut_commands",
    "setup_commands",
    "teardown_commands",
]

_SUBNET: Final = "10.213.0"  # inside the namespaces and the bridge this command makes
_BRIDGE_HOST: Final = 254
_CLIENT_PORT, _MONITOR_PORT, _ROUTE_PORT = 4222, 8222, 6222

Command = list[str]


def address(index: int) -> str:
    """Node `index`'s address (1-based)."""
    return f"{_SUBNET}.{index}"


def _names(tag: str, index: int) -> tuple[str, str, str]:
    """Namespace, host-side and namespace-side interface names of node `index` (<= 15 chars)."""
    return f"{tag}-n{index}", f"{tag}h{index}", f"{tag}n{index}"


def setup_commands(tag: str, nodes: int) -> list[Command]:
    """The bridge, and for each node a namespace joined to it by a veth pair."""
    bridge = f"{tag}br"
    commands = [
        ["ip", "link", "add", bridge, "type", "bridge"],
        ["ip", "addr", "add", f"{address(_BRIDGE_HOST)}/24", "dev", bridge],
        ["ip", "link", "set", bridge, "up"],
    ]
    for index in range(1, nodes + 1):
        ns, host, inner = _names(tag, index)
        commands += [
            ["ip", "netns", "add", ns],
            ["ip", "link", "add", host, "type", "veth", "peer", "name", inner],
            ["ip", "link", "set", inner, "netns", ns],
            ["ip", "link", "set", host, "master", bridge],
            ["ip", "link", "set", host, "up"],
            ["ip", "-n", ns, "addr", "add", f"{address(index)}/24", "dev", inner],
            ["ip", "-n", ns, "link", "set", inner, "up"],
            ["ip", "-n", ns, "link", "set", "lo", "up"],
        ]
    return commands


def cut_commands(tag: str, nodes: int, index: int, heal: bool = False) -> list[Command]:
    """Blackhole routes between node `index` and every other node (`heal`: remove them)."""
    verb = "del" if heal else "add"
    commands = []
    for other in range(1, nodes + 1):
        if other != index:
            for here, there in ((index, other), (other, index)):
                ns = _names(tag, here)[0]
                commands.append(
                    ["ip", "-n", ns, "route", verb, "blackhole", f"{address(there)}/32"]
                )
    return commands


def teardown_commands(tag: str, nodes: int) -> list[Command]:
    """Remove the namespaces (their veth pairs go with them) and the bridge."""
    commands = [["ip", "netns", "del", _names(tag, i)[0]] for i in range(1, nodes + 1)]
    return [*commands, ["ip", "link", "del", f"{tag}br"]]


def _run(command: Command, check: bool = True) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise ChaosError(f"{' '.join(command)}: {done.stderr.strip() or done.returncode}")


class NetnsLab:
    """The namespaces of a run's nodes: set up, partitioned, healed and removed."""

    def __init__(self, nodes: int = 3, tag: str | None = None) -> None:
        self.nodes = nodes
        self.tag = tag or f"nc{os.getpid() % 100000}"

    @staticmethod
    def check() -> None:
        """ChaosError unless this process may make namespaces (root, iproute2 installed)."""
        if os.geteuid() != 0:
            raise ChaosError("--partition needs root (network namespaces)")
        if shutil.which("ip") is None:
            raise ChaosError("--partition needs the ip command: apt-get install iproute2")

    def setup(self) -> None:
        """Make the bridge and the namespaces (undone if a step fails)."""
        try:
            for command in setup_commands(self.tag, self.nodes):
                _run(command)
        except ChaosError:
            self.teardown()
            raise

    def namespace(self, index: int) -> str:
        """Node `index`'s namespace (1-based)."""
        return _names(self.tag, index)[0]

    def cut(self, node: str) -> None:
        """Cut node `node` (n1, n2, ...) off from the other nodes."""
        for command in cut_commands(self.tag, self.nodes, int(node[1:])):
            _run(command)

    def heal(self, node: str) -> None:
        """Restore the routes `cut` removed."""
        for command in cut_commands(self.tag, self.nodes, int(node[1:]), heal=True):
            _run(command, check=False)

    def teardown(self) -> None:
        """Remove everything `setup` made (what is not there is skipped)."""
        for command in teardown_commands(self.tag, self.nodes):
            _run(command, check=False)


class _NamespacedServer(EmbeddedServer):
    """A nats-server run inside a network namespace (its ports are that namespace's own)."""

    def __init__(self, namespace: str, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self._namespace = namespace

    def command(self, binary: Path) -> list[str]:
        return ["ip", "netns", "exec", self._namespace, *super().command(binary)]

    def _check_ports(self) -> None:
        """Nothing to check from here: the ports belong to the node's namespace."""


class NetnsCluster(EmbeddedCluster):
    """Three routed nodes, each in its own namespace of `lab`, on fixed ports."""

    def __init__(self, lab: NetnsLab, *, store_dir: Path, name: str) -> None:
        self.name = name
        self.host = address(_BRIDGE_HOST)
        routes = [f"nats://{address(i)}:{_ROUTE_PORT}" for i in range(1, lab.nodes + 1)]
        self.nodes = [
            _NamespacedServer(
                lab.namespace(i),
                host=address(i),
                port=_CLIENT_PORT,
                http_port=_MONITOR_PORT,
                store_dir=store_dir / f"n{i}",
                name=f"{name}-n{i}",
                extra_args=_cluster_args(name, routes, i - 1),
            )
            for i in range(1, lab.nodes + 1)
        ]


def _cluster_args(name: str, routes: Sequence[str], index: int) -> list[str]:
    others = ",".join(url for j, url in enumerate(routes) if j != index)
    return ["--cluster_name", name, "--cluster", routes[index], "--routes", others]
