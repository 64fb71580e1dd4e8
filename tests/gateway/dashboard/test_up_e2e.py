"""`up` and the dashboard: the gateway starts with the consumers, counts from the first message,
and `up` prints where the dashboard is once everything runs."""

from __future__ import annotations

import httpx
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e


def test_up_prints_the_dashboard_url_once_everything_runs(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    up = run_cli("up", "--log-format", "console", url=nats_server.url)
    (line,) = up.logs.wait_for_line("Dashboard: http://127.0.0.1:", timeout=60)
    running = [i for i, text in enumerate(up.logs.raw) if "Stack running" in text]
    assert running
    assert running[0] < up.logs.raw.index(line)
    url = line.split("Dashboard: ")[1].strip()
    assert url.endswith("/")
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200
    assert "dashboard.js" in page.text


def test_the_gateway_counts_from_the_first_message(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """JSON logs: `Stack running` carries the dashboard's URL; the gateway subscribed (with the
    consumers) before any producer started, so its counts hold every message."""
    up = run_cli("up", url=nats_server.url)
    (running,) = up.logs.wait_for("Stack running; press Ctrl+C to stop", timeout=60)
    assert running["dashboard_url"] == running["gateway_url"] + "/"
    up.logs.wait_for("Publisher started")
    up.logs.wait_for("Payment publisher started")
    records = up.logs.records
    subscribed = next(
        i for i, r in enumerate(records) if r.get("purpose") == "dashboard" and r.get("mode")
    )
    assert records[subscribed]["mode"] == "always"
    first_producer = next(
        i
        for i, r in enumerate(records)
        if r.get("message") in ("Publisher started", "Payment publisher started")
    )
    assert subscribed < first_producer
    assert not [line for line in up.logs.raw if line.startswith("Dashboard:")]  # JSON only
