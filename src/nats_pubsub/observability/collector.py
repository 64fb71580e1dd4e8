"""Reads the counters the services already keep and yields them as metrics, at scrape time.

The services count what they do (`PublishStats`, `ReceiveStats`, `PaymentStats`, `SubjectStats`,
`Connection`); `ServiceCollector` turns those counters into metric families only when Prometheus
scrapes, so a message costs no more than the counting the services do anyway. It is registered on
a registry the caller owns, never on prometheus_client's global one.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from nats_pubsub.domain.capture import SubjectStats
from nats_pubsub.domain.stats import ConsumeStats, PublishStats, ReceiveStats
from nats_pubsub.domain.transactions import DECLINE_REASONS, PaymentStats
from nats_pubsub.observability.metrics import (
    BUILD_INFO,
    CAPTURED,
    CAPTURED_BYTES,
    CAPTURED_LEVEL,
    CONNECTED,
    CONNECTION_ERRORS,
    DECLINES,
    HTTP_DROPPED,
    IGNORED,
    INVALID,
    JETSTREAM_ATTRIBUTES,
    LATENCY,
    OTHER_SUBJECTS,
    PAYMENTS,
    PUBLISH_ERRORS,
    PUBLISHED,
    PUBLISHED_BYTES,
    RECEIVED,
    RECEIVED_BYTES,
    RECONNECTS,
    SOURCES_EVICTED,
    TRACKED_SOURCES,
    MetricSpec,
)

__all__ = ["ConnectionState", "MetricSources", "ServiceCollector", "SubjectLabels", "register"]


class ConnectionState(Protocol):
    """What the collector reads from a connection (`connection.Connection` has all of it)."""

    @property
    def is_connected(self) -> bool:
        """True while connected."""

    reconnects: int
    errors: int


class SubjectLabels:
    """Stable subject labels: the first `limit` subjects to be busiest at a scrape keep a label.

    A labelled subject counts from the scrape it was labelled at, and what it had before stays
    under `other`, so every series only ever grows (as Prometheus expects of a counter).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._base: dict[str, tuple[int, int]] = {}

    def split(
        self, per_subject: Mapping[str, tuple[int, int]], total: tuple[int, int]
    ) -> dict[str, tuple[int, int]]:
        """(messages, bytes) per label: labelled subjects, then `other` with everything else."""
        free = self.limit - len(self._base)
        if free > 0:
            ranked = sorted(
                (item for item in per_subject.items() if item[0] not in self._base),
                key=lambda item: (-item[1][0], item[0]),
            )
            for name, counts in ranked[:free]:
                self._base[name] = counts
        result: dict[str, tuple[int, int]] = {}
        labelled = [0, 0]
        for name, (base_messages, base_bytes) in self._base.items():
            messages, size = per_subject.get(name, (base_messages, base_bytes))
            result[name] = (messages - base_messages, size - base_bytes)
            labelled[0] += messages - base_messages
            labelled[1] += size - base_bytes
        result[OTHER_SUBJECTS] = (total[0] - labelled[0], total[1] - labelled[1])
        return result


@dataclass
class MetricSources:
    """The counters one service keeps; attach what it has, when it has it."""

    publish: PublishStats | None = None
    receive: ReceiveStats | None = None
    payments: PaymentStats | None = None
    capture: SubjectStats | None = None
    consume: ConsumeStats | None = None  # a JetStream consumer's acks, redeliveries, dead letters
    connection: ConnectionState | None = None
    dropped_connections: int = 0  # the endpoint's own: HTTP connections closed at its cap


def _package_version() -> str:
    try:
        return version("nats-pubsub")
    except PackageNotFoundError:
        return "unknown"


def _counter(spec: MetricSpec) -> CounterMetricFamily:
    return CounterMetricFamily(spec.name, spec.help, labels=spec.labels)


