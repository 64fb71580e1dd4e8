"""The gateway's camelCase JSON bodies for streams and consumers, with the upstream's field names.

Policies are the upstream's enum names (`All`, `ByStartSequence`, `Explicit`, `File`, `Limits`);
durations are TimeSpans (`"00:00:30"`, `"1.00:00:00"`), as `consumer_rules.timespan` writes them.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "ConsumerConfigView",
    "ConsumerDetails",
    "ConsumerHealth",
    "ConsumerList",
    "ConsumerMetrics",
    "ConsumerSample",
    "ConsumerStateView",
    "CreateConsumerRequest",
    "DeleteResult",
    "MetricsHistory",
    "PeekMessage",
    "PeekResponse",
    "ResetRequest",
    "ResetResult",
    "StreamConfiguration",
    "StreamList",
    "StreamState",
    "StreamSubject",
    "StreamSubjects",
    "StreamSummary",
    "Template",
    "TemplateList",
]


class _Camel(msgspec.Struct, rename="camel"):
    """camelCase on the wire."""


class StreamConfiguration(_Camel):
    description: str | None
    replicas: int
    storage: str
    retention: str
    discard: str
    no_ack: bool
    max_age: str
    max_bytes: int
    max_msg_size: int
    max_msgs: int
    max_consumers: int
    max_msgs_per_subject: int
    duplicate_window: str
    allow_rollup: bool
    deny_delete: bool
    deny_purge: bool
    sealed: bool


class StreamState(_Camel):
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    first_time: str | None
    last_time: str | None
    consumer_count: int
    num_subjects: int
    num_deleted: int


class StreamSummary(_Camel):
    name: str
    subjects: list[str]
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    consumers: int
    configuration: StreamConfiguration
    state: StreamState


class StreamList(_Camel):
    count: int
    streams: list[StreamSummary]


class StreamSubject(_Camel):
    subject: str
    messages: int


class StreamSubjects(_Camel):
    stream_name: str
    count: int
    subjects: list[StreamSubject]
    note: str | None


class CreateConsumerRequest(_Camel, forbid_unknown_fields=True):
    """`POST /api/consumers/{stream}`; TimeSpans as "hh:mm:ss" (or "30s", "5m")."""

    name: str = ""
    description: str | None = None
    durable: bool = True
    filter_subject: str | None = None
    deliver_policy: str = "all"
    start_sequence: int | None = None
    start_time: str | None = None
    ack_policy: str = "explicit"
    ack_wait: str | None = None
    max_deliver: int | None = -1
    inactive_threshold: str | None = None
    max_ack_pending: int | None = -1
    flow_control: bool | None = False
    idle_heartbeat: str | None = None


class Template(_Camel):
    name: str
    description: str
    use_case: str
    template: CreateConsumerRequest


class TemplateList(_Camel):
    count: int
    templates: list[Template]


class ConsumerConfigView(_Camel):
    filter_subject: str | None
    deliver_policy: str
    ack_policy: str
    ack_wait: str | None
    max_deliver: int
    inactive_threshold: str | None
    max_ack_pending: int
    flow_control: bool
    idle_heartbeat: str | None
    opt_start_seq: int | None
    opt_start_time: str | None


class ConsumerStateView(_Camel):
    delivered: int
    ack_pending: int
    redelivered: int
    num_pending: int
    num_waiting: int
    last_delivered: str | None


class ConsumerMetrics(_Camel):
    consumer_lag: int
    pending_messages: int
    acknowledged_messages: int
    redelivered_messages: int
    average_ack_time: float
    is_healthy: bool
    health_status: str


class ConsumerDetails(_Camel):
    stream_name: str
    name: str
    description: str | None
    created: str | None
    config: ConsumerConfigView
    state: ConsumerStateView
    metrics: ConsumerMetrics


class ConsumerList(_Camel):
    stream_name: str
    count: int
    consumers: list[ConsumerDetails]


class DeleteResult(_Camel):
    success: bool
    message: str


class ConsumerHealth(_Camel):
    consumer_name: str
    stream_name: str
    is_healthy: bool
    status: str
    last_activity: str | None
    time_since_last_activity: str | None
    pending_messages: int
    ack_pending: int
    issue: str | None


class PeekMessage(_Camel):
    sequence: int
    subject: str
    timestamp: str
    size_bytes: int
    data_preview: str


class PeekResponse(_Camel):
    consumer_name: str
    stream_name: str
    count: int
    messages: list[PeekMessage]


class ResetRequest(_Camel, forbid_unknown_fields=True):
    """`POST .../reset`: `reset`, `replay_from_sequence` (with sequence), `replay_from_time`."""

    action: str = "reset"
    sequence: int | None = None
    time: str | None = None


class ResetResult(_Camel):
    success: bool
    message: str
    consumer_name: str


class ConsumerSample(_Camel):
    timestamp: str
    consumer_lag: int
    pending_messages: int
    acknowledged_messages: int
    redelivered_messages: int
    delivered_count: int
    is_healthy: bool


class MetricsHistory(_Camel):
    consumer_name: str
    stream_name: str
    start_time: str
    end_time: str
    count: int
    history: list[ConsumerSample]
