"""The gateway's counters (requests by route and status, latency, live streams) and their
Prometheus families, read at scrape time on a registry the gateway owns.

Labels are bounded: `route` is a route template (or `unmatched`), never a concrete path.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Final

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from nats_pubsub.observability.metrics import (
    GATEWAY_DURATION,
    GATEWAY_LAGGED,
    GATEWAY_LIVE_SENT,
    GATEWAY_REQUESTS,
    GATEWAY_STREAMS,
)

__all__ = ["BUCKETS", "GatewayCollector", "HttpStats"]

BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)


class _Latency:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0


class HttpStats:
    """What the gateway has answered since it started, and its live streams now."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[tuple[str, str], _Latency] = {}
        self.live_streams = 0
        self.live_sent = 0
        self.live_missed = 0

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (route, method, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        latency = self.latency.get((route, method))
        if latency is None:
            latency = self.latency[(route, method)] = _Latency()
        latency.counts[bisect_left(BUCKETS, seconds)] += 1
        latency.total += seconds

    def count(self, route: str, method: str, status: int) -> int:
        """Requests answered so far with this route, method and status."""
        return self.requests.get((route, method, status), 0)


class GatewayCollector(Collector):
    """Yields the gateway's HTTP and live-stream families from its `HttpStats`."""

    def __init__(self, service: str, stats: HttpStats) -> None:
        self.service = service
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        """Every gateway family, read now."""
        service, stats = self.service, self.stats
        requests = CounterMetricFamily(
            GATEWAY_REQUESTS.name, GATEWAY_REQUESTS.help, labels=GATEWAY_REQUESTS.labels
        )
        for (route, method, status), value in sorted(stats.requests.items()):
            requests.add_metric((service, route, method, str(status)), value)
        yield requests
        duration = HistogramMetricFamily(
            GATEWAY_DURATION.name, GATEWAY_DURATION.help, labels=GATEWAY_DURATION.labels
        )
        for (route, method), latency in sorted(stats.latency.items()):
            running, buckets = 0, []
            for bound, count in zip((*BUCKETS, float("inf")), latency.counts, strict=True):
                running += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
            duration.add_metric((service, route, method), buckets, latency.total)
        yield duration
        streams = GaugeMetricFamily(
            GATEWAY_STREAMS.name, GATEWAY_STREAMS.help, labels=GATEWAY_STREAMS.labels
        )
        streams.add_metric((service,), stats.live_streams)
        yield streams
        for spec, value in (
            (GATEWAY_LIVE_SENT, stats.live_sent),
            (GATEWAY_LAGGED, stats.live_missed),
        ):
            family = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
            family.add_metric((service,), value)
            yield family
