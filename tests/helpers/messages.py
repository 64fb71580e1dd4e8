"""An event and a payment as dicts, the time they were sent, and their JSON bytes (the receiving
tests and the subscriber's two paths)."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from nats_pubsub.domain.timeutil import parse_timestamp_ns

STAMP = "2024-05-06T07:08:09.000000Z"
SENT_NS = parse_timestamp_ns(STAMP)
EVENT = {
    "message_id": "pub-3",
    "timestamp": STAMP,
    "source": "pub",
    "sequence": 3,
    "data": {
        "event_type": "order.created",
        "value": 9,
        "random_field": "gamma",
        "status": "success",
        "description": "Order created event #3",
    },
}
PAYMENT = {
    "transaction_id": "txn-9",
    "timestamp": STAMP,
    "source": "pay",
    "card_type": "visa",
    "last_four": "4242",
    "amount": 19.99,
    "currency": "USD",
    "status": "declined",
    "decline_reason": "expired_card",
    "decline_code": "54",
}


def encode(message: dict[str, Any]) -> bytes:
    """Compact JSON bytes for a message dict."""
    return json.dumps(message).encode()


def hostile_event(seq: int, source: str, timestamp: str, **extra: object) -> bytes:
    """A valid event from `source` (with `extra` top-level fields), as JSON bytes."""
    return msgspec.json.encode(
        {
            "message_id": f"{source}-{seq}",
            "timestamp": timestamp,
            "source": source,
            "sequence": seq,
            "data": {
                "event_type": "user.login",
                "value": 7,
                "status": "success",
                "description": "hostile",
            },
            **extra,
        }
    )
