"""How a live message or notice looks on the wire, pure: binary protobuf frames, JSON frames
(`?format=json`), and Server-Sent Events (`id:` = the stream sequence, for Last-Event-ID)."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.gateway.live import LiveItem
from nats_pubsub.gateway.models import LiveControl, LiveFrame, LiveMessage
from nats_pubsub.gateway.protocodec import (
    CONTROL_CLOSE,
    CONTROL_ERROR,
    CONTROL_KEEPALIVE,
    CONTROL_SUBSCRIBE_ACK,
    control_frame,
    message_frame,
)

__all__ = [
    "KEEPALIVE_COMMENT",
    "control",
    "json_data",
    "json_frame",
    "proto_frame",
    "sse_control",
    "sse_message",
]

KEEPALIVE_COMMENT: Final = b": keep-alive\n\n"
_CONTROL_KINDS: Final = {
    "subscribe_ack": CONTROL_SUBSCRIBE_ACK,
    "error": CONTROL_ERROR,
    "close": CONTROL_CLOSE,
    "lag": CONTROL_ERROR,
    "keepalive": CONTROL_KEEPALIVE,
}
_encode = msgspec.json.encode
_decode = msgspec.json.decode


def json_data(data: bytes) -> Any:
    """A payload for a JSON frame or event: itself when it is JSON (embedded as is), else text."""
    try:
        _decode(data)
    except msgspec.DecodeError:
        return data.decode("utf-8", "replace")
    return msgspec.Raw(data)


def _live_message(item: LiveItem, consumer: str) -> LiveMessage:
    return LiveMessage(
        subject=item.subject,
        sequence=item.seq,
        timestamp=format_ns(item.time_ns),
        data=json_data(item.data),
        size_bytes=len(item.data),
        stream=item.stream,
        consumer=consumer,
    )


def proto_frame(item: LiveItem, consumer: str = "") -> bytes:
    """A binary `WebSocketFrame` carrying the message."""
    return message_frame(item.subject, item.seq, item.time_ns, item.data, item.stream, consumer)


def json_frame(item: LiveItem, consumer: str = "") -> str:
    """A JSON text frame `{"type":"message","message":{...}}`."""
    return _encode(LiveFrame("message", message=_live_message(item, consumer))).decode()


def control(kind: str, text: str, missed: int = 0, *, as_json: bool) -> bytes | str:
    """A control notice (`subscribe_ack`, `error`, `lag`, `close`) as a frame of either kind.

    A lag notice is, in protobuf, an ERROR control whose `code` is the number missed.
    """
    if as_json:
        notice = LiveControl(kind, text, missed if kind == "lag" else None)
        return _encode(LiveFrame("control", control=notice)).decode()
    return control_frame(_CONTROL_KINDS[kind], text, missed)


def sse_message(item: LiveItem) -> bytes:
    """One Server-Sent Event for a message: `id` is its stream sequence."""
    return b"id: %d\nevent: message\ndata: %b\n\n" % (
        item.seq,
        _encode(_live_message(item, "")),
    )


def sse_control(event: str, text: str, **fields: Any) -> bytes:
    """A Server-Sent Event for a notice (`subscribed`, `lag`, `error`, `end`)."""
    return b"event: %b\ndata: %b\n\n" % (event.encode(), _encode({"message": text, **fields}))
