"""The gateway's pure decisions: validation, stream resolution, consumer rules and views."""

from __future__ import annotations

import pytest

from nats_pubsub.gateway import validation
from nats_pubsub.gateway.admin_models import CreateConsumerRequest, ResetRequest
from nats_pubsub.gateway.consumer_rules import TEMPLATES, consumer_config, reset_config
from nats_pubsub.gateway.consumer_views import (
    consumer_details,
    data_preview,
    health_verdict,
    policy_name,
)
from nats_pubsub.gateway.stream_rules import (
    StreamSubjectsOf,
    auto_stream_config,
    resolve_filter,
    resolve_publish,
    stream_subjects,
)
from nats_pubsub.gateway.timespans import parse_timespan, timespan

STREAMS = [StreamSubjectsOf("EVENTS", ("events.>",)), StreamSubjectsOf("PAYMENTS", ("payments.>",))]
NS = 1_000_000_000


@pytest.mark.parametrize("raw", ["0", "101", "-1", "1.5", "x", ""])
def test_limit_out_of_range(raw: str) -> None:
    """The upstream's text for every bad limit."""
    with pytest.raises(validation.Invalid, match="Limit must be between 1 and 100"):
        validation.limit({"limit": raw})


def test_limits_and_timeouts_in_range() -> None:
    """Defaults 10 and 5; the ends of the ranges are accepted."""
    assert (validation.limit({}), validation.timeout({})) == (10, 5)
    assert validation.limit({"limit": "100"}) == 100
    assert validation.timeout({"timeout": "30"}) == 30
    for raw in ("0", "31"):
        with pytest.raises(validation.Invalid, match="Timeout must be between 1 and 30 seconds"):
            validation.timeout({"timeout": raw})


def test_subjects() -> None:
    """Publishing needs a concrete subject; a read may use wildcards."""
    assert validation.publish_subject("events.test") == "events.test"
    for bad in ("a..b", "events.*", "events.>", "", "a b"):
        with pytest.raises(validation.Invalid):
            validation.publish_subject(bad)
    assert validation.filter_subject("events.*") == "events.*"
    with pytest.raises(validation.Invalid):
        validation.filter_subject(">.a")


def test_a_subject_under_an_existing_stream_uses_it() -> None:
    """events.test belongs to EVENTS (events.>), whatever the stream's name."""
    assert resolve_publish("events.test", STREAMS) == "EVENTS"
    assert resolve_publish("orders.new", STREAMS) is None
    assert resolve_filter("events.*", STREAMS).stream == "EVENTS"
    assert (
        resolve_filter("nothing.here", STREAMS).problem
        == "No stream stores messages on 'nothing.here'"
    )
    assert "spans streams EVENTS, PAYMENTS" in (resolve_filter(">", STREAMS).problem or "")


def test_the_auto_created_stream() -> None:
    """The first token, case kept, on <token>.>, with the upstream's limits."""
    config = auto_stream_config("Orders.new.x")
    assert (config["name"], config["subjects"]) == ("Orders", ["Orders.>"])
    assert (config["max_age"], config["max_bytes"], config["max_msgs"]) == (
        86400 * NS,
        104857600,
        10000,
    )


def test_subjects_sorted_by_count() -> None:
    """Most messages first; a note when there are none."""
    body = stream_subjects("S", {"a": 1, "b": 5, "c": 5})
    assert [s.subject for s in body.subjects] == ["b", "c", "a"]
    assert stream_subjects("S", {}).note == "No subject-level statistics available for this stream"


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (30 * NS, "00:00:30"),
        (300 * NS, "00:05:00"),
        (86400 * NS, "1.00:00:00"),
        (365 * 86400 * NS, "365.00:00:00"),
        (1_500_000_000, "00:00:01.5000000"),
    ],
)
def test_timespans_both_ways(ns: int, text: str) -> None:
    """.NET TimeSpan texts, written and read."""
    assert timespan(ns) == text
    assert parse_timespan(text) == ns


def test_durations_are_accepted_too() -> None:
    """30s, 5m, 1h; a TimeSpan with 61 seconds is not one."""
    assert parse_timespan("30s") == 30 * NS
    assert parse_timespan("1h") == 3600 * NS
    for bad in ("00:00:61", "soon", "25:00:00"):
        with pytest.raises(ValueError, match="not"):
            parse_timespan(bad)


def test_templates_are_the_upstreams_six() -> None:
    """Each one's fields, and each turns into a valid config."""
    by_name = {t.name: t.template for t in TEMPLATES}
    assert list(by_name) == [
        "real-time-processor",
        "batch-processor",
        "work-queue",
        "fire-and-forget",
        "latest-only",
        "durable-processor",
    ]
    assert (by_name["work-queue"].max_deliver, by_name["work-queue"].max_ack_pending) == (10, 100)
    assert by_name["fire-and-forget"].ack_policy == "none"
    assert by_name["latest-only"].deliver_policy == "last"
    for template in by_name.values():
        consumer_config(template)


