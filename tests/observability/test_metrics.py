"""Tests for observability.metrics, .collector and the latency histogram: names, labels, values."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from nats_pubsub.domain.capture import SubjectStats
from nats_pubsub.domain.stats import (
    LATENCY_BUCKETS_MS,
    LatencyHistogram,
    PublishStats,
    ReceiveStats,
)
from nats_pubsub.domain.transactions import DECLINE_REASONS, PaymentStats, TransactionFactory
from nats_pubsub.observability.collector import MetricSources, SubjectLabels, register
from nats_pubsub.observability.metrics import METRICS, exposed_names

_NAME = re.compile(r"nats_pubsub_[a-z][a-z0-9_]*")
# Labels whose values come from a closed set in our code (subject is capped by SubjectLabels).
_BOUNDED_LABELS = {
    "service",
    "status",
    "reason",
    "level",
    "subject",
    "version",
    "python",
    "route",
    "method",
}


class FakeConnection:
    """Just what the collector reads from a connection."""

    def __init__(self, connected: bool, reconnects: int = 0, errors: int = 0) -> None:
        self.is_connected = connected
        self.reconnects = reconnects
        self.errors = errors


def scrape(sources: MetricSources, service: str = "svc", top: int = 10) -> dict[str, float]:
    """Register a collector on a fresh registry and return {sample with labels: value}."""
    registry = CollectorRegistry(auto_describe=False)
    register(registry, service, sources, top)
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}"] = sample.value
    return values


def test_names_are_prefixed_and_snake_case() -> None:
    """Every metric is nats_pubsub_ + lower snake case."""
    for spec in METRICS:
        assert _NAME.fullmatch(spec.name), spec.name


def test_counters_end_in_total_and_nothing_else_does() -> None:
    """Counters end in _total; gauges, histograms and info metrics do not."""
    for spec in METRICS:
        assert spec.name.endswith("_total") == (spec.kind == "counter"), spec.name


def test_histograms_use_base_units() -> None:
    """Durations are in seconds."""
    for spec in METRICS:
        if spec.kind == "histogram":
            assert spec.name.endswith("_seconds"), spec.name


def test_labels_are_bounded_and_never_ids() -> None:
    """Only bounded label names; every metric carries `service`."""
    for spec in METRICS:
        assert set(spec.labels) <= _BOUNDED_LABELS, spec
        assert spec.labels[0] == "service"
        assert not any(label.endswith("_id") for label in spec.labels)


def test_names_are_unique() -> None:
    """No two metrics share a name."""
    names = [name for spec in METRICS for name in exposed_names(spec)]
    assert len(names) == len(set(names))


def test_histogram_buckets_are_cumulative() -> None:
    """Observations land in the first bucket whose bound they do not exceed; +Inf has all."""
    histogram = LatencyHistogram()
    for value in (0.2, 0.5, 0.6, 3.0, 20_000.0):
        histogram.observe(value)
    counts = dict(histogram.cumulative())
    assert counts[0.5] == 2
    assert counts[1.0] == 3
    assert counts[5.0] == 4
    assert counts[LATENCY_BUCKETS_MS[-1]] == 4
    assert counts[float("inf")] == 5
    assert histogram.total_ms == pytest.approx(20_004.3)


def test_publish_counters() -> None:
    """Published messages, bytes and errors come straight from PublishStats."""
    stats = PublishStats()
    stats.published, stats.published_bytes, stats.errors = 7, 700, 2
    values = scrape(MetricSources(publish=stats), "publisher")
    assert values["nats_pubsub_published_messages_total{service=publisher}"] == 7
    assert values["nats_pubsub_published_bytes_total{service=publisher}"] == 700
    assert values["nats_pubsub_publish_errors_total{service=publisher}"] == 2


def test_receive_counters_and_latency() -> None:
    """Valid/invalid counts, reasons and the latency histogram in seconds."""
    stats = ReceiveStats()
    stats.valid = 3
    stats.reject("schema")
    stats.reject("not_json")
    stats.reject("schema")
    for latency_ms in (0.4, 4.0, 40.0):
        stats.histogram.observe(latency_ms)
    values = scrape(MetricSources(receive=stats), "subscriber")
    assert values["nats_pubsub_received_messages_total{service=subscriber,status=valid}"] == 3
    assert values["nats_pubsub_received_messages_total{service=subscriber,status=invalid}"] == 3
    assert values["nats_pubsub_invalid_messages_total{reason=schema,service=subscriber}"] == 2
    assert values["nats_pubsub_message_latency_seconds_count{service=subscriber}"] == 3
    assert values["nats_pubsub_message_latency_seconds_sum{service=subscriber}"] == pytest.approx(
        0.0444
    )
    assert values["nats_pubsub_message_latency_seconds_bucket{le=0.005,service=subscriber}"] == 2


def test_tracked_and_evicted_sources() -> None:
    """The loss tracker's size and its evictions are exposed."""
    stats = ReceiveStats()
    stats.sequences.max_sources = 2
    for source in ("a", "b", "c"):
        stats.sequences.observe(source, 1)
    values = scrape(MetricSources(receive=stats), "subscriber")
    assert values["nats_pubsub_tracked_sources{service=subscriber}"] == 2
    assert values["nats_pubsub_sources_evicted_total{service=subscriber}"] == 1


