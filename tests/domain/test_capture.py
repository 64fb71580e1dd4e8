"""Tests for domain.capture: rendering, classifying and counting any captured message."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.domain.capture import (
    DEFAULT_IGNORE,
    SubjectStats,
    capture,
    classify,
    extract_fields,
    is_ignored,
    render_payload,
    should_log,
)
from tests.helpers.captures import EVENT, GARBAGE, LIMIT, TXN, json_values, logged_line


def test_json_object_is_logged_parsed() -> None:
    """A JSON payload is shown as the parsed value, with no encoding field."""
    fields = capture("orders.new", "", json.dumps(TXN).encode(), None, LIMIT).fields
    assert fields["payload"] == TXN
    assert "payload_encoding" not in fields


def test_text_payload_is_logged_as_text() -> None:
    """A UTF-8 payload that is not JSON is shown as text."""
    fields = capture("chat", "", "héllo".encode(), None, LIMIT).fields
    assert fields["payload"] == "héllo"
    assert fields["payload_encoding"] == "text"


def test_binary_payload_is_logged_as_base64() -> None:
    """A payload that is not UTF-8 is shown as base64 and flagged as undecodable."""
    data = b"\x00\xff\x10"
    fields = capture("bin", "", data, None, LIMIT).fields
    assert base64.b64decode(fields["payload"]) == data
    assert fields["payload_encoding"] == "base64"
    assert fields["decode_error"] == "invalid_utf8"


def test_long_text_is_cut_at_the_limit() -> None:
    """A payload over the limit is cut to the limit and flagged as truncated."""
    fields = capture("t", "", b"a" * 100, None, 10).fields
    assert fields["payload"] == "a" * 10
    assert fields["payload_truncated"] is True
    assert fields["size_bytes"] == 100


def test_cut_never_splits_a_character() -> None:
    """Cutting inside a multi-byte character drops that character instead of mangling it."""
    rendered = render_payload("aé".encode() * 10, 2)
    assert rendered.value == "a"


def test_long_binary_is_cut_before_base64() -> None:
    """A binary payload over the limit shows the base64 of its first `limit` bytes."""
    fields = capture("b", "", b"\xff" * 100, None, 12).fields
    assert base64.b64decode(fields["payload"]) == b"\xff" * 12
    assert fields["payload_truncated"] is True


def test_long_json_still_yields_its_fields() -> None:
    """Fields are extracted from a JSON payload even when its preview is cut."""
    data = json.dumps({**TXN, "blob": "x" * 500}).encode()
    result = capture("payments.x", "", data, None, 50)
    assert result.fields["transaction_id"] == "TXN-pay-3"
    assert result.fields["payload_truncated"] is True
    assert result.level == "ERROR"


def test_deep_json_is_shown_as_text() -> None:
    """Valid JSON nested deeper than the renderer allows is shown as text, at INFO."""
    data = b"[" * 100 + b"]" * 100
    result = capture("deep", "", data, None, LIMIT)
    assert result.fields["payload"] == data.decode()
    assert result.level == "INFO"


def test_too_deep_json_is_undecodable() -> None:
    """JSON too deep for the decoder is a WARNING with decode_error too_deep."""
    result = capture("deep", "", b"[" * 5000 + b"]" * 5000, None, LIMIT)
    assert result.fields["decode_error"] == "too_deep"
    assert result.level == "WARNING"


def test_reply_and_headers_are_recorded() -> None:
    """The reply subject and headers appear in the record."""
    fields = capture("q", "_INBOX.1", b"{}", {"Nats-Msg-Id": "x"}, LIMIT).fields
    assert fields["reply_to"] == "_INBOX.1"
    assert fields["headers"] == {"Nats-Msg-Id": "x"}


def test_no_reply_and_no_headers() -> None:
    """Without a reply subject reply_to is null; without headers there is no headers field."""
    fields = capture("q", "", b"{}", None, LIMIT).fields
    assert fields["reply_to"] is None
    assert "headers" not in fields


def test_fields_extracted_from_the_top_level() -> None:
    """Transaction fields at the top level are lifted into the record."""
    assert extract_fields(TXN) == TXN


def test_fields_extracted_from_data() -> None:
    """Event fields under `data` are lifted into the record."""
    found = extract_fields(EVENT)
    assert found == {"message_id": "pub-1", "event_type": "user.login", "status": "success"}


def test_top_level_field_wins_over_data() -> None:
    """When both levels carry a field, the top-level one is used."""
    assert extract_fields({"status": "ok", "data": {"status": "failed"}}) == {"status": "ok"}


def test_non_scalar_fields_are_skipped_and_long_ones_cut() -> None:
    """Only scalar values are lifted, and long strings are shortened."""
    found = extract_fields({"status": {"x": 1}, "transaction_id": "T" * 1000, "amount": None})
    assert found == {"transaction_id": "T" * 200}


@pytest.mark.parametrize("value", [[1, 2], "text", 3, None])
def test_non_objects_yield_no_fields(value: Any) -> None:
    """A JSON value that is not an object has nothing to extract."""
    assert extract_fields(value) == {}


@pytest.mark.parametrize(
    "subject",
    ["payments.credit_card.declined", "jobs.failed", "app.error.db", "x.DECLINED"],
)
def test_error_token_in_subject_is_error(subject: str) -> None:
    """A subject token declined, failed or error makes the message an ERROR."""
    assert classify(subject, render_payload(b"{}", LIMIT)) == "ERROR"


@pytest.mark.parametrize("subject", ["app.errors", "payments.undeclined", "failed_jobs.x"])
def test_error_word_inside_a_token_is_not_error(subject: str) -> None:
    """Only whole tokens count: `errors` or `undeclined` do not make an ERROR."""
    assert classify(subject, render_payload(b"{}", LIMIT)) == "INFO"


@pytest.mark.parametrize(
    "payload",
    [{"status": "failed"}, {"status": "Declined"}, {"data": {"status": "error"}}],
)
def test_error_status_in_payload_is_error(payload: dict[str, Any]) -> None:
    """A status of declined, failed or error, at the top or under data, is an ERROR."""
    assert classify("orders.update", render_payload(json.dumps(payload).encode(), LIMIT)) == "ERROR"


def test_success_status_is_info() -> None:
    """An ordinary event is INFO."""
    assert classify("events.test", render_payload(json.dumps(EVENT).encode(), LIMIT)) == "INFO"


def test_error_wins_over_undecodable() -> None:
    """Garbage on a failed subject is still an ERROR."""
    assert classify("jobs.failed", render_payload(b"\xff", LIMIT)) == "ERROR"


@pytest.mark.parametrize(("name", "data", "level"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_corpus_is_classified(name: str, data: bytes, level: str) -> None:
    """Each garbage payload gets its expected severity."""
    assert capture(f"garbage.{len(data)}", "", data, None, LIMIT).level == level


@pytest.mark.parametrize(("name", "data", "level"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_corpus_logs_as_json(name: str, data: bytes, level: str) -> None:
    """Each garbage payload's record is written by the real Logger as one valid JSON line."""
    result = capture("garbage", "", data, None, LIMIT)
    record = logged_line(result.level, result.fields)
    assert record["size_bytes"] == len(data)
    assert record["level"] == level


