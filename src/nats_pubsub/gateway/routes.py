"""Every route of the gateway, in one table: the router and the OpenAPI document both read it.

`/` and `/dashboard` are the live dashboard (docs/dashboard.md); `/api` is the API index.
"""

from __future__ import annotations

from typing import Final

import msgspec

from nats_pubsub.gateway import api_consumers as consumers
from nats_pubsub.gateway import api_messages as messages
from nats_pubsub.gateway import api_proto as proto
from nats_pubsub.gateway import api_replay
from nats_pubsub.gateway import api_service as service
from nats_pubsub.gateway import api_streams as streams
from nats_pubsub.gateway.admin_models import (
    ConsumerDetails,
    ConsumerHealth,
    ConsumerList,
    CreateConsumerRequest,
    DeleteResult,
    MetricsHistory,
    PeekResponse,
    ResetRequest,
    ResetResult,
    StreamList,
    StreamSubjects,
    StreamSummary,
    TemplateList,
)
from nats_pubsub.gateway.asgi import Request, Response, error
from nats_pubsub.gateway.dashboard import api as dashboard
from nats_pubsub.gateway.models import (
    ErrorBody,
    FetchResponse,
    HealthResponse,
    IndexResponse,
    PublishRequest,
    PublishResponse,
    ReadyResponse,
)
from nats_pubsub.gateway.openapi import DOCS_PAGE, docs_asset, openapi_document
from nats_pubsub.gateway.routing import QueryParam, Route
from nats_pubsub.gateway.sse import sse_stream
from nats_pubsub.gateway.state import Gateway
from nats_pubsub.gateway.ws import ws_consumer, ws_subject

__all__ = ["ROUTES", "build_routes"]

_PB: Final = "application/x-protobuf"
LIMIT = QueryParam("limit", "integer", "Messages, 1 to 100", 10)
TIMEOUT = QueryParam("timeout", "integer", "Seconds to wait for them, 1 to 30", 5)
FORMAT = QueryParam("format", "string", "`json` for JSON text frames (default: protobuf)")
NOT_FOUND = (404, ErrorBody)


async def openapi_json(gw: Gateway, req: Request) -> Response:
    """`GET /openapi.json`: this API's OpenAPI document."""
    document = openapi_document(ROUTES, gw.version)
    return Response(200, msgspec.json.encode(document))


async def docs(gw: Gateway, req: Request) -> Response:
    """`GET /docs`: interactive API docs (Swagger UI, served by the gateway)."""
    return Response(200, DOCS_PAGE, b"text/html; charset=utf-8")


async def docs_file(gw: Gateway, req: Request) -> Response:
    """A Swagger UI file for `/docs`."""
    asset = docs_asset(req.params["file"])
    if asset is None:
        return error(404, f"No file {req.params['file']!r} under /docs")
    content_type, body = asset
    return Response(200, body, content_type, [(b"cache-control", b"max-age=86400")])


def _r(method: str, template: str, handler: object, summary: str, tag: str, **kw: object) -> Route:
    return Route(method, template, handler, summary, tag, **kw)  # type: ignore[arg-type]


