"""The gateway's JSON bodies for messages, health and errors, with the upstream's field names.

msgspec structs: decoded and encoded in one C pass, and the source of the OpenAPI schemas. The
publish, fetch and health bodies are snake_case (as the upstream's), the rest camelCase (see
`admin_models.py`).
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "ErrorBody",
    "FetchResponse",
    "FetchedMessage",
    "HealthResponse",
    "IndexResponse",
    "LiveControl",
    "LiveFrame",
    "LiveMessage",
    "PublishRequest",
    "PublishResponse",
    "ReadyResponse",
]


class PublishRequest(msgspec.Struct, forbid_unknown_fields=False):
    """The body of `POST /api/messages/{subject}`: every field optional."""

    message_id: str | None = None
    data: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
    source: str | None = None


class PublishResponse(msgspec.Struct):
    """What a publish answers once JetStream has stored the message."""

    published: bool
    subject: str
    stream: str
    sequence: int
    timestamp: str
    message_id: str
    duplicate: bool = False


class FetchedMessage(msgspec.Struct):
    """One message read back: `data` is the stored payload parsed as JSON (else a string)."""

    subject: str
    sequence: int
    timestamp: str
    data: Any
    size_bytes: int


class FetchResponse(msgspec.Struct):
    """Messages read from a stream, oldest first."""

    subject: str
    count: int
    messages: list[FetchedMessage]
    stream: str


class HealthResponse(msgspec.Struct):
    """`GET /health`, in the upstream's shape (always 200; `status` says it)."""

    status: str
    nats_connected: bool
    nats_url: str | None
    jetstream_available: bool
    timestamp: str


class ReadyResponse(msgspec.Struct):
    """`GET /readyz`: 200 when ready, else 503 with the reason."""

    ready: bool
    reason: str
    service: str = "gateway"


class IndexResponse(msgspec.Struct):
    """`GET /api`: what this is and where to look."""

    name: str
    version: str
    endpoints: list[str]
    docs: str = "/docs"
    openapi: str = "/openapi.json"


class ErrorBody(msgspec.Struct):
    """Every error: one line saying what is wrong and, where it helps, what to do."""

    error: str
    details: str | None = None


class LiveMessage(msgspec.Struct, omit_defaults=True):
    """A live message in JSON frames and Server-Sent Events (`consumer` only on the durable
    route)."""

    subject: str
    sequence: int
    timestamp: str
    data: Any
    size_bytes: int
    stream: str
    consumer: str = ""


class LiveControl(msgspec.Struct, omit_defaults=True):
    """A control notice in JSON frames: subscribe_ack, lag, error or close."""

    type: str
    message: str
    missed: int | None = None


class LiveFrame(msgspec.Struct, omit_defaults=True):
    """A JSON WebSocket frame (`?format=json`): a message or a control notice."""

    type: str  # "message" or "control"
    message: LiveMessage | None = None
    control: LiveControl | None = None
