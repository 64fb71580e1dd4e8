"""Tests for nats_pubsub.domain.stats: percentiles, latency windows and service counters."""

from __future__ import annotations

import time

import pytest

from nats_pubsub.domain.stats import LatencyWindow, PublishStats, ReceiveStats, percentile

HUNDRED = [float(n) for n in range(1, 101)]


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, 0.0),
        ([7.0], 0.5, 7.0),
        ([7.0], 0.99, 7.0),
        ([1.0, 2.0], 0.5, 1.0),
        ([1.0, 2.0, 3.0], 0.5, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 0.75, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 0.76, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 0.0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 1.0, 4.0),
        (HUNDRED, 0.5, 50.0),
        (HUNDRED, 0.95, 95.0),
        (HUNDRED, 0.99, 99.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    """percentile returns the value at rank ceil(fraction * n), at least 1."""
    assert percentile(values, fraction) == expected


@pytest.mark.parametrize("n", [20, 60, 200, 1000, 1234])
def test_percentile_exact_ranks_for_report_fractions(n: int) -> None:
    """p50/p95/p99 land on the exact nearest rank for various window sizes."""
    values = [float(v) for v in range(1, n + 1)]
    for fraction, percent in ((0.50, 50), (0.95, 95), (0.99, 99)):
        assert percentile(values, fraction) == float(-(-percent * n // 100))


def test_latency_window_empty() -> None:
    """An empty window reports zeros and no samples."""
    assert LatencyWindow().take() == {
        "latency_avg_ms": 0.0,
        "latency_p50_ms": 0.0,
        "latency_p95_ms": 0.0,
        "latency_p99_ms": 0.0,
        "latency_samples": 0,
    }


def test_latency_window_summary() -> None:
    """take summarises the window: average, p50, p95, p99 and the sample count."""
    window = LatencyWindow()
    for value in reversed(HUNDRED):
        window.add(value)
    assert window.take() == {
        "latency_avg_ms": 50.5,
        "latency_p50_ms": 50.0,
        "latency_p95_ms": 95.0,
        "latency_p99_ms": 99.0,
        "latency_samples": 100,
    }


def test_latency_window_rounds_to_microseconds() -> None:
    """Summary values are rounded to three decimals."""
    window = LatencyWindow()
    window.add(1.23456)
    assert window.take()["latency_avg_ms"] == 1.235


def test_latency_window_take_resets() -> None:
    """After take, the window starts empty and add still feeds it."""
    window = LatencyWindow()
    window.add(5.0)
    window.take()
    assert window.take()["latency_samples"] == 0
    window.add(2.0)
    assert window.take()["latency_p50_ms"] == 2.0


def test_publish_stats_fields() -> None:
    """A publisher snapshot carries totals, uptime, rate and error rate."""
    stats = PublishStats()
    stats.published = 30
    stats.errors = 10
    stats.started = time.monotonic() - 10
    snap = stats.snapshot()
    assert set(snap) == {
        "total_messages",
        "total_errors",
        "permission_errors",
        "uptime_seconds",
        "messages_per_second",
        "error_rate",
    }
    assert (snap["total_messages"], snap["total_errors"], snap["error_rate"]) == (30, 10, 0.25)
    assert snap["uptime_seconds"] == pytest.approx(10, abs=0.5)
    assert snap["messages_per_second"] == pytest.approx(3.0, abs=0.2)


def test_publish_stats_error_rate_zero_without_attempts() -> None:
    """No attempts means an error rate of 0.0, not a division error."""
    assert PublishStats().snapshot()["error_rate"] == 0.0


def test_receive_stats_fields() -> None:
    """A subscriber snapshot counts valid and invalid messages and reasons."""
    stats = ReceiveStats()
    stats.valid = 6
    stats.reject("schema")
    stats.reject("schema")
    stats.reject("not_json")
    stats.started = time.monotonic() - 3
    snap = stats.snapshot()
    assert snap["total_messages"] == 9
    assert snap["valid_messages"] == 6
    assert snap["total_errors"] == 3
    assert snap["errors_by_reason"] == {"schema": 2, "not_json": 1}
    assert snap["error_rate"] == 0.3333
    assert snap["messages_per_second"] == pytest.approx(3.0, abs=0.2)
    assert snap["latency_samples"] == 0


def test_receive_stats_error_rate_zero_without_messages() -> None:
    """No messages means an error rate of 0.0."""
    assert ReceiveStats().snapshot()["error_rate"] == 0.0


def test_receive_stats_snapshot_resets_latency_window() -> None:
    """snapshot includes the latency summary and starts a new window."""
    stats = ReceiveStats()
    stats.latency.add(4.0)
    stats.latency.add(8.0)
    first = stats.snapshot()
    assert (first["latency_samples"], first["latency_avg_ms"]) == (2, 6.0)
    assert stats.snapshot()["latency_samples"] == 0


def test_receive_stats_snapshot_keeps_counters() -> None:
    """Counters are cumulative: a second snapshot still reports them."""
    stats = ReceiveStats()
    stats.valid = 2
    stats.reject("bad_timestamp")
    stats.snapshot()
    assert stats.snapshot()["total_messages"] == 3


def test_publish_stats_count_permission_errors_as_errors() -> None:
    """Publishes the server refused afterwards add to total_errors and permission_errors."""
    stats = PublishStats()
    stats.errors = 1
    stats.count_permission_error()
    stats.count_permission_error()
    snap = stats.snapshot()
    assert (snap["total_errors"], snap["permission_errors"]) == (3, 2)


def test_receive_stats_counters_leave_the_latency_window_alone() -> None:
    """The service API's counters: counts only, and asking for them changes nothing."""
    stats = ReceiveStats()
    stats.valid = 4
    stats.received_bytes = 400
    stats.reject("schema")
    stats.latency.add(2.0)
    assert stats.counters() == {
        "received": 5,
        "valid": 4,
        "invalid": 1,
        "lost": 0,
        "duplicates": 0,
        "out_of_order": 0,
        "received_bytes": 400,
    }
    assert stats.snapshot()["latency_samples"] == 1