def test_consumer_config_mapping() -> None:
    """Policies are case-insensitive; a durable's default idle threshold is 365 d, else 5 min."""
    config = consumer_config(
        CreateConsumerRequest(name="c", deliver_policy="BY_START_SEQUENCE", start_sequence=7)
    )
    assert (config["deliver_policy"], config["opt_start_seq"]) == ("by_start_sequence", 7)
    assert config["inactive_threshold"] == 365 * 86400 * NS
    ephemeral = consumer_config(CreateConsumerRequest(name="e", durable=False, ack_policy="none"))
    assert ephemeral["inactive_threshold"] == 300 * NS
    assert "max_ack_pending" not in ephemeral  # meaningless without acks


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"name": ""}, "Consumer name is required"),
        ({"name": "a b"}, "Invalid consumer name"),
        ({"name": "c", "deliver_policy": "often"}, "deliverPolicy must be one of"),
        ({"name": "c", "ack_policy": "later"}, "ackPolicy must be one of"),
        ({"name": "c", "deliver_policy": "by_start_time"}, "needs startTime"),
        ({"name": "c", "deliver_policy": "by_start_time", "start_time": "yesterday"}, "not a time"),
    ],
)
def test_bad_consumer_requests(fields: dict[str, object], text: str) -> None:
    """What the upstream silently replaced with a default is an error here."""
    with pytest.raises(ValueError, match=text):
        consumer_config(CreateConsumerRequest(**fields))  # type: ignore[arg-type]


def test_reset_keeps_everything_but_the_start() -> None:
    """reset -> all; replay_from_sequence -> that sequence; the other settings stay."""
    current = {"name": "c", "deliver_policy": "new", "filter_subject": "events.a", "max_deliver": 4}
    again = reset_config(current, ResetRequest())
    assert again == {
        "name": "c",
        "deliver_policy": "all",
        "filter_subject": "events.a",
        "max_deliver": 4,
    }
    replay = reset_config(current, ResetRequest("replay_from_sequence", sequence=9))
    assert (replay["deliver_policy"], replay["opt_start_seq"]) == ("by_start_sequence", 9)
    when = reset_config(current, ResetRequest("replay_from_time", time="2025-01-01T00:00:00Z"))
    assert when["opt_start_time"] == "2025-01-01T00:00:00.000000Z"
    for bad in (ResetRequest("rewind"), ResetRequest("replay_from_sequence")):
        with pytest.raises(ValueError, match=r"action must be|needs sequence"):
            reset_config(current, bad)


def test_health_rules_in_order() -> None:
    """Inactive; over 1,000 awaiting acks overrides it; over 10,000 pending only if healthy."""
    inactive = health_verdict(inactive_ns=60 * NS, idle_ns=90 * NS, ack_pending=0, pending=0)
    assert (inactive.status, inactive.issue) == (
        "Inactive",
        "Consumer has been inactive for 00:01:30",
    )
    overloaded = health_verdict(inactive_ns=60 * NS, idle_ns=90 * NS, ack_pending=1001, pending=0)
    assert (overloaded.status, overloaded.issue) == (
        "Overloaded",
        "High pending acknowledgments: 1001",
    )
    still = health_verdict(inactive_ns=60 * NS, idle_ns=90 * NS, ack_pending=0, pending=20000)
    assert still.status == "Inactive"
    lagging = health_verdict(inactive_ns=0, idle_ns=None, ack_pending=5, pending=10001)
    assert (lagging.status, lagging.healthy) == ("Lagging", False)
    assert health_verdict(
        inactive_ns=60 * NS, idle_ns=None, ack_pending=1000, pending=10000
    ).healthy


def test_consumer_details_metrics() -> None:
    """Lag from the stream's last sequence; acknowledged = delivered - awaiting acks."""
    info = {
        "name": "c",
        "config": {"deliver_policy": "all", "ack_policy": "explicit", "ack_wait": 30 * NS},
        "delivered": {"consumer_seq": 10, "stream_seq": 40},
        "num_ack_pending": 3,
        "num_pending": 60,
    }
    details = consumer_details("S", info, 100)
    assert (details.config.deliver_policy, details.config.ack_policy) == ("All", "Explicit")
    assert details.config.ack_wait == "00:00:30"
    metrics = details.metrics
    assert (metrics.consumer_lag, metrics.acknowledged_messages, metrics.pending_messages) == (
        60,
        7,
        60,
    )
    assert (metrics.is_healthy, metrics.health_status) == (True, "Healthy")
    assert consumer_details("S", info, 1100).metrics.health_status == "Lagging"


def test_policy_names_and_previews() -> None:
    """by_start_sequence -> ByStartSequence; previews cut at 100 characters."""
    assert policy_name("by_start_sequence") == "ByStartSequence"
    assert policy_name("last_per_subject") == "LastPerSubject"
    assert data_preview(b"x" * 100) == "x" * 100
    assert data_preview(b"x" * 101) == "x" * 100 + "..."
