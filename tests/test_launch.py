"""End to end: long-running services exec into a lean process (same PID) without pydantic."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from nats_pubsub.launch import NO_EXEC_ENV
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e

SECRET = "s3cr3t-hunter2-zz"


def _proc(proc: ServiceProcess, name: str) -> bytes:
    return Path(f"/proc/{proc.process.pid}/{name}").read_bytes()


@pytest.mark.parametrize("command", ["subscribe", "monitor", "publish", "payments"])
def test_service_process_has_no_pydantic(
    nats_server: EmbeddedServer, run_cli: CliFactory, command: str
) -> None:
    """A connected service runs in the exec'd launcher without pydantic's Rust core mapped."""
    proc = run_cli(command, url=nats_server.url)
    proc.logs.wait_for("Connected to NATS", timeout=60)
    assert b"nats_pubsub.launch" in _proc(proc, "cmdline").split(b"\0")
    assert b"pydantic_core" not in _proc(proc, "maps")


def test_secrets_given_by_flag_stay_out_of_cmdline_and_environ(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A --password reaches the service, but not its command line or environment."""
    proc = run_cli(
        "subscribe", "--subject", subject, "--user", "me", "--password", SECRET, url=nats_server.url
    )
    proc.logs.wait_for("Subscribed", timeout=60)
    assert b"nats_pubsub.launch" in _proc(proc, "cmdline")
    assert SECRET.encode() not in _proc(proc, "cmdline")
    assert SECRET.encode() not in _proc(proc, "environ")
    assert SECRET not in proc.output()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_exec_service_stops_cleanly_on_signal(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str, signum: int
) -> None:
    """The exec'd service (same PID) handles SIGTERM/SIGINT: exit 0 with its final metrics."""
    proc = run_cli("subscribe", "--subject", subject, url=nats_server.url)
    proc.logs.wait_for("Subscribed", timeout=60)
    assert b"nats_pubsub.launch" in _proc(proc, "cmdline")
    proc.signal(signum)
    assert proc.wait(timeout=30) == 0, proc.output()
    assert proc.logs.where("Subscriber metrics", final=True)


def test_no_exec_env_runs_the_service_in_the_cli_process(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """NATS_PUBSUB_NO_EXEC=1 keeps the service in the CLI's own process, as before."""
    proc = run_cli("subscribe", "--subject", subject, url=nats_server.url, env={NO_EXEC_ENV: "1"})
    proc.logs.wait_for("Subscribed", timeout=60)
    assert b"nats_pubsub.launch" not in _proc(proc, "cmdline")
    assert b"pydantic_core" in _proc(proc, "maps")
