"""End to end: `nats-pubsub server` and the one-command stack `nats-pubsub up`."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, ServerFactory, free_port

pytestmark = pytest.mark.e2e


def test_server_serves_and_stops_on_sigterm(
    run_cli: CliFactory, tmp_path: Path, subject: str
) -> None:
    """The server command accepts clients with JetStream on, and SIGTERM stops it with exit 0."""
    port = free_port()
    server = run_cli(
        "server",
        "--port",
        str(port),
        "--http-port",
        "0",
        "--store-dir",
        str(tmp_path / "store"),
        url="nats://unused:1",
    )
    ready = server.logs.wait_for("NATS server ready")[0]
    assert ready["url"] == f"nats://127.0.0.1:{port}"
    assert (tmp_path / "store" / "jetstream").is_dir()
    url = ready["url"]
    sub = run_cli("subscribe", "--subject", subject, "--count", "3", "--timeout", "30", url=url)
    sub.logs.wait_for("Subscribed")
    pub = run_cli("publish", "--subject", subject, "--count", "3", "--interval", "0", url=url)
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0, server.output()
    assert server.logs.where("NATS server stopped")


def test_server_port_in_use_is_a_clear_error(
    nats_server: EmbeddedServer, run_cli: CliFactory, tmp_path: Path
) -> None:
    """Asking for a port that is taken exits 2 and says which port and what to do."""
    proc = run_cli(
        "server",
        "--port",
        str(nats_server.port),
        "--http-port",
        "0",
        "--store-dir",
        str(tmp_path / "s"),
        url="nats://unused:1",
    )
    assert proc.wait(timeout=30) == 2, proc.output()
    message = proc.stderr.raw[-1]
    assert f"127.0.0.1:{nats_server.port} is already in use" in message
    assert "--port" in message


def test_port_in_use_is_said_once_on_a_terminal(
    nats_server: EmbeddedServer, run_cli: CliFactory, tmp_path: Path
) -> None:
    """With console logs (a terminal) the taken port is one line, not a record and a line."""
    proc = run_cli(
        "server", "--port", str(nats_server.port), "--http-port", "0",
        "--store-dir", str(tmp_path / "s"), url="nats://unused:1", env={"LOG_FORMAT": "console"},
    )  # fmt: skip
    assert proc.wait(timeout=30) == 2, proc.output()
    said = [line for line in proc.logs.raw + proc.stderr.raw if "already in use" in line]
    assert len(said) == 1, said
    assert said[0].startswith("nats-pubsub: client port 127.0.0.1:")


def test_up_runs_the_stack_and_ctrl_c_stops_it(run_cli: CliFactory, tmp_path: Path) -> None:
    """`up` starts a server, a publisher and a subscriber; SIGINT stops all with exit 0."""
    url = f"nats://127.0.0.1:{free_port()}"
    stack = run_cli(
        "up",
        "--store-dir",
        str(tmp_path / "up"),
        "--http-port",
        "0",
        url=url,
        env={"PUBLISH_INTERVAL": "0.05", "GATEWAY_PORT": "0"},
    )
    stack.logs.wait_for("Embedded NATS server started", timeout=60)
    stack.logs.wait_for(
        lambda r: r.get("message") == "Message received" and r.get("sequence", 0) >= 5,
        timeout=60,
    )
    [running] = stack.logs.wait_for("Stack running; press Ctrl+C to stop")
    assert "gateway" in running["services"]
    gateway = httpx.get(f"{running['gateway_url']}/readyz", timeout=10)
    assert gateway.status_code == 200, gateway.text
    stack.signal(signal.SIGINT)
    assert stack.wait(timeout=60) == 0, stack.output()
    finals = {r["logger"] for r in stack.logs.records if r.get("final")}
    assert finals == {"nats-publisher", "nats-subscriber", "payment-publisher", "message-logger"}
    assert stack.logs.where("Embedded NATS server stopped")
    assert stack.logs.where("Message received", message_id="publisher-1"), "first message lost"
    assert stack.logs.records[-1]["message"] == "Stack stopped"
    assert stack.logs.where("Gateway stopped")


def test_ctrl_c_while_the_services_start_still_stops_each_gracefully(
    run_cli: CliFactory, tmp_path: Path
) -> None:
    """SIGINT right after the publishers were started: each service still writes its final
    metrics (none is signalled before it can handle the signal)."""
    url = f"nats://127.0.0.1:{free_port()}"
    stack = run_cli(
        "up",
        "--store-dir",
        str(tmp_path / "up"),
        "--http-port",
        "0",
        "--gateway-port",
        "0",
        url=url,
    )
    stack.logs.wait_for("Stack running; press Ctrl+C to stop", timeout=60)
    stack.signal(signal.SIGINT)
    assert stack.wait(timeout=60) == 0, stack.output()
    finals = {r["logger"] for r in stack.logs.records if r.get("final")}
    assert finals == {"nats-publisher", "nats-subscriber", "payment-publisher", "message-logger"}
    assert not stack.logs.where("Service did not stop in time; killing it")


def test_up_uses_a_server_already_running(
    nats_server: EmbeddedServer, run_cli: CliFactory, tmp_path: Path
) -> None:
    """With a NATS server already at NATS_URL, `up` uses it and says so."""
    stack = run_cli(
        "up",
        "--store-dir",
        str(tmp_path / "up"),
        url=nats_server.url,
        env={"PUBLISH_INTERVAL": "0.05", "GATEWAY_PORT": "0"},
    )
    stack.logs.wait_for("Using the NATS server already running", timeout=60)
    stack.logs.wait_for("Message received", timeout=60)
    stack.signal(signal.SIGINT)
    assert stack.wait(timeout=60) == 0, stack.output()
    assert not stack.logs.where("Embedded NATS server started")


def test_up_gives_its_services_the_credentials_it_was_given(
    start_server: ServerFactory, run_cli: CliFactory, tmp_path: Path
) -> None:
    """`up --user --password` against a server that needs them: the services connect with them."""
    config = tmp_path / "auth.conf"
    config.write_text('authorization { user: "stack", password: "s3cret-pw" }\n')
    server = start_server(config_file=config, jetstream=False)
    stack = run_cli(
        "up",
        *("--user", "stack", "--password", "s3cret-pw", "--store-dir", str(tmp_path / "up")),
        url=server.url,
        env={"PUBLISH_INTERVAL": "0.05", "GATEWAY_PORT": "0"},
    )
    stack.logs.wait_for("Message received", timeout=60)
    stack.signal(signal.SIGINT)
    assert stack.wait(timeout=60) == 0, stack.output()
    assert "s3cret-pw" not in stack.output()