@given(subject=st.text(min_size=1), data=st.binary(max_size=2048), limit=st.integers(1, 512))
def test_any_bytes_are_captured_without_raising(subject: str, data: bytes, limit: int) -> None:
    """Arbitrary bytes on an arbitrary subject are captured and logged as JSON."""
    result = capture(subject, "", data, None, limit)
    assert result.level in ("INFO", "WARNING", "ERROR")
    logged_line(result.level, result.fields)


@given(value=json_values, limit=st.integers(1, 4096))
def test_any_json_is_captured_without_raising(value: Any, limit: int) -> None:
    """Arbitrary JSON values are captured and logged as JSON."""
    data = json.dumps(value).encode()
    result = capture("json.any", "", data, None, limit)
    assert result.level in ("INFO", "ERROR")
    logged_line(result.level, result.fields)


@given(depth=st.integers(0, 3000), opener=st.sampled_from([b"[", b'{"k":']))
def test_any_nesting_is_captured_without_raising(depth: int, opener: bytes) -> None:
    """JSON nested to any depth is captured and logged as JSON."""
    closer = b"]" if opener == b"[" else b"}"
    data = opener * depth + b"1" + closer * depth
    result = capture("deep", "", data, None, LIMIT)
    logged_line(result.level, result.fields)


@pytest.mark.parametrize(
    ("subject", "ignored"),
    [
        ("_INBOX.abc.1", True),
        ("$JS.API.STREAM.INFO.orders", True),
        ("$JS.ACK.orders.x", False),
        ("$SRV.STATS", True),
        ("$SRV.PING.nats-pubsub-gateway.abc", True),
        ("events.test", False),
        ("_INBOX", False),
    ],
)
def test_default_ignore_list(subject: str, ignored: bool) -> None:
    """By default inbox replies, JetStream API calls and service API discovery are ignored,
    nothing else."""
    assert is_ignored(subject, DEFAULT_IGNORE) is ignored


