"""End to end: services that outlive the server, and servers that come late."""

from __future__ import annotations

import pytest

from tests.helpers.fixtures import CliFactory, ServerFactory, free_port

pytestmark = pytest.mark.e2e


def test_subscriber_started_before_server_connects(
    start_server: ServerFactory, run_cli: CliFactory, subject: str
) -> None:
    """A subscriber started with no server keeps retrying, then connects and receives."""
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    sub = run_cli(
        "subscribe",
        "--subject",
        subject,
        "--count",
        "3",
        "--timeout",
        "90",
        url=url,
        env={"RECONNECT_WAIT": "0.2"},
    )
    sub.logs.wait_for("NATS not reachable, retrying")
    start_server(port=port)
    sub.logs.wait_for("Subscribed", timeout=60)
    pub = run_cli("publish", "--subject", subject, "--count", "3", "--interval", "0", url=url)
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()


def test_server_restart_mid_stream(
    start_server: ServerFactory, run_cli: CliFactory, subject: str
) -> None:
    """Both services report the outage (as WARNINGs), reconnect to the restarted server, and
    carry on."""
    first = start_server(port=free_port())
    url = first.url
    env = {"RECONNECT_WAIT": "0.2"}
    sub = run_cli("subscribe", "--subject", subject, url=url, env=env)
    sub.logs.wait_for("Subscribed")
    pub = run_cli("publish", "--subject", subject, "--interval", "0.02", url=url, env=env)
    sub.logs.wait_for("Message received", count=10)
    first.stop()
    sub.logs.wait_for("Disconnected from NATS")
    pub.logs.wait_for("Disconnected from NATS")
    start_server(port=first.port)
    sub.logs.wait_for("Reconnected to NATS", timeout=60)
    pub.logs.wait_for("Reconnected to NATS", timeout=60)
    last_before = max(r["sequence"] for r in sub.logs.where("Message received"))
    sub.logs.wait_for(
        lambda r: r.get("message") == "Message received" and r["sequence"] > last_before + 10,
        timeout=60,
    )
    pub.signal()
    sub.signal()
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    assert pub.process.returncode == 0
    assert sub.logs.where("Subscriber metrics", final=True)[0]["total_errors"] == 0
    # A server that stops and comes back is a transition: WARNINGs, no ERROR record.
    for proc in (pub, sub):
        errors = [r for r in proc.logs.records if r["level"] == "ERROR"]
        assert errors == [], errors
    disconnected = sub.logs.where("Disconnected from NATS")[0]
    assert disconnected["level"] == "WARNING"
