"""End to end: every `nats-pubsub bench` subcommand runs as a process against a real server."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from nats_pubsub.bench.report import CSV_FIELDS
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import service_env

pytestmark = pytest.mark.e2e

_FIELDS = {"command", "mode", "clients", "msgs", "size", "sent", "received", "seconds", "rate"}


def _bench(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nats_pubsub", "bench", *args, "--url", url],
        capture_output=True,
        text=True,
        env=service_env(url),
        timeout=240,
        check=False,
    )


def _bench_json(url: str, *args: str) -> dict[str, Any]:
    done = _bench(url, *args, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(
    ("command", "mode"),
    [
        ("pub", "ours"),
        ("pub", "bare"),
        ("pub", "classic"),
        ("sub", "ours"),
        ("sub", "bare"),
        ("sub", "classic"),
        ("pubsub", "ours"),
        ("js-pub", "ours"),
        ("js-pub", "fast"),
        ("js-pub", "bare"),
        ("js-pub", "async"),
        ("js-replay", "ours"),
        ("js-replay", "bare"),
    ],
)
def test_bench_counts_every_message(nats_server: EmbeddedServer, command: str, mode: str) -> None:
    """Each subcommand reports its fields, and what was sent is what was received."""
    result = _bench_json(nats_server.url, command, "--msgs", "300", "--mode", mode)
    assert result.keys() >= _FIELDS
    assert (result["command"], result["mode"]) == (command, mode)
    assert result["sent"] == result["received"] == 300
    assert result["rate"] > 0


def test_bench_sub_runs_the_monitor_handler(nats_server: EmbeddedServer) -> None:
    """--service monitor measures the message logger's path, every message counted."""
    result = _bench_json(nats_server.url, "sub", "--msgs", "300", "--service", "monitor")
    assert (result["service"], result["received"]) == ("monitor", 300)


def test_bench_clients_are_summed(nats_server: EmbeddedServer) -> None:
    """With two subscriber processes each receives every message; the counts add up."""
    result = _bench_json(nats_server.url, "pubsub", "--msgs", "200", "--clients", "2")
    assert (result["sent"], result["received"]) == (200, 400)


def test_bench_size_pads_the_event(nats_server: EmbeddedServer) -> None:
    """--size 1024 makes our events about that large."""
    result = _bench_json(nats_server.url, "pub", "--msgs", "100", "--size", "1024")
    assert result["size"] == 1024


def test_bench_latency_percentiles_are_ordered(nats_server: EmbeddedServer) -> None:
    """`bench latency` reports HDR percentiles, each no larger than the next."""
    result = _bench_json(nats_server.url, "latency", "--msgs", "300", "--rate", "500")
    lat = result["latency_ms"]
    assert result["sent"] == result["received"] == lat["count"] == 300
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]


def test_bench_csv_has_a_header_and_a_row(nats_server: EmbeddedServer) -> None:
    """--csv prints the documented header and one row of values."""
    done = _bench(nats_server.url, "sub", "--msgs", "200", "--csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert tuple(rows[0].keys()) == CSV_FIELDS
    assert (len(rows), rows[0]["sent"], rows[0]["received"]) == (1, "200", "200")


def test_bench_memory_reports_a_positive_rss(nats_server: EmbeddedServer) -> None:
    """`bench memory` reads the resident size of a real, subscribed service."""
    result = _bench_json(nats_server.url, "memory", "--settle", "0.2")
    assert result["rss_kib"] > 0


def test_bench_js_pub_leaves_no_stream_behind(nats_server: EmbeddedServer) -> None:
    """`bench js-pub` publishes to a stream of its own, deleted afterwards: EVENTS stays empty."""
    import nats

    _bench_json(nats_server.url, "js-pub", "--msgs", "200", "--mode", "fast")

    async def streams() -> list[str]:
        nc = await nats.connect(nats_server.url)
        try:
            return [info.config.name or "" for info in await nc.jetstream().streams_info()]
        finally:
            await nc.close()

    assert asyncio.run(streams()) == []


@pytest.mark.parametrize(
    ("mode", "load_client"), [("ours", "wrk"), ("ours", "python"), ("classic", "wrk")]
)
def test_bench_gateway_http(nats_server: EmbeddedServer, mode: str, load_client: str) -> None:
    """Our gateway or the classic handler under load: every request answered 2xx."""
    import shutil

    if load_client == "wrk" and not shutil.which("wrk"):
        if os.environ.get("REQUIRE_PEERS") == "1":
            pytest.fail("wrk is not installed (apt-get install wrk; .ci/run installs it)")
        pytest.skip("install wrk (apt-get install wrk) to measure with it")
    env = {"NATS_PUBSUB_LOAD_CLIENT": load_client}
    done = subprocess.run(
        [sys.executable, "-m", "nats_pubsub", "bench", "gateway", "--url", nats_server.url,
         "--mode", mode, "--seconds", "1", "--clients", "8", "--json"],
        capture_output=True, text=True, env=service_env(nats_server.url, env), timeout=240,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["command"], result["mode"], result["load_client"]) == (
        "gateway",
        mode,
        load_client,
    )
    assert result["errors"] == 0
    assert result["sent"] == result["received"] > 0
    assert result["latency_ms"]["p99"] > 0


def test_bench_gateway_fanout(nats_server: EmbeddedServer) -> None:
    """Every WebSocket client gets every message, with and without a stalled client beside it."""
    result = _bench_json(
        nats_server.url, "gateway", "--mode", "fanout", "--seconds", "1", "--ws-clients", "3",
        "--rate", "300",
    )  # fmt: skip
    assert result["every_client_got_all"] is True
    assert result["received"] == result["sent"] == 900
    assert result["rate_without_stalled_client"] > 0


def test_bench_memory_of_the_gateway(nats_server: EmbeddedServer) -> None:
    """The idle gateway's resident size."""
    result = _bench_json(nats_server.url, "memory", "--service", "gateway")
    assert result["service"] == "gateway"
    assert 10_000 < result["rss_kib"] < 500_000
