"""Routes for consumers: templates, create, list, get, delete, health, peek, reset, history."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from nats_pubsub.connection.js_admin import JsApi
from nats_pubsub.connection.js_reading import peek
from nats_pubsub.domain.timeutil import format_ns, now_ns
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.admin_models import (
    ConsumerList,
    ConsumerSample,
    CreateConsumerRequest,
    DeleteResult,
    MetricsHistory,
    PeekResponse,
    ResetRequest,
    ResetResult,
    TemplateList,
)
from nats_pubsub.gateway.asgi import Request, Response, json_response
from nats_pubsub.gateway.consumer_rules import TEMPLATES, consumer_config, reset_config
from nats_pubsub.gateway.consumer_views import (
    consumer_details,
    consumer_health,
    peek_message,
    sample,
)
from nats_pubsub.gateway.state import Gateway

__all__ = [
    "create",
    "delete",
    "get",
    "health",
    "history",
    "list_consumers",
    "peek_messages",
    "reset",
    "templates",
]

_T = TypeVar("_T")


def _body(body: bytes, kind: type[_T]) -> _T:
    """A JSON body as `kind`; validation.Invalid (400) with the reason when it is not one."""
    try:
        return msgspec.json.decode(body or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        raise validation.Invalid(f"Invalid request body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise validation.Invalid(f"Invalid JSON body: {exc}") from None


def _names(req: Request) -> tuple[str, str]:
    return (
        validation.name(req.params["stream"], "stream"),
        validation.name(req.params["consumer"], "consumer"),
    )


async def _last_seq(api: JsApi, stream: str) -> int:
    info = await api.stream_info(stream)
    return int((info.get("state") or {}).get("last_seq") or 0)


async def templates(gw: Gateway, req: Request) -> Response:
    """`GET /api/consumers/templates`: the six ready-made consumer configurations."""
    return json_response(TemplateList(len(TEMPLATES), list(TEMPLATES)))


async def create(gw: Gateway, req: Request) -> Response:
    """`POST /api/consumers/{stream}`: create a pull consumer; 201 with its details."""
    stream = validation.name(req.params["stream"], "stream")
    request = _body(req.body, CreateConsumerRequest)
    try:
        config = consumer_config(request)
    except ValueError as exc:
        raise validation.Invalid(str(exc)) from None
    _, api, _ = gw.need()
    last = await _last_seq(api, stream)  # a missing stream is a 404, before anything is made
    info = await api.create_consumer(stream, config)
    gw.log.info("Consumer created", stream=stream, consumer=request.name)
    location = f"/api/consumers/{stream}/{request.name}".encode()
    response = json_response(consumer_details(stream, info, last), 201)
    response.headers.append((b"location", location))
    return response


async def list_consumers(gw: Gateway, req: Request) -> Response:
    """`GET /api/consumers/{stream}`: every consumer's details."""
    stream = validation.name(req.params["stream"], "stream")
    _, api, _ = gw.need()
    last = await _last_seq(api, stream)
    details = [consumer_details(stream, info, last) for info in await api.consumers(stream)]
    details.sort(key=lambda d: d.name)
    return json_response(ConsumerList(stream, len(details), details))


async def get(gw: Gateway, req: Request) -> Response:
    """`GET /api/consumers/{stream}/{consumer}`: one consumer's details."""
    stream, consumer = _names(req)
    _, api, _ = gw.need()
    info = await api.consumer_info(stream, consumer)
    _watch(gw, stream, consumer)
    return json_response(consumer_details(stream, info, await _last_seq(api, stream)))


async def delete(gw: Gateway, req: Request) -> Response:
    """`DELETE /api/consumers/{stream}/{consumer}`."""
    stream, consumer = _names(req)
    _, api, _ = gw.need()
    await api.delete_consumer(stream, consumer)
    if gw.history is not None:
        gw.history.forget(stream, consumer)
    gw.log.info("Consumer deleted", stream=stream, consumer=consumer)
    text = f"Consumer '{consumer}' deleted successfully from stream '{stream}'"
    return json_response(DeleteResult(True, text))


async def health(gw: Gateway, req: Request) -> Response:
    """`GET /api/consumers/{stream}/{consumer}/health`: the health rules' verdict."""
    stream, consumer = _names(req)
    _, api, _ = gw.need()
    verdict = consumer_health(stream, await api.consumer_info(stream, consumer), now_ns())
    _watch(gw, stream, consumer)
    gw.log.info("Consumer health checked", consumer=consumer, status=verdict.status)
    return json_response(verdict)


async def peek_messages(gw: Gateway, req: Request) -> Response:
    """`GET /api/consumers/{stream}/{consumer}/messages?limit=10`: what the consumer has still to
    finish, read without delivering, acknowledging or moving anything."""
    stream, consumer = _names(req)
    limit = validation.limit(req.query)
    _, api, _ = gw.need()
    found = await peek(api, stream, consumer, limit)
    messages = [peek_message(m.subject, m.seq, m.time, m.data) for m in found]
    return json_response(PeekResponse(consumer, stream, len(messages), messages))


async def reset(gw: Gateway, req: Request) -> Response:
    """`POST /api/consumers/{stream}/{consumer}/reset`: recreate it with a new start.

    Destructive, as upstream: unacknowledged state is lost and bound clients are cut off.
    """
    stream, consumer = _names(req)
    request = _body(req.body, ResetRequest)
    _, api, _ = gw.need()
    info = await api.consumer_info(stream, consumer)
    try:
        config = reset_config(info.get("config") or {}, request)
    except ValueError as exc:
        raise validation.Invalid(str(exc)) from None
    await api.delete_consumer(stream, consumer)
    await api.create_consumer(stream, config)
    if gw.history is not None:
        gw.history.forget(stream, consumer)
    gw.log.info("Consumer reset", consumer=consumer, stream=stream, action=request.action)
    text = f"Consumer '{consumer}' reset successfully"
    return json_response(ResetResult(True, text, consumer))


async def take_sample(gw: Gateway, stream: str, consumer: str) -> ConsumerSample:
    """One sample of a consumer's metrics, now."""
    _, api, _ = gw.need()
    info = await api.consumer_info(stream, consumer)
    return sample(info, await _last_seq(api, stream), now_ns())


async def history(gw: Gateway, req: Request) -> Response:
    """`GET /api/consumers/{stream}/{consumer}/metrics/history?samples=10`."""
    stream, consumer = _names(req)
    count = validation.samples(req.query)
    now = await take_sample(gw, stream, consumer)
    _watch(gw, stream, consumer)
    kept: list[Any] = gw.history.recent(stream, consumer, count - 1) if gw.history else []
    points = [*kept, now]
    end = now_ns()
    start = end - count * 60 * 1_000_000_000
    return json_response(
        MetricsHistory(
            consumer_name=consumer,
            stream_name=stream,
            start_time=points[0].timestamp if kept else format_ns(start),
            end_time=format_ns(end),
            count=len(points),
            history=points,
        )
    )


def _watch(gw: Gateway, stream: str, consumer: str) -> None:
    if gw.history is not None:
        gw.history.watch(stream, consumer)
