"""The protobuf routes: `application/x-protobuf` in and out, the upstream's four.

Malformed bodies are 400 `{"error": "Invalid protobuf format", "details": ...}` (also for the
user and payment events, which the upstream answered with 500).
"""

from __future__ import annotations

import uuid
from typing import Final

import msgspec

from nats_pubsub.connection.js_reading import last_messages
from nats_pubsub.domain.timeutil import format_ns, now_ns
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.api_messages import publish_stored, resolve_read
from nats_pubsub.gateway.asgi import PROTOBUF, Request, Response
from nats_pubsub.gateway.protocodec import (
    Stored,
    fetch_response,
    parse_payment_event,
    parse_publish,
    parse_user_event,
    publish_ack,
)
from nats_pubsub.gateway.publishing import envelope
from nats_pubsub.gateway.state import Gateway

__all__ = ["proto_fetch", "proto_payment_event", "proto_publish", "proto_user_event"]

_NOSNIFF: Final = [(b"x-content-type-options", b"nosniff")]
_FETCH_TIMEOUT: Final = 5
_encode = msgspec.json.encode


def _protobuf(body: bytes) -> Response:
    return Response(200, body, PROTOBUF, list(_NOSNIFF))


async def _store(gw: Gateway, subject: str, message_id: str, source: str, data: bytes) -> Response:
    stamp = now_ns()
    payload = envelope(message_id, format_ns(stamp), source, data)
    ack = await publish_stored(gw, subject, payload, message_id)
    return _protobuf(publish_ack(subject, ack.stream, ack.sequence, stamp))


async def proto_publish(gw: Gateway, req: Request) -> Response:
    """`POST /api/proto/protobufmessages/{subject}`: a `PublishMessage` in, a `PublishAck` out."""
    subject = validation.publish_subject(req.params["subject"])
    msg = parse_publish(req.body)
    message_id = msg.message_id or str(uuid.uuid4())
    return await _store(gw, subject, message_id, msg.source or "protobuf-gateway", msg.data)


async def proto_fetch(gw: Gateway, req: Request) -> Response:
    """`GET /api/proto/protobufmessages/{subject}?limit=10`: a `FetchResponse`."""
    subject = validation.filter_subject(req.params["subject"])
    limit = validation.limit(req.query)
    conn, api, _ = gw.need()
    stream = await resolve_read(gw, subject)
    found = await last_messages(conn, api, stream, subject, limit, _FETCH_TIMEOUT)
    stored = (Stored(m.subject, m.seq, m.time_ns, m.data) for m in found)
    return _protobuf(fetch_response(subject, stream, stored))


async def proto_user_event(gw: Gateway, req: Request) -> Response:
    """`POST .../{subject}/user-event`: a `UserEvent`, stored as JSON from `user-service`."""
    subject = validation.publish_subject(req.params["subject"])
    event = parse_user_event(req.body)
    return await _store(gw, subject, str(uuid.uuid4()), "user-service", _encode(event))


async def proto_payment_event(gw: Gateway, req: Request) -> Response:
    """`POST .../{subject}/payment-event`: a `PaymentEvent`, stored as JSON from
    `payment-service`, its transaction id as the message id (a resend is stored once)."""
    subject = validation.publish_subject(req.params["subject"])
    transaction_id, event = parse_payment_event(req.body)
    message_id = transaction_id or str(uuid.uuid4())
    return await _store(gw, subject, message_id, "payment-service", _encode(event))
