"""Counters and windowed latency statistics behind the services' periodic metrics records."""

from __future__ import annotations

import math
import time
from collections import Counter

__all__ = ["LatencyWindow", "PublishStats", "ReceiveStats", "percentile"]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list (0.0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


class LatencyWindow:
    """Latencies (milliseconds) since the last report; summarised and reset on `take`."""

    __slots__ = ("add", "values")

    def __init__(self) -> None:
        self.values: list[float] = []
        self.add = self.values.append

    def take(self) -> dict[str, float]:
        """Average and p50/p95/p99 of the window, then start a new window."""
        values = sorted(self.values)
        self.values.clear()
        if not values:
            return {
                "latency_avg_ms": 0.0,
                "latency_p50_ms": 0.0,
                "latency_p95_ms": 0.0,
                "latency_p99_ms": 0.0,
                "latency_samples": 0,
            }
        return {
            "latency_avg_ms": round(sum(values) / len(values), 3),
            "latency_p50_ms": round(percentile(values, 0.50), 3),
            "latency_p95_ms": round(percentile(values, 0.95), 3),
            "latency_p99_ms": round(percentile(values, 0.99), 3),
            "latency_samples": len(values),
        }


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0


class PublishStats:
    """What a publisher has done since it started."""

    __slots__ = ("errors", "published", "started")

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.published = 0
        self.errors = 0

    def snapshot(self) -> dict[str, float | int]:
        """The fields of a `Publisher metrics` record."""
        uptime = time.monotonic() - self.started
        attempts = self.published + self.errors
        return {
            "total_messages": self.published,
            "total_errors": self.errors,
            "uptime_seconds": round(uptime, 3),
            "messages_per_second": _rate(self.published, uptime),
            "error_rate": round(self.errors / attempts, 4) if attempts else 0.0,
        }


class ReceiveStats:
    """What a subscriber has received since it started, and the current latency window."""

    __slots__ = ("invalid", "invalid_by_reason", "latency", "started", "valid")

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.valid = 0
        self.invalid = 0
        self.invalid_by_reason: Counter[str] = Counter()
        self.latency = LatencyWindow()

    def reject(self, reason: str) -> None:
        """Count one invalid message."""
        self.invalid += 1
        self.invalid_by_reason[reason] += 1

    def snapshot(self) -> dict[str, object]:
        """The fields of a `Subscriber metrics` record; resets the latency window."""
        uptime = time.monotonic() - self.started
        total = self.valid + self.invalid
        return {
            "total_messages": total,
            "valid_messages": self.valid,
            "total_errors": self.invalid,
            "errors_by_reason": dict(self.invalid_by_reason),
            "uptime_seconds": round(uptime, 3),
            "messages_per_second": _rate(total, uptime),
            "error_rate": round(self.invalid / total, 4) if total else 0.0,
            **self.latency.take(),
        }
