"""JetStream's JSON API spoken directly: streams and consumers as the server describes them.

Part of the connection layer. Each call is one request on `$JS.API.*` whose answer is decoded with
msgspec into plain dicts with the server's own field names (nothing dropped by a client library's
models). Failures are mapped into our tree: a missing stream or consumer is `StreamNotFound` /
`ConsumerNotFound`, no JetStream is `JetStreamUnavailable`, no answer in time `JetStreamBusy`.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any, Final

import msgspec
import nats.errors as nerr

from nats_pubsub.connection.core import Connection
from nats_pubsub.errors import (
    ConsumerNotFound,
    JetStreamBusy,
    JetStreamError,
    JetStreamUnavailable,
    StreamNotFound,
    StreamSubjectsOverlap,
)

__all__ = ["JsApi", "StoredMessage"]

_STREAM_NOT_FOUND: Final = 10059
_CONSUMER_NOT_FOUND: Final = 10014
_NO_MESSAGE: Final = 10037
_OVERLAP: Final = 10065
_API_ERRORS = (nerr.Error, OSError, TimeoutError, RuntimeError)
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.encode


class StoredMessage(msgspec.Struct, frozen=True):
    """One message read from a stream by sequence: subject, sequence, RFC 3339 time, payload."""

    subject: str
    seq: int
    time: str
    data: bytes
    headers: bytes = b""


class JsApi:
    """Requests to the JetStream API on one connection, with answers as dicts."""

    def __init__(self, conn: Connection, prefix: str = "$JS.API", timeout: float = 5.0) -> None:
        self._nc = conn.client
        self._prefix = prefix
        self._timeout = timeout

    async def call(self, what: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One API request (`STREAM.INFO.NAME`, ...): the answer, or our error for its failure."""
        payload = _encode(body) if body is not None else b""
        try:
            reply = await self._nc.request(f"{self._prefix}.{what}", payload, self._timeout)
        except nerr.NoRespondersError:
            raise JetStreamUnavailable(
                "no JetStream on the server: start nats-server with -js"
            ) from None
        except (nerr.TimeoutError, TimeoutError):
            raise JetStreamBusy(f"JetStream did not answer {what} in time") from None
        except _API_ERRORS as exc:
            raise JetStreamError(f"{what} failed: {exc or type(exc).__name__}") from exc
        try:
            answer = _decode(reply.data)
        except msgspec.DecodeError:
            raise JetStreamError(f"unreadable answer to {what}: {reply.data[:80]!r}") from None
        error = answer.get("error")
        if error:
            raise _api_error(error)
        return answer

    async def _pages(self, what: str, key: str, body: dict[str, Any]) -> AsyncIterator[Any]:
        offset = 0
        while True:
            page = await self.call(what, {**body, "offset": offset})
            items = page.get(key) or []
            for item in items:
                yield item
            offset += len(items)
            if not items or offset >= int(page.get("total") or 0):
                return

    async def account_info(self) -> dict[str, Any]:
        """The account's JetStream usage and limits (answers only when JetStream is on)."""
        return await self.call("INFO")

    async def streams(self) -> list[dict[str, Any]]:
        """Every stream's info (config and state)."""
        return [item async for item in self._pages("STREAM.LIST", "streams", {})]

    async def stream_info(self, name: str, *, subjects: bool = False) -> dict[str, Any]:
        """One stream's info; with `subjects`, `state.subjects` holds every subject's count."""
        if not subjects:
            return await self.call(f"STREAM.INFO.{name}")
        info: dict[str, Any] = {}
        counts: dict[str, int] = {}
        offset = 0
        while True:
            page = await self.call(
                f"STREAM.INFO.{name}", {"subjects_filter": ">", "offset": offset}
            )
            info = info or page
            found = (page.get("state") or {}).get("subjects") or {}
            counts.update(found)
            offset += len(found)
            if not found or offset >= int(page.get("total") or 0):
                break
        info.setdefault("state", {})["subjects"] = counts
        return info

    async def create_stream(self, config: dict[str, Any]) -> dict[str, Any]:
        """Create a stream from a server-form config."""
        return await self.call(f"STREAM.CREATE.{config['name']}", config)

    async def consumers(self, stream: str) -> list[dict[str, Any]]:
        """Every consumer's info on `stream`."""
        await self.stream_info(stream)  # a missing stream is StreamNotFound, not an empty list
        return [item async for item in self._pages(f"CONSUMER.LIST.{stream}", "consumers", {})]

    async def consumer_info(self, stream: str, name: str) -> dict[str, Any]:
        """One consumer's info."""
        return await self.call(f"CONSUMER.INFO.{stream}.{name}")

    async def create_consumer(
        self, stream: str, config: dict[str, Any], *, action: str = "create"
    ) -> dict[str, Any]:
        """Create a consumer (`config["name"]` set: a named one, else ephemeral)."""
        name = config.get("name")
        what = f"CONSUMER.CREATE.{stream}.{name}" if name else f"CONSUMER.CREATE.{stream}"
        body: dict[str, Any] = {"stream_name": stream, "config": config}
        if action:
            body["action"] = action
        return await self.call(what, body)

    async def delete_consumer(self, stream: str, name: str) -> None:
        """Delete a consumer."""
        await self.call(f"CONSUMER.DELETE.{stream}.{name}")

    async def message(
        self, stream: str, seq: int, subject: str = ">", *, start_time: str | None = None
    ) -> StoredMessage | None:
        """The first message at or after `seq` (or, given `start_time`, an RFC 3339 time: stored
        at or after it; nats-server 2.11+) on `subject` (wildcards ok), or None past the end.

        Reading this way touches no consumer: nothing is delivered, acknowledged or moved.
        """
        body: dict[str, Any] = (
            {"start_time": start_time} if start_time is not None else {"seq": max(seq, 1)}
        )
        body["next_by_subj"] = subject
        try:
            answer = await self.call(f"STREAM.MSG.GET.{stream}", body)
        except JetStreamError as exc:
            if exc.err_code == _NO_MESSAGE:
                return None
            raise
        msg = answer["message"]
        return StoredMessage(
            subject=msg["subject"],
            seq=int(msg["seq"]),
            time=msg.get("time", ""),
            data=base64.b64decode(msg.get("data") or b""),
            headers=base64.b64decode(msg.get("hdrs") or b""),
        )


def _api_error(error: dict[str, Any]) -> JetStreamError:
    code, status = int(error.get("err_code") or 0), int(error.get("code") or 0)
    text = f"{error.get('description') or 'JetStream error'} (code {code})"
    kind: type[JetStreamError] = {
        _STREAM_NOT_FOUND: StreamNotFound,
        _CONSUMER_NOT_FOUND: ConsumerNotFound,
        _OVERLAP: StreamSubjectsOverlap,
    }.get(code, JetStreamBusy if status == 503 else JetStreamError)
    return kind(text, err_code=code, status=status)
