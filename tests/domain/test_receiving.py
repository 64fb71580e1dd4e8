"""Tests for nats_pubsub.domain.receiving: inspecting delivered messages and rejection records."""

from __future__ import annotations

import pytest

from nats_pubsub.domain.receiving import (
    inspect_message,
    is_payment_subject,
    preview,
    rejection_fields,
)
from nats_pubsub.errors import InvalidMessageError
from tests.helpers.messages import EVENT, PAYMENT, SENT_NS, encode


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("payments.card", True), ("payments.a.b", True), ("payments", False), ("events.x", False)],
)
def test_is_payment_subject(subject: str, expected: bool) -> None:
    """Only subjects starting with 'payments.' carry payment transactions."""
    assert is_payment_subject(subject) is expected


def test_inspect_event_fields() -> None:
    """An event on an events subject yields its Message received fields."""
    data = encode(EVENT)
    accepted = inspect_message("events.test", data, "", SENT_NS + 2_500_000)
    assert accepted.fields == {
        "message_id": "pub-3",
        "subject": "events.test",
        "source": "pub",
        "sequence": 3,
        "event_type": "order.created",
        "size_bytes": len(data),
        "latency_ms": 2.5,
        "reply_to": None,
    }
    assert accepted.latency_ms == 2.5
    assert accepted.unknown_fields == ()


def test_inspect_event_keeps_reply_subject() -> None:
    """A non-empty reply subject is reported as reply_to."""
    accepted = inspect_message("events.test", encode(EVENT), "_INBOX.abc", SENT_NS)
    assert accepted.fields["reply_to"] == "_INBOX.abc"


@pytest.mark.parametrize(
    ("delta_ns", "latency_ms"),
    [(0, 0.0), (1_234_567, 1.235), (-3_000_000, -3.0), (60 * 10**9, 60_000.0)],
)
def test_inspect_latency_from_now_ns(delta_ns: int, latency_ms: float) -> None:
    """latency_ms is now_ns minus the message timestamp, in ms rounded to 3 decimals."""
    accepted = inspect_message("events.test", encode(EVENT), "", SENT_NS + delta_ns)
    assert accepted.latency_ms == latency_ms
    assert accepted.fields["latency_ms"] == latency_ms


def test_inspect_event_reports_unknown_fields() -> None:
    """Unknown fields a peer sent are passed on to the caller."""
    message = {**EVENT, "trace_id": "t-1"}
    accepted = inspect_message("events.test", encode(message), "", SENT_NS)
    assert accepted.unknown_fields == ("trace_id",)


def test_inspect_payment_fields() -> None:
    """A transaction on a payments subject yields payment fields."""
    data = encode(PAYMENT)
    accepted = inspect_message("payments.card", data, "reply.me", SENT_NS + 1_000_000)
    assert accepted.fields == {
        "kind": "payment",
        "transaction_id": "txn-9",
        "subject": "payments.card",
        "source": "pay",
        "status": "declined",
        "amount": 19.99,
        "size_bytes": len(data),
        "latency_ms": 1.0,
        "reply_to": "reply.me",
    }


def test_inspect_event_on_payment_subject_is_invalid() -> None:
    """An event sent to a payments subject does not decode as a transaction."""
    with pytest.raises(InvalidMessageError) as info:
        inspect_message("payments.card", encode(EVENT), "", SENT_NS)
    assert info.value.reason == "schema"


def test_inspect_payment_on_event_subject_is_invalid() -> None:
    """A transaction sent to an events subject does not decode as an event."""
    with pytest.raises(InvalidMessageError) as info:
        inspect_message("events.test", encode(PAYMENT), "", SENT_NS)
    assert info.value.reason == "schema"


def test_rejection_fields() -> None:
    """An Invalid message record carries subject, reason, detail, size and a preview."""
    data = b"not json at all"
    exc = InvalidMessageError("not_json", "JSON is malformed")
    assert rejection_fields("events.test", data, exc) == {
        "subject": "events.test",
        "reason": "not_json",
        "error": "JSON is malformed",
        "size_bytes": 15,
        "preview": "not json at all",
    }


def test_preview_short_payload_unchanged() -> None:
    """A payload of at most 120 characters is shown whole, without an ellipsis."""
    assert preview(b"x" * 120) == "x" * 120


def test_preview_truncates_with_ellipsis() -> None:
    """A longer payload is cut to 120 characters followed by an ellipsis."""
    assert preview(b"y" * 500) == "y" * 120 + "…"


def test_preview_custom_limit() -> None:
    """The limit can be chosen."""
    assert preview(b"abcdef", limit=3) == "abc…"


def test_preview_escapes_invalid_utf8() -> None:
    """Bytes that are not UTF-8 appear as backslash escapes."""
    assert preview(b"ok\xff\xfe") == "ok\\xff\\xfe"


def test_preview_keeps_multibyte_characters() -> None:
    """Valid multi-byte UTF-8 characters are shown as characters."""
    assert preview("héllo €".encode()) == "héllo €"


def test_preview_truncated_four_byte_characters_get_ellipsis() -> None:
    """A payload of 121 four-byte characters is truncated, so it ends with an ellipsis."""
    assert preview("😀".encode() * 121) == "😀" * 120 + "…"
