"""The JetStream half of the connection layer: stream provisioning, listing and state.

Like core.py, this module may import nats; every nats-py JetStream error is mapped here into
our tree (`JetStreamError` and below). Publishing lives in ack_window.py, consuming in
js_consumers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import nats.errors as nerr
import nats.js.errors as jerr
from nats.js import api

from nats_pubsub.connection.core import Connection
from nats_pubsub.domain.stream_rules import (
    LIMITS,
    StreamSpec,
    stream_differences,
    subjects_overlap,
)
from nats_pubsub.errors import (
    JetStreamBusy,
    JetStreamError,
    JetStreamUnavailable,
    StreamSubjectsOverlap,
)
from nats_pubsub.logs.logger import Logger

__all__ = ["JS_ERRORS", "JetStream", "map_js_error", "provision", "retry_busy"]

_OVERLAP_CODE = 10065
JS_API_PREFIX = "$JS.API"  # nats-py's default, as `jetstream()` and `jsm()` are made here


def map_js_error(exc: BaseException) -> JetStreamError:
    """Translate a nats-py JetStream failure into our tree."""
    if isinstance(exc, JetStreamError):
        return exc
    if isinstance(exc, TimeoutError | nerr.TimeoutError) or (
        isinstance(exc, jerr.ServiceUnavailableError) and "temporarily" in str(exc).lower()
    ):
        return JetStreamBusy(
            "JetStream did not answer in time (a leader election, or an overloaded server)"
        )
    if isinstance(exc, jerr.ServiceUnavailableError | jerr.NoStreamResponseError):
        return JetStreamUnavailable(
            "JetStream did not answer: is the server running with JetStream (-js)?"
        )
    if isinstance(exc, nerr.NoRespondersError):
        return JetStreamUnavailable("no JetStream on the server: start nats-server with -js")
    if isinstance(exc, jerr.APIError):
        return JetStreamError(f"{exc.description} (code {exc.err_code})")
    return JetStreamError(str(exc) or type(exc).__name__)


JS_ERRORS = (jerr.Error, nerr.Error, OSError, TimeoutError)
_BUSY_ATTEMPTS = 6
_T = TypeVar("_T")


async def retry_busy(
    operation: Callable[[], Awaitable[_T]],
    log: Logger,
    what: str,
    *,
    until: asyncio.Event | None = None,
    deadline: float | None = None,
) -> _T:
    """Run a JetStream setup step, retrying while JetStream is busy (electing a leader, no
    quorum) with a growing wait (0.5 s, doubling, at most 5 s): `_BUSY_ATTEMPTS` tries for a
    one-shot command; for a service (`until`: its stop event) until JetStream answers, `until`
    is set or the monotonic `deadline` (its --timeout) passes. Then the last error is raised."""
    delay = 0.5
    attempt = 0
    while True:
        attempt += 1
        try:
            return await operation()
        except JetStreamBusy as exc:
            if until is None and attempt >= _BUSY_ATTEMPTS:
                raise
            wait = delay if deadline is None else min(delay, deadline - time.monotonic())
            if wait <= 0 or (until is not None and until.is_set()):
                raise
            log.warning(
                "JetStream busy, retrying",
                operation=what,
                attempt=attempt,
                retry_in_seconds=round(wait, 2),
                error=str(exc),
            )
            if until is None:
                await asyncio.sleep(wait)
            elif await _stopped(until, wait):
                raise
            delay = min(delay * 2, 5.0)


async def _stopped(until: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `until` is set; whether it is."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(until.wait(), seconds)
    return until.is_set()


class JetStream:
    """JetStream operations on one connection."""

    def __init__(self, conn: Connection, log: Logger) -> None:
        self._nc = conn.client
        self._js = self._nc.jetstream()
        self._jsm = self._nc.jsm()
        self._log = log

    @property
    def manager(self) -> Any:
        """The nats-py JetStream manager (streams and consumers)."""
        return self._jsm

    @property
    def log(self) -> Logger:
        """Where JetStream operations report what they did."""
        return self._log

    @property
    def context(self) -> Any:
        """The nats-py JetStream context (for AckWindow)."""
        return self._js

    async def ensure_stream(self, spec: StreamSpec, configured: frozenset[str] = LIMITS) -> None:
        """Create the stream if missing; else bring the `configured` limits in line with `spec`.

        Subjects are never changed on an existing stream: a difference is a WARNING.
        """
        try:
            info = await self._jsm.stream_info(spec.name)
        except jerr.NotFoundError:
            await self._create(spec)
            return
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc
        cfg = info.config
        diffs = stream_differences(
            spec,
            {
                "subjects": cfg.subjects,
                "max_age": cfg.max_age,  # seconds here (nats-py converts from nanoseconds)
                "max_bytes": cfg.max_bytes,
                "num_replicas": cfg.num_replicas,
            },
            configured,
        )
        if diffs and diffs[0].startswith("subjects"):
            self._log.warning(
                "Stream subjects differ from configuration; left as they are",
                stream=spec.name,
                difference=diffs.pop(0),
            )
        if not diffs:
            return
        if "max_age" in configured:
            cfg.max_age = spec.max_age_seconds
        if "max_bytes" in configured:
            cfg.max_bytes = spec.max_bytes
        if "replicas" in configured:
            cfg.num_replicas = spec.replicas
        try:
            await self._jsm.update_stream(cfg)
        except JS_ERRORS as exc:
            self._log.warning(
                "Stream differs from configuration and could not be updated",
                stream=spec.name,
                differences=diffs,
                error=str(map_js_error(exc)),
            )
            return
        self._log.info("Stream updated", stream=spec.name, changes=diffs)

    @staticmethod
    def _stream_config(spec: StreamSpec) -> api.StreamConfig:
        return api.StreamConfig(
            name=spec.name,
            subjects=list(spec.subjects),
            storage=api.StorageType(spec.storage),
            max_age=spec.max_age_seconds,
            max_bytes=spec.max_bytes,
            discard=api.DiscardPolicy(spec.discard),
            num_replicas=spec.replicas,
            duplicate_window=spec.duplicate_window_seconds,
        )

    async def _create(self, spec: StreamSpec) -> None:
        try:
            await self._jsm.add_stream(self._stream_config(spec))
        except jerr.APIError as exc:
            if exc.err_code == _OVERLAP_CODE:
                raise await self._overlap_error(spec) from exc
            raise map_js_error(exc) from exc
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc
        self._log.info(
            "Stream created",
            stream=spec.name,
            subjects=list(spec.subjects),
            max_age_seconds=spec.max_age_seconds,
            max_bytes=spec.max_bytes,
            replicas=spec.replicas,
        )

    async def _overlap_error(self, spec: StreamSpec) -> StreamSubjectsOverlap:
        owners = []
        for info in await self.stream_infos():
            theirs = info["config"].get("subjects") or []
            if any(subjects_overlap(a, b) for a in spec.subjects for b in theirs):
                owners.append(f"{info['config']['name']} ({', '.join(theirs)})")
        return StreamSubjectsOverlap(
            f"cannot create stream {spec.name} for {', '.join(spec.subjects)}: "
            f"stream {' and '.join(owners) or '(unknown)'} already owns overlapping subjects; "
            f"use that stream (--stream / STREAM_NAME) or remove it (nats stream rm NAME)"
        )

    async def stream_infos(self) -> list[dict[str, Any]]:
        """Every stream's config and state, as the server reports them."""
        try:
            return [info.as_dict() for info in await self._jsm.streams_info()]
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc

    @property
    def api_prefix(self) -> str:
        """The JetStream API subject prefix (no domain or prefix is ever set here)."""
        return JS_API_PREFIX

    def new_inbox(self) -> str:
        """A fresh reply subject under the connection's inbox prefix."""
        return str(self._nc.new_inbox())

    async def send_request(self, subject: str, payload: bytes, reply: str) -> None:
        """Publish a JetStream API request whose answers arrive on `reply` (no waiting)."""
        try:
            await self._nc.publish(subject, payload, reply=reply)
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc

    async def publish_copy(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        """Publish a copy (dead letters) through JetStream, waiting for the ack."""
        try:
            await self._js.publish(subject, data, headers=headers)
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc

    async def enable_fast_ingest(self, name: str) -> None:
        """Turn `allow_batched` on (fast-ingest batches, nats-server 2.14+) if it is off.

        Through the raw API: nats-py's StreamConfig does not know the field and would drop it.
        """
        config = (await self._api(f"STREAM.INFO.{name}"))["config"]
        if config.get("allow_batched"):
            return
        config["allow_batched"] = True
        updated = await self._api(f"STREAM.UPDATE.{name}", msgspec.json.encode(config))
        if not updated["config"].get("allow_batched"):
            raise JetStreamError(
                f"nats-server did not enable fast ingest on stream {name} (it needs nats-server "
                "2.14 or later); publish without --fast-ingest"
            )
        self._log.info("Stream updated", stream=name, changes=["allow_batched: false -> true"])

    async def _api(self, what: str, payload: bytes = b"") -> dict[str, Any]:
        try:
            reply = await self._nc.request(f"{self.api_prefix}.{what}", payload, timeout=5)
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc
        try:
            answer: dict[str, Any] = msgspec.json.decode(reply.data)
        except msgspec.DecodeError:
            raise JetStreamError(f"unreadable answer to {what}: {reply.data[:80]!r}") from None
        error = answer.get("error")
        if error:
            raise JetStreamError(f"{error.get('description')} (code {error.get('err_code')})")
        return answer

    async def stream_state(self, name: str) -> dict[str, int]:
        """A stream's message count, size in bytes and first/last sequence."""
        try:
            info = await self._jsm.stream_info(name)
        except jerr.NotFoundError:
            raise JetStreamError(
                f"stream {name} does not exist (see: nats-pubsub streams)"
            ) from None
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc
        state = info.state
        return {
            "messages": state.messages,
            "bytes": state.bytes,
            "first_seq": state.first_seq,
            "last_seq": state.last_seq,
        }


async def provision(
    js: JetStream,
    spec: StreamSpec,
    configured: frozenset[str],
    *,
    until: asyncio.Event | None = None,
    deadline: float | None = None,
) -> StreamSpec:
    """The stream `spec`, created or checked (its `configured` limits brought in line),
    retried while JetStream is busy (see `retry_busy` for `until` and `deadline`)."""
    await retry_busy(
        lambda: js.ensure_stream(spec, configured),
        js.log,
        f"stream {spec.name}",
        until=until,
        deadline=deadline,
    )
    return spec
