"""The gateway's HTTP primitives over raw ASGI: the request a handler sees, the response it returns.

Handlers are plain `async def handler(gateway, request) -> Response`; this module reads bodies
(never more than the cap), turns responses into ASGI messages, and builds the JSON error bodies
every failure answers with (`{"error": "..."}`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl

import msgspec

__all__ = [
    "JSON",
    "PROTOBUF",
    "BodyTooLarge",
    "Receive",
    "Request",
    "Response",
    "Scope",
    "Send",
    "Streamer",
    "client_gone",
    "end_body",
    "error",
    "json_response",
    "read_body",
    "send_response",
    "until_first",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

JSON: Final = b"application/json"
PROTOBUF: Final = b"application/x-protobuf"
_encode = msgspec.json.Encoder().encode


class BodyTooLarge(Exception):
    """The request body is larger than the gateway accepts."""


class Request:
    """One HTTP request as a handler sees it: method, path parameters, query, headers, body."""

    __slots__ = ("_query", "body", "headers", "method", "params", "path", "query_string")

    def __init__(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        query_string: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.query_string = query_string
        self.headers = headers
        self.body = body
        self._query: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (the last value of a repeated one), decoded once when first asked."""
        if self._query is None:
            text = self.query_string.decode("latin-1")
            self._query = dict(parse_qsl(text, keep_blank_values=True)) if text else {}
        return self._query

    def header(self, name: bytes) -> bytes | None:
        """The value of header `name` (lower case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


Streamer = Callable[[Send, Receive], Awaitable[None]]


class Response:
    """Status, body and content type, plus any extra headers; or a stream (`stream(send,
    receive)` sends the body in parts, as Server-Sent Events do)."""

    __slots__ = ("body", "content_type", "headers", "status", "stream")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: bytes = JSON,
        headers: list[tuple[bytes, bytes]] | None = None,
        stream: Streamer | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or []
        self.stream = stream


def json_response(value: Any, status: int = 200) -> Response:
    """`value` (msgspec structs, dicts, lists) as a JSON response."""
    return Response(status, _encode(value))


def error(status: int, text: str, **more: Any) -> Response:
    """The JSON error every failure answers with: `{"error": text, ...more}`."""
    return Response(status, _encode({"error": text, **more}))


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes:
    """The whole request body; BodyTooLarge once it is (or says it will be) over `limit`."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(f"request body of {declared} bytes is over the limit of {limit}")
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        if len(body) > limit:
            raise BodyTooLarge(f"request body is over the limit of {limit} bytes")
        return bytes(body)
    parts = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body is over the limit of {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def send_response(
    send: Send, response: Response, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send `response` as one ASGI response start and one body message (a stream: the start;
    the caller runs the stream)."""
    body = response.body
    headers = [(b"content-type", response.content_type), *response.headers]
    if response.stream is None:
        headers.append((b"content-length", b"%d" % len(body)))
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if response.stream is None:
        await send({"type": "http.response.body", "body": body})


async def until_first(work: Awaitable[Any], gone: Awaitable[Any], stopping: asyncio.Event) -> bool:
    """Run a long-lived response's `work` until it ends, `gone` (the client left) returns or
    `stopping` is set; the others are cancelled. True when the gateway is stopping."""
    tasks = [
        asyncio.ensure_future(work),
        asyncio.ensure_future(gone),
        asyncio.ensure_future(stopping.wait()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return stopping.is_set()


async def client_gone(receive: Receive) -> None:
    """Returns when an HTTP client disconnects (a streamed response reads nothing else)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def end_body(send: Send, last: bytes | None = None) -> None:
    """End a streamed body, after `last` if given; the client may be gone already."""
    with contextlib.suppress(Exception):
        if last:
            await send({"type": "http.response.body", "body": last, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
