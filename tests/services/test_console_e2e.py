"""End to end: console lines on a terminal (`COLUMNS` stands in for its width) fit the width."""

from __future__ import annotations

from pathlib import Path

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, free_port

pytestmark = pytest.mark.e2e


def test_monitor_console_lines_fit_the_terminal(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """`Message captured` on a 100-column console: the extracted fields, a cut payload, no wrap."""
    url = nats_server.url
    mon = run_cli("monitor", "--subject", subject, url=url, env={"LOG_FORMAT": "console",
                                                                 "COLUMNS": "100"})  # fmt: skip
    mon.logs.wait_for_line("Subscribed")
    pub = run_cli("publish", "--subject", subject, "--count", "3", "--interval", "0", url=url)
    assert pub.wait() == 0, pub.output()
    lines = mon.logs.wait_for_line("Message captured", count=3)
    for line in lines:
        assert len(line) <= 100, line
        assert f"subject={subject}" in line
    mon.signal()
    assert mon.wait() == 0, mon.output()


def test_up_console_lines_fit_the_terminal(run_cli: CliFactory, tmp_path: Path) -> None:
    """`up` on a 160-column console: each captured message is one line of at most 160."""
    stack = run_cli(
        "up", "--store-dir", str(tmp_path / "store"), "--http-port", "0",
        url=f"nats://127.0.0.1:{free_port()}",
        env={"LOG_FORMAT": "console", "COLUMNS": "160", "PUBLISH_INTERVAL": "0.1"},
    )  # fmt: skip
    captured = stack.logs.wait_for_line("Message captured", count=6, timeout=60)
    for line in captured:
        assert len(line) <= 160, line
        assert line.startswith("logger")
    assert any("status=success event_type=" in line for line in captured)
    stack.signal()
    assert stack.wait() == 0, stack.output()
