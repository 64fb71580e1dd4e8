"""Routes for streams: list, detail, and the subjects a stream holds with their counts."""

from __future__ import annotations

from nats_pubsub.gateway import validation
from nats_pubsub.gateway.admin_models import StreamList
from nats_pubsub.gateway.asgi import Request, Response, json_response
from nats_pubsub.gateway.state import Gateway
from nats_pubsub.gateway.stream_rules import stream_subjects, stream_summary

__all__ = ["list_streams", "stream_detail", "stream_subject_counts"]


async def list_streams(gw: Gateway, req: Request) -> Response:
    """`GET /api/streams`: every stream's summary."""
    _, api, _ = gw.need()
    summaries = [stream_summary(info) for info in await api.streams()]
    summaries.sort(key=lambda s: s.name)
    return json_response(StreamList(len(summaries), summaries))


async def stream_detail(gw: Gateway, req: Request) -> Response:
    """`GET /api/streams/{name}`: one stream's configuration and state (404 if missing)."""
    name = validation.name(req.params["name"], "stream")
    _, api, _ = gw.need()
    return json_response(stream_summary(await api.stream_info(name)))


async def stream_subject_counts(gw: Gateway, req: Request) -> Response:
    """`GET /api/streams/{name}/subjects`: subjects by message count, most first."""
    name = validation.name(req.params["name"], "stream")
    _, api, _ = gw.need()
    info = await api.stream_info(name, subjects=True)
    counts = (info.get("state") or {}).get("subjects") or {}
    return json_response(stream_subjects(name, counts))
