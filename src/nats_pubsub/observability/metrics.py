"""Every Prometheus metric the services expose: name, type, help text and labels, in one place.

Names are prefixed `nats_pubsub_`, in base units, counters end in `_total`. Labels are bounded:
`service`, `status`, `reason`, `level`, and for the message logger at most `top_subjects` subject
names (the rest are summed under `other`). Never an id. `collector.py` fills them in at scrape time.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = [
    "JETSTREAM_ATTRIBUTES",
    "METRICS",
    "OTHER_SUBJECTS",
    "PREFIX",
    "MetricSpec",
    "exposed_names",
]

PREFIX: Final = "nats_pubsub_"
OTHER_SUBJECTS: Final = "other"


class MetricSpec(NamedTuple):
    """One metric: its exposed name, Prometheus type, help text and label names."""

    name: str
    kind: str  # "counter", "gauge", "histogram" or "info"
    help: str
    labels: tuple[str, ...]


def _spec(name: str, kind: str, help_text: str, *labels: str) -> MetricSpec:
    return MetricSpec(PREFIX + name, kind, help_text, ("service", *labels))


BUILD_INFO: Final = _spec("build_info", "info", "Package and Python version", "version", "python")
PUBLISHED: Final = _spec("published_messages_total", "counter", "Messages published")
PUBLISHED_BYTES: Final = _spec("published_bytes_total", "counter", "Payload bytes published")
PUBLISH_ERRORS: Final = _spec("publish_errors_total", "counter", "Publishes that failed")
RECEIVED: Final = _spec(
    "received_messages_total", "counter", "Messages received by status", "status"
)
RECEIVED_BYTES: Final = _spec("received_bytes_total", "counter", "Payload bytes received")
INVALID: Final = _spec("invalid_messages_total", "counter", "Invalid messages by reason", "reason")
LATENCY: Final = _spec(
    "message_latency_seconds", "histogram", "End-to-end latency from publish to receipt"
)
SOURCES_EVICTED: Final = _spec(
    "sources_evicted_total",
    "counter",
    "Sources the loss tracker forgot (least recently seen, beyond its limit)",
)
TRACKED_SOURCES: Final = _spec("tracked_sources", "gauge", "Sources the loss tracker follows")
CAPTURED: Final = _spec(
    "captured_messages_total", "counter", "Messages captured by the logger", "subject"
)
CAPTURED_BYTES: Final = _spec(
    "captured_bytes_total", "counter", "Payload bytes captured", "subject"
)
CAPTURED_LEVEL: Final = _spec(
    "captured_by_level_total", "counter", "Captured messages by log level", "level"
)
IGNORED: Final = _spec("ignored_messages_total", "counter", "Messages on ignored subjects")
PAYMENTS: Final = _spec("payments_total", "counter", "Transactions published by status", "status")
DECLINES: Final = _spec("payment_declines_total", "counter", "Declined transactions", "reason")
JS_ACKS: Final = _spec("jetstream_acks_total", "counter", "JetStream acknowledgements")
JS_DUPLICATES: Final = _spec(
    "jetstream_duplicates_total", "counter", "Publishes the server de-duplicated"
)
JS_REDELIVERIES: Final = _spec(
    "jetstream_redeliveries_total", "counter", "Messages delivered more than once"
)
JS_DEAD_LETTERED: Final = _spec(
    "jetstream_dead_lettered_total", "counter", "Messages sent to the dead-letter subject"
)
RECONNECTS: Final = _spec("reconnects_total", "counter", "Reconnections to NATS")
CONNECTION_ERRORS: Final = _spec("connection_errors_total", "counter", "Errors the client reported")
CONNECTED: Final = _spec("connected", "gauge", "1 while connected to NATS")
HTTP_DROPPED: Final = _spec(
    "http_connections_dropped_total",
    "counter",
    "Connections to this endpoint closed because it held its maximum",
)
GATEWAY_REQUESTS: Final = _spec(
    "gateway_requests_total", "counter", "HTTP requests by route, method and status", "route",
    "method", "status",
)  # fmt: skip
GATEWAY_DURATION: Final = _spec(
    "gateway_request_duration_seconds", "histogram", "Time to answer an HTTP request", "route",
    "method",
)  # fmt: skip
GATEWAY_STREAMS: Final = _spec("gateway_live_streams", "gauge", "Open WebSocket and SSE streams")
GATEWAY_LAGGED: Final = _spec(
    "gateway_live_missed_messages_total", "counter", "Messages live clients missed (too slow)"
)
GATEWAY_LIVE_SENT: Final = _spec(
    "gateway_live_messages_total", "counter", "Messages sent to live clients"
)

METRICS: Final = (
    BUILD_INFO,
    PUBLISHED,
    PUBLISHED_BYTES,
    PUBLISH_ERRORS,
    RECEIVED,
    RECEIVED_BYTES,
    INVALID,
    LATENCY,
    SOURCES_EVICTED,
    TRACKED_SOURCES,
    CAPTURED,
    CAPTURED_BYTES,
    CAPTURED_LEVEL,
    IGNORED,
    PAYMENTS,
    DECLINES,
    JS_ACKS,
    JS_DUPLICATES,
    JS_REDELIVERIES,
    JS_DEAD_LETTERED,
    RECONNECTS,
    CONNECTION_ERRORS,
    CONNECTED,
    HTTP_DROPPED,
    GATEWAY_REQUESTS,
    GATEWAY_DURATION,
    GATEWAY_STREAMS,
    GATEWAY_LAGGED,
    GATEWAY_LIVE_SENT,
)

# The stats attributes each JetStream counter is read from, first found wins; a stats object
# without any of them (core NATS mode) reports 0. A stats object whose `jetstream` is true also
# counts through its core names: `published` is then acked and `duplicates` de-duplicated.
JETSTREAM_ATTRIBUTES: Final = (
    (JS_ACKS, ("js_acked", "acked"), "published"),
    (JS_DUPLICATES, ("js_duplicates",), "duplicates"),
    (JS_REDELIVERIES, ("js_redelivered", "redelivered", "redeliveries"), None),
    (JS_DEAD_LETTERED, ("js_dead_lettered", "dead_lettered"), None),
)


def exposed_names(spec: MetricSpec) -> tuple[str, ...]:
    """The sample names a metric appears under in the text format (what PromQL can query)."""
    if spec.kind == "histogram":
        return tuple(spec.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return (spec.name,)