def test_sampling_logs_one_in_n() -> None:
    """With sample rate 5, the 1st, 6th, 11th... messages are logged."""
    logged = [i for i in range(12) if should_log("INFO", i, 5, False)]
    assert logged == [0, 5, 10]


def test_sampling_never_drops_errors() -> None:
    """ERROR messages are logged whatever the sample rate."""
    assert all(should_log("ERROR", i, 100, False) for i in range(10))


def test_errors_only_drops_info_and_warnings() -> None:
    """With errors-only, only ERROR messages are logged."""
    assert should_log("ERROR", 3, 1, True)
    assert not should_log("INFO", 0, 1, True)
    assert not should_log("WARNING", 0, 1, True)


def test_stats_report_top_subjects_and_other() -> None:
    """The metrics list the busiest subjects and sum the rest as other."""
    stats = SubjectStats(started=0.0)
    for name, times in (("a", 5), ("b", 3), ("c", 2), ("d", 1)):
        for _ in range(times):
            stats.add(name, 10, "ERROR" if name == "d" else "INFO")
    snap = stats.snapshot(top=2, now=10.0)
    assert snap["subjects"] == [
        {"subject": "a", "messages": 5, "bytes": 50},
        {"subject": "b", "messages": 3, "bytes": 30},
    ]
    assert snap["other"] == {"messages": 3, "bytes": 30}
    assert (snap["total_messages"], snap["total_bytes"], snap["errors"]) == (11, 110, 1)
    assert snap["messages_per_second"] == 1.1


def test_stats_bound_the_subjects_tracked() -> None:
    """Past `max_tracked` distinct names, new subjects are counted only under other."""
    stats = SubjectStats(max_tracked=3, started=0.0)
    for n in range(100):
        stats.add(f"s.{n}", 1, "INFO")
    snap = stats.snapshot(top=10, now=1.0)
    assert snap["distinct_subjects"] == 3
    assert len(snap["subjects"]) == 3
    assert snap["other"] == {"messages": 97, "bytes": 97}
    assert snap["total_messages"] == 100


def test_stats_counters_for_the_service_api() -> None:
    stats = SubjectStats(started=0.0)
    stats.add("a", 10, "INFO")
    stats.add("b", 5, "ERROR")
    stats.logged, stats.ignored = 2, 7
    assert stats.counters() == {
        "captured": 2,
        "captured_bytes": 15,
        "logged": 2,
        "ignored": 7,
        "errors": 1,
        "warnings": 0,
        "subjects": 2,
    }
