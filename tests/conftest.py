"""Fixtures: real nats-server processes on free loopback ports, and CLI processes we own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess, service_env
from tests.helpers.fixtures import CliFactory, ServerFactory


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start nats-server processes (JetStream, temp store) on free ports; all stopped at the end."""
    servers: list[EmbeddedServer] = []

    def start(port: int = -1, **options: object) -> EmbeddedServer:
        store = tmp_path / f"store-{len(servers)}"
        server = EmbeddedServer(port=port, store_dir=store, **options)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def nats_server(start_server: ServerFactory) -> EmbeddedServer:
    """One running nats-server with JetStream on a free loopback port."""
    return start_server()


@pytest.fixture
def run_cli(tmp_path: Path) -> Iterator[CliFactory]:
    """Spawn `nats-pubsub` subcommands against a URL; every process is stopped at the end."""
    processes: list[ServiceProcess] = []

    def run(*args: str, url: str, env: Mapping[str, str] | None = None) -> ServiceProcess:
        proc = ServiceProcess(args, service_env(url, env), cwd=str(tmp_path))
        processes.append(proc)
        return proc

    yield run
    for proc in processes:
        proc.stop()


@pytest.fixture
def subject() -> str:
    """A subject no other test uses."""
    return f"test.{uuid.uuid4().hex[:12]}"