def test_payment_counters_by_status_and_reason() -> None:
    """Accepted/declined counts and every decline reason, zero ones included."""
    stats = PaymentStats()
    factory = TransactionFactory("p", seed=1)
    for declined in (True, False, True, False, False):
        stats.count(factory.next("2026-01-01T00:00:00Z", declined))
    values = scrape(MetricSources(payments=stats), "payments")
    assert values["nats_pubsub_payments_total{service=payments,status=accepted}"] == 3
    assert values["nats_pubsub_payments_total{service=payments,status=declined}"] == 2
    reasons = {
        key: value
        for key, value in values.items()
        if key.startswith("nats_pubsub_payment_declines")
    }
    assert len(reasons) == len(DECLINE_REASONS)
    assert sum(reasons.values()) == 2


def test_connection_gauge_and_reconnects() -> None:
    """Connected is 1/0; reconnects and client errors are counters."""
    values = scrape(MetricSources(connection=FakeConnection(False, reconnects=4, errors=1)))
    assert values["nats_pubsub_connected{service=svc}"] == 0
    assert values["nats_pubsub_reconnects_total{service=svc}"] == 4
    assert values["nats_pubsub_connection_errors_total{service=svc}"] == 1
    assert scrape(MetricSources(connection=FakeConnection(True)))[
        "nats_pubsub_connected{service=svc}"
    ]


def test_build_info() -> None:
    """build_info carries the package version and is always 1."""
    values = scrape(MetricSources())
    [(key, value)] = [(k, v) for k, v in values.items() if k.startswith("nats_pubsub_build_info")]
    assert "version=" in key
    assert value == 1


def test_jetstream_counters_read_attributes_when_present() -> None:
    """JetStream counters are 0 without the attributes and read them when present."""

    class JsStats(PublishStats):
        __slots__ = ("js_acked", "js_dead_lettered", "js_duplicates", "js_redelivered")

    stats = JsStats()
    assert (
        scrape(MetricSources(publish=stats))["nats_pubsub_jetstream_acks_total{service=svc}"] == 0
    )
    stats.js_acked, stats.js_duplicates, stats.js_redelivered, stats.js_dead_lettered = 9, 2, 3, 1
    values = scrape(MetricSources(publish=stats))
    assert values["nats_pubsub_jetstream_acks_total{service=svc}"] == 9
    assert values["nats_pubsub_jetstream_duplicates_total{service=svc}"] == 2
    assert values["nats_pubsub_jetstream_redeliveries_total{service=svc}"] == 3
    assert values["nats_pubsub_jetstream_dead_lettered_total{service=svc}"] == 1


def test_captured_subjects_capped_with_other() -> None:
    """The logger labels at most N subjects; the rest are summed under `other`."""
    stats = SubjectStats()
    for n in range(20):
        for _ in range(n + 1):
            stats.add(f"s.{n}", 10, "INFO")
    values = scrape(MetricSources(capture=stats), "monitor", top=3)
    captured = {k: v for k, v in values.items() if k.startswith("nats_pubsub_captured_messages")}
    assert len(captured) == 4
    assert sum(captured.values()) == stats.messages
    assert captured["nats_pubsub_captured_messages_total{service=monitor,subject=other}"] > 0


def test_subject_labels_are_stable_and_monotonic() -> None:
    """Once labelled, a subject keeps its label; `other` never goes down."""
    labels = SubjectLabels(limit=1)
    first = labels.split({"a": (5, 50)}, (5, 50))
    assert first == {"a": (0, 0), "other": (5, 50)}
    second = labels.split({"a": (6, 60), "b": (100, 1000)}, (106, 1060))
    assert second == {"a": (1, 10), "other": (105, 1050)}


def test_subject_labels_fill_free_slots_with_the_busiest() -> None:
    """Free label slots go to the busiest unlabelled subjects."""
    labels = SubjectLabels(limit=2)
    split = labels.split({"quiet": (1, 1), "busy": (9, 9), "mid": (5, 5)}, (15, 15))
    assert set(split) == {"busy", "mid", "other"}


def test_jetstream_mode_counts_acks_through_core_names() -> None:
    """A stats object in JetStream mode reports its published count as acks."""

    class CoreStats:
        jetstream = True
        published = 12
        duplicates = 2
        published_bytes = 0
        errors = 0

    values = scrape(MetricSources(publish=CoreStats()))  # type: ignore[arg-type]
    assert values["nats_pubsub_jetstream_acks_total{service=svc}"] == 12
    assert values["nats_pubsub_jetstream_duplicates_total{service=svc}"] == 2