class ServiceCollector(Collector):
    """Reads one service's counters at scrape time and yields them as metric families."""

    def __init__(self, service: str, sources: MetricSources, top_subjects: int = 10) -> None:
        self.service = service
        self.sources = sources
        self._subjects = SubjectLabels(top_subjects)

    def collect(self) -> Iterator[Metric]:
        """Every metric family, read from the sources attached so far."""
        service = self.service
        src = self.sources
        info = InfoMetricFamily(BUILD_INFO.name.removesuffix("_info"), BUILD_INFO.help, labels=())
        info.add_metric(
            (), {"service": service, "version": _package_version(), "python": _python()}
        )
        yield info
        if src.publish is not None:
            yield from self._publish(src.publish.published, src.publish.published_bytes)
            yield self._single(PUBLISH_ERRORS, src.publish.errors)
        if src.payments is not None:
            yield from self._payments(src.payments)
        if src.receive is not None:
            yield from self._receive(src.receive)
        if src.capture is not None:
            yield from self._capture(src.capture)
        yield from self._jetstream()
        yield self._single(HTTP_DROPPED, src.dropped_connections)
        if src.connection is not None:
            conn = src.connection
            yield self._single(RECONNECTS, conn.reconnects)
            yield self._single(CONNECTION_ERRORS, conn.errors)
            gauge = GaugeMetricFamily(CONNECTED.name, CONNECTED.help, labels=CONNECTED.labels)
            gauge.add_metric((service,), 1.0 if conn.is_connected else 0.0)
            yield gauge

    def _single(self, spec: MetricSpec, value: float) -> CounterMetricFamily:
        family = _counter(spec)
        family.add_metric((self.service,), value)
        return family

    def _publish(self, messages: int, size: int) -> Iterator[Metric]:
        yield self._single(PUBLISHED, messages)
        yield self._single(PUBLISHED_BYTES, size)

    def _payments(self, stats: PaymentStats) -> Iterator[Metric]:
        yield from self._publish(stats.accepted + stats.declined, stats.published_bytes)
        yield self._single(PUBLISH_ERRORS, stats.errors)
        payments = _counter(PAYMENTS)
        payments.add_metric((self.service, "accepted"), stats.accepted)
        payments.add_metric((self.service, "declined"), stats.declined)
        yield payments
        declines = _counter(DECLINES)
        for reason in sorted({*DECLINE_REASONS, *stats.declined_by_reason}):
            declines.add_metric((self.service, reason), stats.declined_by_reason.get(reason, 0))
        yield declines

    def _receive(self, stats: ReceiveStats) -> Iterator[Metric]:
        received = _counter(RECEIVED)
        received.add_metric((self.service, "valid"), stats.valid)
        received.add_metric((self.service, "invalid"), stats.invalid)
        yield received
        yield self._single(RECEIVED_BYTES, stats.received_bytes)
        invalid = _counter(INVALID)
        for reason, count in sorted(stats.invalid_by_reason.items()):
            invalid.add_metric((self.service, reason), count)
        yield invalid
        histogram = HistogramMetricFamily(LATENCY.name, LATENCY.help, labels=LATENCY.labels)
        cumulative = stats.histogram.cumulative()
        buckets = [(_bound_seconds(bound), float(count)) for bound, count in cumulative]
        histogram.add_metric((self.service,), buckets, stats.histogram.total_ms / 1000.0)
        yield histogram
        yield self._single(SOURCES_EVICTED, stats.sequences.evicted)
        tracked = GaugeMetricFamily(
            TRACKED_SOURCES.name, TRACKED_SOURCES.help, labels=TRACKED_SOURCES.labels
        )
        tracked.add_metric((self.service,), stats.sequences.tracked)
        yield tracked

    def _capture(self, stats: SubjectStats) -> Iterator[Metric]:
        messages = _counter(CAPTURED)
        size = _counter(CAPTURED_BYTES)
        split = self._subjects.split(stats.per_subject(), (stats.messages, stats.bytes))
        for subject, (count, nbytes) in split.items():
            messages.add_metric((self.service, subject), count)
            size.add_metric((self.service, subject), nbytes)
        yield messages
        yield size
        levels = _counter(CAPTURED_LEVEL)
        for level, count in sorted(stats.by_level.items()):
            levels.add_metric((self.service, level), count)
        yield levels
        yield self._single(IGNORED, stats.ignored)

    def _jetstream(self) -> Iterator[Metric]:
        stats: list[object] = [
            s
            for s in (self.sources.publish, self.sources.payments, self.sources.receive)
            if s is not None
        ]
        if self.sources.capture is not None:
            stats.append(self.sources.capture)
        if self.sources.consume is not None:
            stats.append(self.sources.consume)
        for spec, names, core_name in JETSTREAM_ATTRIBUTES:
            yield self._single(spec, sum(_jetstream_count(s, names, core_name) for s in stats))


def _jetstream_count(obj: object, names: Iterable[str], core_name: str | None) -> int:
    if core_name is not None and getattr(obj, "jetstream", False) is True:
        names = (*names, core_name)
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, int):
            return value
    return 0


def _bound_seconds(bound_ms: float) -> str:
    return "+Inf" if math.isinf(bound_ms) else repr(bound_ms / 1000.0)


def _python() -> str:
    return platform.python_version()


def register(
    registry: CollectorRegistry, service: str, sources: MetricSources, top_subjects: int = 10
) -> ServiceCollector:
    """Register a collector for `service` on `registry` (never the global one) and return it."""
    collector = ServiceCollector(service, sources, top_subjects)
    registry.register(collector)
    return collector
