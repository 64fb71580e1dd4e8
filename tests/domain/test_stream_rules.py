"""JetStream decisions: replay starts, durations, stream choice, ids, retries, ack metadata."""

from __future__ import annotations

import pytest

from nats_pubsub.domain.stream_rules import (
    DEFAULT_STREAMS,
    Outcome,
    backoff_delay,
    decide,
    dedupe_id,
    new_run_id,
    parse_ack_reply,
    parse_duration,
    parse_replay,
    stream_differences,
    stream_for_subject,
    stream_spec_for,
    subjects_overlap,
)

NOW = 1_800_000_000_000_000_000


@pytest.mark.parametrize(
    ("text", "policy", "seq"),
    [
        ("all", "all", None),
        ("NEW", "new", None),
        ("last", "last", None),
        ("last-per-subject", "last_per_subject", None),
        ("true", "all", None),
        ("false", "new", None),
        ("seq:42", "by_start_sequence", 42),
    ],
)
def test_parse_replay_policies(text: str, policy: str, seq: int | None) -> None:
    """Each replay word maps to its JetStream deliver policy."""
    start = parse_replay(text)
    assert (start.policy, start.start_sequence) == (policy, seq)


def test_parse_replay_since_duration_counts_back_from_now() -> None:
    """since:1h starts one hour before now."""
    start = parse_replay("since:1h", now_ns=NOW)
    assert start.policy == "by_start_time"
    assert start.start_time_ns == NOW - 3600 * 10**9


def test_parse_replay_since_timestamp() -> None:
    """since:<RFC3339> starts at that instant."""
    start = parse_replay("since:2026-01-01T00:00:00Z", now_ns=NOW)
    assert start.start_time_ns == 1_767_225_600 * 10**9


@pytest.mark.parametrize("text", ["", "everything", "seq:0", "seq:x", "since:", "since:yesterday"])
def test_parse_replay_rejects_nonsense(text: str) -> None:
    """Unknown starts are refused with a message listing the valid ones."""
    with pytest.raises(ValueError, match=r"seq|since|replay start"):
        parse_replay(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("7d", 604800), ("250ms", 0.25), ("2w", 1209600)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    """Durations combine units from milliseconds to weeks."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "h", "1h 30m", "-1h", "1y"])
def test_parse_duration_rejects(text: str) -> None:
    """Malformed durations raise ValueError."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("payments.>", ">", True),
        ("payments.>", "payments.credit_card.*", True),
        ("payments.>", "events.>", False),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.>", "a", False),
        ("a.b", "a.b", True),
    ],
)
def test_subjects_overlap(a: str, b: str, overlap: bool) -> None:
    """Two patterns overlap when one subject could match both."""
    assert subjects_overlap(a, b) is overlap
    assert subjects_overlap(b, a) is overlap


def test_default_stream_by_subject() -> None:
    """Payments go to PAYMENTS, events to EVENTS, anything else to none."""
    assert stream_for_subject("payments.credit_card.declined") == "PAYMENTS"
    assert stream_for_subject("events.{event_type}") == "EVENTS"
    assert stream_for_subject("orders.created") is None


def test_stream_spec_defaults_and_limits() -> None:
    """The default specs carry the documented limits; overrides replace them."""
    spec = stream_spec_for("payments.>", None)
    assert (spec.name, spec.subjects, spec.max_age_seconds, spec.max_bytes) == (
        "PAYMENTS",
        ("payments.>",),
        7 * 86400,
        1024**3,
    )
    events = stream_spec_for("events.test", None, max_bytes=10, replicas=3)
    assert (events.name, events.max_age_seconds, events.max_bytes, events.replicas) == (
        "EVENTS",
        86400,
        10,
        3,
    )


def test_custom_stream_covers_the_template() -> None:
    """A stream of one's own covers the subject, a template's fields as '>'."""
    assert stream_spec_for("orders.{event_type}", "ORDERS").subjects == ("orders.>",)
    with pytest.raises(ValueError, match="STREAM_NAME"):
        stream_spec_for("orders.created", None)


