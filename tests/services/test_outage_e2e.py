"""End to end: a publisher during a long outage fails publishes clearly instead of hanging."""

from __future__ import annotations

import pytest

from tests.helpers.fixtures import CliFactory, ServerFactory, free_port

pytestmark = pytest.mark.e2e


def test_full_reconnect_buffer_fails_publishes_and_stays_responsive(
    start_server: ServerFactory, run_cli: CliFactory, subject: str
) -> None:
    """Server gone, small buffer: `Publish failed` (buffer full), counted; SIGTERM exits 0."""
    server = start_server(port=free_port(), jetstream=False)
    env = {"RECONNECT_BUFFER_SIZE": "4096", "RECONNECT_WAIT": "0.5", "DRAIN_TIMEOUT": "2"}
    pub = run_cli("publish", "--subject", subject, "--interval", "0", url=server.url, env=env)
    pub.logs.wait_for("Message published", count=10)
    server.stop()
    failed = pub.logs.wait_for("Publish failed")[0]
    assert "outbound buffer is full" in failed["error"]
    pub.signal()
    assert pub.wait(timeout=60) == 0, pub.output()[-3000:]
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert final["total_errors"] > 0
