"""Routes about the gateway itself: index, health (upstream shape and probes), metrics, and
request/reply over NATS."""

from __future__ import annotations

from typing import Final

import msgspec

from nats_pubsub.connection.requesting import Reply
from nats_pubsub.connection.requesting import request as nats_request
from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.asgi import Request, Response, error, json_response
from nats_pubsub.gateway.models import HealthResponse, IndexResponse, ReadyResponse
from nats_pubsub.gateway.state import Gateway

__all__ = ["health", "healthz", "index", "metrics", "readyz", "request_reply"]

NAME: Final = "NATS HTTP Gateway"
_HEADER_PREFIX: Final = b"nats-"
_REPLY_SUBJECT: Final = b"x-nats-subject"


async def index(gw: Gateway, req: Request) -> Response:
    """`GET /api`: name, version, and every route."""
    return json_response(IndexResponse(NAME, gw.version, list(gw.route_list)))


async def health(gw: Gateway, req: Request) -> Response:
    """`GET /health`, the upstream's shape: always 200, `status` healthy or unhealthy."""
    conn = gw.connection
    connected = conn is not None and conn.is_connected
    js = connected and await gw.jetstream_available()
    return json_response(
        HealthResponse(
            status="healthy" if connected and js else "unhealthy",
            nats_connected=connected,
            nats_url=conn.connected_url if conn is not None else None,
            jetstream_available=js,
            timestamp=now_timestamp(),
        )
    )


async def healthz(gw: Gateway, req: Request) -> Response:
    """`GET /healthz`: the process answers."""
    return json_response({"status": "alive", "service": "gateway"})


async def readyz(gw: Gateway, req: Request) -> Response:
    """`GET /readyz`: 200 while connected to NATS, else 503 with the reason."""
    ready, reason = gw.ready()
    return json_response(ReadyResponse(ready, reason), 200 if ready else 503)


async def metrics(gw: Gateway, req: Request) -> Response:
    """`GET /metrics`: Prometheus text."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    if gw.registry is None:
        return error(503, "metrics are not set up yet")
    return Response(200, generate_latest(gw.registry), CONTENT_TYPE_LATEST.encode())


def _forwarded_headers(req: Request) -> dict[str, str] | None:
    """Request headers named `Nats-*` travel with the NATS request (e.g. Nats-Msg-Id)."""
    found = {
        key.decode("latin-1"): value.decode("latin-1")
        for key, value in req.headers
        if key.startswith(_HEADER_PREFIX)
    }
    return found or None


async def request_reply(gw: Gateway, req: Request) -> Response:
    """`POST /api/request/{subject}?timeout=`: the body as a NATS request; the reply's payload
    as the answer (JSON when it is JSON), 504 when none came in time, 503 with no responders."""
    subject = validation.publish_subject(req.params["subject"])
    timeout = validation.request_timeout(req.query)
    conn, _, _ = gw.need()
    reply = await nats_request(conn, subject, req.body, timeout, _forwarded_headers(req))
    return Response(
        200, reply.data, _content_type(reply.data, reply.headers), _reply_headers(reply)
    )


def _content_type(data: bytes, headers: dict[str, str] | None) -> bytes:
    """The reply's own Content-Type header, else JSON when it parses as JSON, else bytes."""
    for key, value in (headers or {}).items():
        if key.lower() == "content-type":
            return str(value).encode("latin-1")
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return b"application/octet-stream"
    return b"application/json"


def _reply_headers(reply: Reply) -> list[tuple[bytes, bytes]]:
    """The reply's subject, and its `Nats-*` headers, as HTTP headers."""
    headers = [(_REPLY_SUBJECT, reply.subject.encode())]
    for key, value in (reply.headers or {}).items():
        if key.lower().startswith("nats-"):
            headers.append((key.lower().encode("latin-1"), str(value).encode("latin-1")))
    return headers
