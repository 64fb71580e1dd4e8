"""End to end: what the subscriber makes of input our publisher would never send."""

from __future__ import annotations

import msgspec
import pytest

from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, publish_raw

pytestmark = pytest.mark.e2e


def _event(seq: int, timestamp: str, source: str = "peer", **extra: object) -> bytes:
    message = {
        "message_id": f"{source}-{seq}",
        "timestamp": timestamp,
        "source": source,
        "sequence": seq,
        "data": {
            "event_type": "user.login",
            "value": 7,
            "status": "success",
            "description": f"User login event #{seq}",
        },
        **extra,
    }
    return msgspec.json.encode(message)


GARBAGE = [
    (b"", "not_json"),
    (b"not json at all", "not_json"),
    (b"[1, 2, 3]", "not_object"),
    (b"42", "not_object"),
    (b'"just a string"', "not_object"),
    (b"\xff\xfe\x00garbage", "bad_utf8"),
    (b'{"message_id": "\xff\xfe"}', "bad_utf8"),
    (b'{"message_id": "x-1"}', "schema"),
    (_event(0, "2025-10-08T15:30:45Z"), "schema"),
    (_event(3, "2025-10-08T15:30:45Z").replace(b'"peer-3"', b'"peer-4"'), "bad_message_id"),
    (_event(5, "2025-10-08"), "bad_timestamp"),
    (_event(6, "2025-10-08T15:30:45"), "bad_timestamp"),
]


def test_invalid_payloads_are_counted_and_survived(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Every kind of bad payload gets one ERROR record with its reason; valid ones still flow."""
    sub = run_cli("subscribe", "--subject", subject, url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    good = _event(1, now_timestamp())
    publish_raw(nats_server.url, subject, [payload for payload, _ in GARBAGE] + [good])
    sub.logs.wait_for("Message received")
    invalid = sub.logs.wait_for("Invalid message", count=len(GARBAGE))
    assert [r["reason"] for r in invalid] == [reason for _, reason in GARBAGE]
    assert all(r["level"] == "ERROR" and r["subject"] == subject for r in invalid)
    sub.signal()
    assert sub.wait() == 0, sub.output()
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    assert final["total_errors"] == len(GARBAGE)
    assert final["valid_messages"] == 1


@pytest.mark.parametrize(
    "timestamp",
    [
        "2025-10-08T15:30:45Z",
        "2025-10-08T15:30:45.1Z",
        "2025-10-08T15:30:45.123Z",
        "2025-10-08T15:30:45.1234567Z",
        "2025-10-08T15:30:45.123456789+02:00",
        "2025-10-08T15:30:45.123456-05:30",
        "2025-10-08T15:30:45+0000",
    ],
)
def test_foreign_timestamp_formats_are_accepted(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str, timestamp: str
) -> None:
    """Timestamps as C#, Go and JavaScript peers write them are valid."""
    sub = run_cli(
        "subscribe", "--subject", subject, "--count", "1", "--timeout", "30", url=nats_server.url
    )
    sub.logs.wait_for("Subscribed")
    publish_raw(nats_server.url, subject, [_event(9, timestamp)])
    assert sub.wait() == 0, sub.output()
    assert sub.logs.where("Message received", message_id="peer-9")


def test_unknown_fields_warned_once_per_name(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Extra fields are accepted, with one WARNING per field name, not per message."""
    sub = run_cli(
        "subscribe", "--subject", subject, "--count", "3", "--timeout", "30", url=nats_server.url
    )
    sub.logs.wait_for("Subscribed")
    now = now_timestamp()
    publish_raw(nats_server.url, subject, [_event(n, now, trace_id="t") for n in (1, 2, 3)])
    assert sub.wait() == 0, sub.output()
    assert len(sub.logs.where("Message received")) == 3
    assert [r["fields"] for r in sub.logs.where("Unknown field in message")] == [["trace_id"]]


def test_timeout_without_count_reached_exits_1(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """--timeout gives up with exit 1 and a clear record when --count was not reached."""
    sub = run_cli(
        "subscribe", "--subject", subject, "--count", "5", "--timeout", "1", url=nats_server.url
    )
    assert sub.wait() == 1, sub.output()
    records = sub.logs.where("Timed out before --count was reached", received=0, expected=5)
    assert [(r["module"], r["function"]) for r in records] == [("subscriber", "run_subscriber")]


def test_payments_are_their_own_valid_kind(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """A payment transaction on payments.> is received as a payment, not an invalid event."""
    sub = run_cli(
        "subscribe",
        "--subject",
        "payments.>",
        "--count",
        "1",
        "--timeout",
        "30",
        url=nats_server.url,
    )
    sub.logs.wait_for("Subscribed")
    txn = {
        "transaction_id": "TXN-cs-1",
        "timestamp": now_timestamp(),
        "source": "cs",
        "card_type": "Visa",
        "last_four": "4242",
        "amount": 49.99,
        "currency": "USD",
        "status": "declined",
        "decline_reason": "card_expired",
        "merchant_id": "MERCH-0001",
        "decline_code": "ERR-054",
    }
    publish_raw(nats_server.url, "payments.credit_card.declined", [msgspec.json.encode(txn)])
    assert sub.wait() == 0, sub.output()
    received = sub.logs.where("Message received")[0]
    assert received["kind"] == "payment"
    assert received["transaction_id"] == "TXN-cs-1"
    assert not sub.logs.where("Invalid message")
