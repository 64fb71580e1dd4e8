"""Routes for messages: publish (acked by JetStream), fetch the last N, fetch from a durable.

Publishing needs no lookup first: the message goes straight to JetStream, and only when no
stream stores its subject is one created (the upstream's auto-created `<token>` on `<token>.>`)
and the publish repeated. Reads never create streams.
"""

from __future__ import annotations

import uuid

import msgspec

from nats_pubsub.connection.js_reading import Fetched, last_messages, pull_durable
from nats_pubsub.connection.pub_ack import PubAckInfo
from nats_pubsub.domain.timeutil import format_ns, now_timestamp
from nats_pubsub.errors import JetStreamError, StreamNotFound, StreamSubjectsOverlap
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.asgi import Request, Response, error, json_response
from nats_pubsub.gateway.models import (
    FetchedMessage,
    FetchResponse,
    PublishRequest,
    PublishResponse,
)
from nats_pubsub.gateway.publishing import envelope
from nats_pubsub.gateway.state import Gateway
from nats_pubsub.gateway.stream_rules import auto_stream_config, resolve_filter, resolve_publish

__all__ = [
    "fetch",
    "fetch_durable",
    "fetched_message",
    "publish",
    "publish_stored",
    "resolve_read",
]

_decode_publish = msgspec.json.Decoder(PublishRequest).decode
_decode_any = msgspec.json.decode
DEFAULT_SOURCE = "http-gateway"


def parse_publish(body: bytes) -> PublishRequest | Response:
    """The publish body, or the 400 saying why it is not one (an empty body is all defaults)."""
    if not body.strip():
        return PublishRequest()
    try:
        return _decode_publish(body)
    except msgspec.ValidationError as exc:
        return error(400, f"Invalid request body: {exc}")
    except msgspec.DecodeError as exc:
        return error(400, f"Invalid JSON body: {exc}")


async def publish_stored(gw: Gateway, subject: str, payload: bytes, msg_id: str) -> PubAckInfo:
    """Publish through JetStream; when no stream stores `subject`, create one and publish again."""
    _, api, publisher = gw.need()
    try:
        return await publisher.publish(subject, payload, msg_id)
    except JetStreamError:
        if resolve_publish(subject, await gw.streams(fresh=True)) is not None:
            raise  # a stream stores it: the failure was something else
    config = auto_stream_config(subject)
    gw.log.info("Creating stream", stream=config["name"], subjects=config["subjects"])
    try:
        await api.create_stream(config)
    except StreamSubjectsOverlap as exc:
        raise StreamSubjectsOverlap(
            f"no stream stores '{subject}', and a stream '{config['name']}' on "
            f"'{config['subjects'][0]}' would overlap an existing one ({exc}); create a stream "
            "for this subject first",
            err_code=exc.err_code,
            status=409,
        ) from exc
    except JetStreamError as exc:
        if "already in use" not in str(exc):  # created meanwhile by another request
            raise
    gw.forget_streams()
    gw.log.info("Stream created", stream=config["name"], subjects=config["subjects"])
    return await publisher.publish(subject, payload, msg_id)


async def publish(gw: Gateway, req: Request) -> Response:
    """`POST /api/messages/{subject}`: store the envelope in JetStream, answer with its ack."""
    subject = validation.publish_subject(req.params["subject"])
    body = parse_publish(req.body)
    if isinstance(body, Response):
        return body
    message_id = body.message_id or str(uuid.uuid4())
    timestamp = now_timestamp()
    payload = envelope(message_id, timestamp, body.source or DEFAULT_SOURCE, bytes(body.data))
    ack = await publish_stored(gw, subject, payload, message_id)
    return json_response(
        PublishResponse(
            published=True,
            subject=subject,
            stream=ack.stream,
            sequence=ack.sequence,
            timestamp=timestamp,
            message_id=message_id,
            duplicate=ack.duplicate,
        )
    )


def payload_value(data: bytes) -> object:
    """A stored payload as JSON when it is JSON, else as text."""
    try:
        return _decode_any(data)
    except msgspec.DecodeError:
        return data.decode("utf-8", "replace")


def fetched_message(msg: Fetched) -> FetchedMessage:
    """One message of a fetch answer."""
    return FetchedMessage(
        subject=msg.subject,
        sequence=msg.seq,
        timestamp=format_ns(msg.time_ns) if msg.time_ns else "",
        data=payload_value(msg.data),
        size_bytes=len(msg.data),
    )


async def resolve_read(gw: Gateway, subject: str) -> str:
    """The stream to read `subject` (a filter) from; StreamNotFound when none stores it."""
    resolution = resolve_filter(subject, await gw.streams())
    if resolution.stream is None:
        resolution = resolve_filter(subject, await gw.streams(fresh=True))
    if resolution.stream is None:
        if resolution.problem and "spans" in resolution.problem:
            raise validation.Invalid(resolution.problem)
        raise StreamNotFound(resolution.problem or f"No stream stores '{subject}'")
    return resolution.stream


async def fetch(gw: Gateway, req: Request) -> Response:
    """`GET /api/messages/{subject}?limit&timeout`: the last `limit` messages on a filter."""
    subject = validation.filter_subject(req.params["subject"])
    limit, timeout = validation.limit(req.query), validation.timeout(req.query)
    conn, api, _ = gw.need()
    stream = await resolve_read(gw, subject)
    found = await last_messages(conn, api, stream, subject, limit, timeout)
    gw.log.debug("Fetched messages", subject=subject, stream=stream, count=len(found))
    messages = [fetched_message(m) for m in found]
    return json_response(FetchResponse(subject, len(messages), messages, stream))


async def fetch_durable(gw: Gateway, req: Request) -> Response:
    """`GET /api/messages/{stream}/consumer/{consumer}`: the next messages of a pull consumer,
    acknowledged."""
    stream = validation.name(req.params["stream"], "stream")
    consumer = validation.name(req.params["consumer"], "consumer")
    limit, timeout = validation.limit(req.query), validation.timeout(req.query)
    conn, api, _ = gw.need()
    found = await pull_durable(conn, api, stream, consumer, limit, timeout)
    messages = [fetched_message(m) for m in found]
    return json_response(FetchResponse("", len(messages), messages, stream))
