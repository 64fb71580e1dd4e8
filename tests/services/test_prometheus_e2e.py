"""End to end: a real Prometheus scrapes a running subscriber and its API returns the count."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, free_port
from tests.helpers.metrics import METRICS_ARGS, endpoint, eventually, get

pytestmark = pytest.mark.e2e


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[Callable[[str], int]]:
    """Start Prometheus scraping a target every second, on a free loopback port; stopped after."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not installed (Debian package `prometheus`; .ci/run installs it)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> int:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n"
            "scrape_configs:\n  - job_name: nats-pubsub\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        port = free_port()
        log = (tmp_path / "prometheus.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    str(binary),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        log.close()
        return port

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_prometheus_scrapes_the_received_count(
    nats_server: EmbeddedServer,
    run_cli: CliFactory,
    subject: str,
    start_prometheus: Callable[[str], int],
) -> None:
    """Prometheus' query API returns the number of messages published, as the subscriber saw it."""
    sub = run_cli("subscribe", "--subject", subject, *METRICS_ARGS, url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    port = start_prometheus(endpoint(sub).removeprefix("http://"))
    pub = run_cli(
        "publish", "--subject", subject, "--count", "25", "--interval", "0", url=nats_server.url
    )
    assert pub.wait() == 0, pub.output()
    query = urllib.parse.urlencode(
        {"query": 'nats_pubsub_received_messages_total{job="nats-pubsub",status="valid"}'}
    )
    api = f"http://127.0.0.1:{port}/api/v1/query?{query}"

    def query_value() -> float | None:
        """Prometheus returns 25 for the subscriber's valid-message counter"""
        try:
            status, body = get(api)
        except OSError:
            return None  # not listening yet
        if status != 200:
            return None
        result = json.loads(body)["data"]["result"]
        return float(result[0]["value"][1]) if result and result[0]["value"][1] == "25" else None

    assert eventually(query_value, timeout=90) == 25.0
