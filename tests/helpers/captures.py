"""What the message logger's tests feed it: a payment, an event, hostile payloads with the
level each should get, any JSON value, and a record written by the real logger."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import strategies as st

from nats_pubsub.logs.logger import Logger, LogSink

LIMIT = 4096
TXN = {
    "transaction_id": "TXN-pay-3",
    "status": "declined",
    "decline_reason": "card_expired",
    "amount": 49.99,
    "card_type": "Visa",
}
EVENT = {
    "message_id": "pub-1",
    "data": {"event_type": "user.login", "status": "success", "value": 3},
}
GARBAGE: list[tuple[str, bytes, str]] = [
    ("empty", b"", "INFO"),
    ("white space", b"  \n\t", "INFO"),
    ("plain text", b"hello world", "INFO"),
    ("invalid utf-8", b"\xff\xfe\x00\x80", "WARNING"),
    ("random binary", bytes(range(256)) * 4, "WARNING"),
    ("truncated json", b'{"transaction_id": "TXN-1", "sta', "WARNING"),
    ("json with trailing junk", b'{"a": 1} junk', "WARNING"),
    ("json array", b"[1, 2, 3]", "INFO"),
    ("json number", b"42", "INFO"),
    ("json string", b'"status"', "INFO"),
    ("json null", b"null", "INFO"),
    ("huge integer", b"1" * 5000, "INFO"),
    ("number out of range", b"1e400", "INFO"),
    ("nested 100 deep", b"[" * 100 + b"]" * 100, "INFO"),
    ("nested 5000 deep", b"[" * 5000 + b"]" * 5000, "WARNING"),
    ("object nested 5000 deep", b'{"a":' * 5000 + b"1" + b"}" * 5000, "WARNING"),
    ("lone surrogate escape", b'{"status": "\\ud800"}', "WARNING"),
    ("byte order mark", b'\xef\xbb\xbf{"a": 1}', "WARNING"),
    ("nul bytes", b"\x00" * 64, "INFO"),
    ("status not a string", b'{"status": ["declined"]}', "INFO"),
    ("data not an object", b'{"data": "declined", "status": 7}', "INFO"),
    ("huge json", json.dumps({"status": "failed", "blob": "x" * 1_000_000}).encode(), "ERROR"),
    ("huge binary", b"\xff" * 1_000_000, "WARNING"),
]


def logged_line(level: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Write one record with the real Logger and read the JSON line back."""
    stream = io.BytesIO()
    Logger("test", LogSink(stream), level="DEBUG").log(level, "Message captured", fields)
    record: dict[str, Any] = json.loads(stream.getvalue())
    return record


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)