def test_stream_differences_lists_only_changes() -> None:
    """An existing stream is compared field by field, readably."""
    spec = DEFAULT_STREAMS["EVENTS"]
    same = {"subjects": ["events.>"], "max_age": 86400.0, "max_bytes": spec.max_bytes}
    assert stream_differences(spec, same) == []
    changed = {**same, "max_bytes": 5, "num_replicas": 3}
    assert [d.split()[0] for d in stream_differences(spec, changed)] == ["max_bytes", "replicas"]


def test_dedupe_ids_differ_between_runs() -> None:
    """The same message id from two runs gets two de-duplication ids."""
    first, second = new_run_id(), new_run_id()
    assert first != second
    assert dedupe_id("pub-1", first) != dedupe_id("pub-1", second)
    assert dedupe_id("pub-1", first).startswith("pub-1@")


def test_backoff_doubles_and_is_capped() -> None:
    """Redelivery waits 1, 2, 4 ... seconds, never more than the cap."""
    assert [backoff_delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff_delay(20) == 30


@pytest.mark.parametrize(
    ("outcome", "delivered", "action"),
    [
        (Outcome.ACK, 5, Outcome.ACK),
        (Outcome.RETRY, 1, Outcome.RETRY),
        (Outcome.RETRY, 3, Outcome.DEAD_LETTER),
        (Outcome.DEAD_LETTER, 1, Outcome.DEAD_LETTER),
    ],
)
def test_decide_dead_letters_at_the_last_delivery(
    outcome: str, delivered: int, action: str
) -> None:
    """A failure is retried until its last allowed delivery, then dead-lettered."""
    assert decide(outcome, delivered, max_deliver=3) == action


def test_parse_ack_reply_v1_and_v2() -> None:
    """Both ack subject layouts give the same metadata."""
    v1 = parse_ack_reply("$JS.ACK.PAYMENTS.mon.2.15.9.1700000000000000000.4")
    v2 = parse_ack_reply("$JS.ACK.hub.ACCHASH.PAYMENTS.mon.2.15.9.1700000000000000000.4.rnd")
    assert v1 == v2
    assert v1 is not None
    assert (v1.stream, v1.consumer, v1.delivered, v1.stream_seq, v1.pending) == (
        "PAYMENTS",
        "mon",
        2,
        15,
        4,
    )


@pytest.mark.parametrize("reply", ["", "_INBOX.abc", "$JS.ACK.S.c.x.1.1.1.1", "$JS.ACK.a.b"])
def test_parse_ack_reply_rejects_other_subjects(reply: str) -> None:
    """A reply that is not a JetStream ack subject has no metadata."""
    assert parse_ack_reply(reply) is None


def test_only_configured_limits_are_compared() -> None:
    """Limits nobody configured are left as the stream has them; subjects are always checked."""
    spec = DEFAULT_STREAMS["PAYMENTS"]
    r3 = {"subjects": ["payments.>"], "max_age": 60.0, "max_bytes": 5, "num_replicas": 3}
    assert stream_differences(spec, r3, frozenset()) == []
    assert stream_differences(spec, r3, frozenset({"replicas"})) == ["replicas 3 != 1"]
    other = {**r3, "subjects": ["payments.x"]}
    assert stream_differences(spec, other, frozenset())[0].startswith("subjects")


def test_configured_limits_come_from_flags_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only limits given by a flag or the environment count as configured."""
    from nats_pubsub.config import MonitorSettings

    for name in ("STREAM_REPLICAS", "STREAM_MAX_AGE", "STREAM_MAX_BYTES"):
        monkeypatch.delenv(name, raising=False)
    assert MonitorSettings().configured_limits == frozenset()
    monkeypatch.setenv("STREAM_REPLICAS", "3")
    settings = MonitorSettings(stream_max_age="1h")
    assert settings.configured_limits == frozenset({"replicas", "max_age"})