ROUTES: Final = (
    _r("GET", "/", dashboard.dashboard_page, "The live dashboard", "dashboard", public=True,
       responses=((200, "text/html"),)),
    _r("GET", "/dashboard", dashboard.dashboard_page, "The live dashboard", "dashboard",
       public=True, responses=((200, "text/html"),)),
    _r("GET", "/dashboard/{file}", dashboard.dashboard_asset, "The dashboard's files",
       "dashboard", public=True, hidden=True),
    _r("GET", "/api/dashboard/feed", dashboard.feed_stream,
       "The dashboard's data: a snapshot, then a tick a second (Server-Sent Events)", "dashboard",
       responses=((200, "text/event-stream"), (429, ErrorBody), (503, ErrorBody))),
    _r("GET", "/api/dashboard/tail", dashboard.tail_stream,
       "Sampled live messages on a filter (Server-Sent Events)", "dashboard",
       query=(QueryParam("subject", "string", "Subject filter, wildcards allowed", ">"),),
       responses=((200, "text/event-stream"), (429, ErrorBody), (503, ErrorBody))),
    _r("GET", "/api", service.index, "The API index", "service", responses=((200, IndexResponse),)),
    _r("GET", "/health", service.health, "Health, upstream shape", "service", public=True,
       responses=((200, HealthResponse),)),
    _r("GET", "/healthz", service.healthz, "Liveness probe", "service", public=True),
    _r("GET", "/readyz", service.readyz, "Readiness probe (503 while NATS is down)", "service",
       public=True, responses=((200, ReadyResponse), (503, ReadyResponse))),
    _r("GET", "/metrics", service.metrics, "Prometheus metrics", "service"),
    _r("GET", "/openapi.json", openapi_json, "This document", "service", hidden=True),
    # The docs page and Swagger UI's files are static (no data): open, so a browser can load
    # them; the page fetches /openapi.json with the ?access_token it was opened with.
    _r("GET", "/docs", docs, "Interactive docs", "service", hidden=True, public=True),
    _r("GET", "/docs/{file}", docs_file, "Docs assets", "service", hidden=True, public=True),
    _r("POST", "/api/messages/{subject}", messages.publish, "Publish a message", "messages",
       body=PublishRequest, responses=((200, PublishResponse), (409, ErrorBody), (503, ErrorBody))),
    _r("GET", "/api/messages/{subject}", messages.fetch, "The last messages on a subject filter",
       "messages", query=(LIMIT, TIMEOUT), responses=((200, FetchResponse), NOT_FOUND)),
    _r("GET", "/api/messages/{stream}/consumer/{consumer}", messages.fetch_durable,
       "Fetch (and ack) from a pull consumer", "messages", query=(LIMIT, TIMEOUT),
       responses=((200, FetchResponse), NOT_FOUND)),
    _r("GET", "/api/streams", streams.list_streams, "List streams", "streams",
       responses=((200, StreamList),)),
    _r("GET", "/api/streams/{name}", streams.stream_detail, "A stream", "streams",
       responses=((200, StreamSummary), NOT_FOUND)),
    _r("GET", "/api/replay/{stream}", api_replay.replay,
       "A stream's messages from a sequence or a time", "streams",
       query=(QueryParam("start", "string", "all, 42 / seq:42, since:15m, since:<RFC 3339>", "all"),
              QueryParam("subject", "string", "Subject filter", ">"),
              QueryParam("limit", "integer", "Messages, 1 to 100", 20)),
       responses=((200, api_replay.ReplayResponse), NOT_FOUND)),
    _r("GET", "/api/streams/{name}/subjects", streams.stream_subject_counts,
       "A stream's subjects", "streams", responses=((200, StreamSubjects), NOT_FOUND)),
    _r("GET", "/api/consumers/templates", consumers.templates, "Consumer templates", "consumers",
       responses=((200, TemplateList),)),
    _r("POST", "/api/consumers/{stream}", consumers.create, "Create a consumer", "consumers",
       body=CreateConsumerRequest, responses=((201, ConsumerDetails), NOT_FOUND, (409, ErrorBody))),
    _r("GET", "/api/consumers/{stream}", consumers.list_consumers, "List consumers", "consumers",
       responses=((200, ConsumerList), NOT_FOUND)),
    _r("GET", "/api/consumers/{stream}/{consumer}", consumers.get, "A consumer", "consumers",
       responses=((200, ConsumerDetails), NOT_FOUND)),
    _r("DELETE", "/api/consumers/{stream}/{consumer}", consumers.delete, "Delete a consumer",
       "consumers", responses=((200, DeleteResult), NOT_FOUND)),
    _r("GET", "/api/consumers/{stream}/{consumer}/health", consumers.health, "Consumer health",
       "consumers", responses=((200, ConsumerHealth), NOT_FOUND)),
    _r("GET", "/api/consumers/{stream}/{consumer}/messages", consumers.peek_messages,
       "Peek at a consumer's next messages", "consumers", query=(LIMIT,),
       responses=((200, PeekResponse), NOT_FOUND)),
    _r("POST", "/api/consumers/{stream}/{consumer}/reset", consumers.reset, "Reset a consumer",
       "consumers", body=ResetRequest, responses=((200, ResetResult), NOT_FOUND)),
    _r("GET", "/api/consumers/{stream}/{consumer}/metrics/history", consumers.history,
       "Consumer metrics history", "consumers",
       query=(QueryParam("samples", "integer", "Samples, 1 to 60", 10),),
       responses=((200, MetricsHistory), NOT_FOUND)),
    _r("POST", "/api/proto/protobufmessages/{subject}", proto.proto_publish,
       "Publish a PublishMessage", "protobuf", body=_PB, responses=((200, _PB),)),
    _r("GET", "/api/proto/protobufmessages/{subject}", proto.proto_fetch,
       "Fetch as a FetchResponse", "protobuf", query=(LIMIT,), responses=((200, _PB), NOT_FOUND)),
    _r("POST", "/api/proto/protobufmessages/{subject}/user-event", proto.proto_user_event,
       "Publish a UserEvent", "protobuf", body=_PB, responses=((200, _PB),)),
    _r("POST", "/api/proto/protobufmessages/{subject}/payment-event", proto.proto_payment_event,
       "Publish a PaymentEvent", "protobuf", body=_PB, responses=((200, _PB),)),
    _r("WS", "/ws/websocketmessages/{subject}", ws_subject, "Live messages (WebSocket)", "live",
       query=(FORMAT,)),
    _r("WS", "/ws/websocketmessages/{stream}/consumer/{consumer}", ws_consumer,
       "A consumer's messages (WebSocket)", "live", query=(FORMAT,)),
    _r("GET", "/api/stream/{subject}", sse_stream, "Live messages (Server-Sent Events)", "live",
       query=(QueryParam("last_event_id", "integer", "Resume after this sequence"),),
       responses=((200, "text/event-stream"), NOT_FOUND, (429, ErrorBody))),
    _r("POST", "/api/request/{subject}", service.request_reply, "Request/reply", "messages",
       body="application/octet-stream",
       query=(QueryParam("timeout", "number", "Seconds to wait for the reply", 5),),
       responses=((200, "The reply's payload"), (503, ErrorBody), (504, ErrorBody))),
)  # fmt: skip


def build_routes() -> list[Route]:
    """The routes, in table order."""
    return list(ROUTES)
