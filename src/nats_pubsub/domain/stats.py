"""Counters and windowed latency statistics behind the services' periodic metrics records."""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import Counter
from typing import Final

from nats_pubsub.domain.sequencing import SequenceTracker

__all__ = [
    "LATENCY_BUCKETS_MS",
    "LatencyHistogram",
    "LatencyWindow",
    "PublishStats",
    "ReceiveStats",
    "percentile",
]

# Upper bounds of the end-to-end latency buckets, in milliseconds (0.5 ms to 10 s).
LATENCY_BUCKETS_MS: Final = (
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    25.0,
    50.0,
    100.0,
    250.0,
    500.0,
    1000.0,
    2500.0,
    5000.0,
    10000.0,
)


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


class LatencyHistogram:
    """Latencies counted into fixed buckets since start: one bisect and two additions each."""

    __slots__ = ("bounds", "counts", "total_ms")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS_MS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.total_ms = 0.0

    def observe(self, latency_ms: float) -> None:
        """Count one latency (milliseconds) into the first bucket whose bound it does not exceed."""
        self.counts[bisect_left(self.bounds, latency_ms)] += 1
        self.total_ms += latency_ms

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound in ms, observations at or below it), ending with (inf, all)."""
        running = 0
        result = []
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            result.append((bound, running))
        return result


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else 0.0


class PublishStats:
    """What a publisher has done since it started."""

    __slots__ = (
        "duplicates",
        "errors",
        "jetstream",
        "permission_errors",
        "published",
        "published_bytes",
        "started",
    )

    def __init__(self, jetstream: bool = False) -> None:
        self.started = time.monotonic()
        self.jetstream = jetstream
        self.published = 0  # with JetStream: acknowledged by the stream
        self.published_bytes = 0
        self.errors = 0  # with JetStream: given up on (no ack after the retries, or refused)
        self.duplicates = 0  # acks that said the stream already had the message
        self.permission_errors = 0  # publishes the server refused afterwards (-ERR)

    def count_permission_error(self) -> None:
        """Count one publish the server refused for lack of permission (reported asynchronously)."""
        self.permission_errors += 1

    def snapshot(self, retries: int = 0) -> dict[str, float | int]:
        """The fields of a `Publisher metrics` record (plus js_* counts with JetStream)."""
        uptime = time.monotonic() - self.started
        attempts = self.published + self.errors
        fields: dict[str, float | int] = {
            "total_messages": self.published,
            "total_errors": self.errors + self.permission_errors,
            "permission_errors": self.permission_errors,
            "uptime_seconds": round(uptime, 3),
            "messages_per_second": _rate(self.published, uptime),
            "error_rate": round(self.errors / attempts, 4) if attempts else 0.0,
        }
        if self.jetstream:
            fields["js_acked"] = self.published
            fields["js_duplicates"] = self.duplicates
            fields["js_failed"] = self.errors
            fields["js_retries"] = retries
        return fields


class ReceiveStats:
    """What a subscriber has received since it started, and the current latency window."""

    __slots__ = (
        "histogram",
        "invalid",
        "invalid_by_reason",
        "latency",
        "received_bytes",
        "sequences",
        "started",
        "valid",
    )

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.valid = 0
        self.invalid = 0
        self.received_bytes = 0
        self.invalid_by_reason: Counter[str] = Counter()
        self.latency = LatencyWindow()
        self.histogram = LatencyHistogram()
        self.sequences = SequenceTracker()  # lost / duplicate / out-of-order, from sequences

    def reject(self, reason: str) -> None:
        """Count one invalid message."""
        self.invalid += 1
        self.invalid_by_reason[reason] += 1

    def counters(self) -> dict[str, int]:
        """What the service API's STATS shows: counts only (the latency window is left alone)."""
        sequences = self.sequences
        return {
            "received": self.valid + self.invalid,
            "valid": self.valid,
            "invalid": self.invalid,
            "lost": sequences.lost,
            "duplicates": sequences.duplicates,
            "out_of_order": sequences.out_of_order,
            "received_bytes": self.received_bytes,
        }

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
            **self.sequences.snapshot(),
            **self.latency.take(),
        }


class ConsumeStats:
    """What a JetStream consumer did with its deliveries."""

    __slots__ = ("acked", "dead_lettered", "duplicates", "naked", "redelivered")

    def __init__(self) -> None:
        self.acked = 0
        self.naked = 0  # sent back for a later retry
        self.redelivered = 0  # deliveries that were not the first for their message
        self.duplicates = 0  # redeliveries of messages this process had processed: acked again
        self.dead_lettered = 0

    def snapshot(self) -> dict[str, int]:
        """The js_* fields added to a consumer's metrics records."""
        return {
            "js_acked": self.acked,
            "js_naked": self.naked,
            "js_redelivered": self.redelivered,
            "js_duplicates": self.duplicates,
            "js_dead_lettered": self.dead_lettered,
        }
