"""Protobuf in and out (`proto/message.proto`): parse request bodies, build answers and frames.

The generated module `proto/message_pb2.py` is checked in; the test suite regenerates it and
checks it still matches the `.proto`. Parse failures are `validation.Invalid` (answered 400).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any, Final, NamedTuple

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError

from nats_pubsub.gateway.proto import message_pb2 as pb
from nats_pubsub.gateway.validation import Invalid

__all__ = [
    "CONTROL_CLOSE",
    "CONTROL_ERROR",
    "CONTROL_SUBSCRIBE_ACK",
    "ProtoPublish",
    "control_frame",
    "fetch_response",
    "message_frame",
    "parse_payment_event",
    "parse_publish",
    "parse_user_event",
    "publish_ack",
]

CONTROL_ERROR: Final = pb.ERROR
CONTROL_CLOSE: Final = pb.CLOSE
CONTROL_SUBSCRIBE_ACK: Final = pb.SUBSCRIBE_ACK
CONTROL_KEEPALIVE: Final = pb.KEEPALIVE
_NS: Final = 1_000_000_000


class ProtoPublish(NamedTuple):
    """What a protobuf publish carries: message id (may be empty), source, data as a JSON value."""

    message_id: str
    source: str
    data: bytes  # a JSON string literal holding the base64 of the raw bytes


def _parse(kind: Any, body: bytes) -> Any:
    if not body:
        raise Invalid("Request body is empty")
    message = kind()
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise Invalid("Invalid protobuf format", str(exc) or "not a protobuf message") from None
    return message


def parse_publish(body: bytes) -> ProtoPublish:
    """A `PublishMessage` body; its `data` bytes are stored as a base64 string, as upstream."""
    msg = _parse(pb.PublishMessage, body)
    data = b'"%b"' % base64.b64encode(msg.data)
    return ProtoPublish(msg.message_id, msg.source, data)


def parse_user_event(body: bytes) -> dict[str, Any]:
    """A `UserEvent` body as a JSON object (protobuf's JSON mapping, field names as declared)."""
    fields: dict[str, Any] = MessageToDict(
        _parse(pb.UserEvent, body), preserving_proto_field_name=True
    )
    return fields


def parse_payment_event(body: bytes) -> tuple[str, dict[str, Any]]:
    """A `PaymentEvent` body: its transaction id and the event as a JSON object."""
    msg = _parse(pb.PaymentEvent, body)
    fields: dict[str, Any] = MessageToDict(msg, preserving_proto_field_name=True)
    return str(msg.transaction_id), fields


def _timestamp(target: Any, epoch_ns: int) -> None:
    target.seconds, target.nanos = divmod(epoch_ns, _NS)


def publish_ack(subject: str, stream: str, sequence: int, epoch_ns: int) -> bytes:
    """A `PublishAck`."""
    ack = pb.PublishAck(published=True, subject=subject, stream=stream, sequence=sequence)
    _timestamp(ack.timestamp, epoch_ns)
    return bytes(ack.SerializeToString())


class Stored(NamedTuple):
    """A stored message for a protobuf answer."""

    subject: str
    seq: int
    time_ns: int
    data: bytes


def fetch_response(subject: str, stream: str, messages: Iterable[Stored]) -> bytes:
    """A `FetchResponse`: each message's data is its stored payload, `stream` set on each."""
    out = pb.FetchResponse(subject=subject, stream=stream)
    for m in messages:
        item = out.messages.add(
            subject=m.subject, sequence=m.seq, data=m.data, size_bytes=len(m.data), stream=stream
        )
        _timestamp(item.timestamp, m.time_ns)
    out.count = len(out.messages)
    return bytes(out.SerializeToString())


def message_frame(
    subject: str, seq: int, epoch_ns: int, data: bytes, stream: str, consumer: str = ""
) -> bytes:
    """A `WebSocketFrame` of type MESSAGE (the upstream left `stream` empty; it is set here)."""
    frame = pb.WebSocketFrame(type=pb.MESSAGE)
    msg = frame.message
    msg.subject, msg.sequence, msg.data = subject, seq, data
    msg.size_bytes, msg.stream, msg.consumer = len(data), stream, consumer
    _timestamp(msg.timestamp, epoch_ns)
    return bytes(frame.SerializeToString())


def control_frame(kind: Any, text: str, code: int = 0) -> bytes:
    """A `WebSocketFrame` of type CONTROL (`code`: messages missed, for a lag notice)."""
    frame = pb.WebSocketFrame(type=pb.CONTROL)
    frame.control.type, frame.control.message, frame.control.code = kind, text, code
    return bytes(frame.SerializeToString())
