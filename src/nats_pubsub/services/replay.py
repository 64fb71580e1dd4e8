"""`nats-pubsub replay`: read a stream's history once through an ordered, ephemeral consumer.

One JSON object per message (subject, sequence, time, headers, payload) goes to stdout or a file;
progress and the summary go to stderr, so the output can be piped as it is.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import IO, Any

import msgspec

from nats_pubsub.capture import render_payload
from nats_pubsub.config import ReplaySettings
from nats_pubsub.connection import connect
from nats_pubsub.consumers import JsDelivery, open_replay
from nats_pubsub.errors import NatsError
from nats_pubsub.jetstream import JetStream, retry_busy
from nats_pubsub.logs import Logger
from nats_pubsub.streams import JsMeta, ReplayStart, parse_replay, since_ns
from nats_pubsub.timeutil import format_ns

__all__ = ["replay_start", "run_replay"]

_raw = msgspec.json.Decoder(msgspec.Raw).decode
_MAX_PAYLOAD = 1024 * 1024  # the whole message: replay output is data, not a preview
_PROGRESS_EVERY = 0.25  # seconds between progress bar updates


def replay_start(settings: ReplaySettings, first_seq: int, last_seq: int) -> ReplayStart:
    """Where the replay starts, from --since / --start-seq / --last (default: the beginning)."""
    if settings.since is not None:
        return ReplayStart(
            "by_start_time", start_time_ns=since_ns(settings.since), text=f"since:{settings.since}"
        )
    if settings.start_seq is not None:
        return parse_replay(f"seq:{settings.start_seq}")
    if settings.last is not None and settings.filter_subject is None:
        return parse_replay(f"seq:{max(first_seq, last_seq - settings.last + 1, 1)}")
    return parse_replay("all")


def record(
    subject: str, seq: int, ts_ns: int, headers: dict[str, str] | None, data: bytes
) -> dict[str, Any]:
    """One output line's object."""
    out: dict[str, Any] = {
        "subject": subject,
        "sequence": seq,
        "time": format_ns(ts_ns),
        "headers": headers or None,
    }
    raw = _json_as_is(data)
    if raw is not None:
        out["payload"] = raw  # valid JSON is written as it came, not decoded and re-encoded
        return out
    rendered = render_payload(data, _MAX_PAYLOAD)
    out["payload"] = rendered.value
    if rendered.encoding != "json":
        out["payload_encoding"] = rendered.encoding
    return out


def _json_as_is(data: bytes) -> msgspec.Raw | None:
    """`data` for verbatim embedding when it is one valid UTF-8 JSON value, else None.

    Pretty-printed JSON (line breaks between tokens) is re-encoded instead, so that every output
    object stays on one line.
    """
    if not data or b"\n" in data or b"\r" in data or not (data.isascii() or _is_utf8(data)):
        return None
    try:
        return _raw(data)
    except (msgspec.DecodeError, RecursionError):
        return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _open_output(settings: ReplaySettings) -> IO[bytes]:
    return open(settings.output, "wb") if settings.output else sys.stdout.buffer


class _Progress:
    """A progress bar on stderr, only when it is a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._on = stream.isatty()
        self._last = 0.0

    def show(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self._on or now - self._last < _PROGRESS_EVERY:
            return
        self._last = now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        self._stream.write(f"\rreplay [{bar:<30}] {done}/{total} ({share:.0%})")
        self._stream.flush()

    def end(self) -> None:
        if self._on:
            self._stream.write("\n")
            self._stream.flush()


async def run_replay(settings: ReplaySettings, log: Logger, stop: asyncio.Event) -> int:
    """Write the selected history, then a summary; exit 0 (1 when the stream is unusable)."""
    try:
        conn = await connect(settings, name=f"replay-{settings.hostname}", log=log, stop=stop)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    js = JetStream(conn, log)
    out = _open_output(settings)
    encode = msgspec.json.Encoder().encode
    count = 0
    first: JsMeta | None = None
    last: JsMeta | None = None
    started = time.monotonic()
    progress = _Progress(sys.stderr)
    skip_from = settings.last if settings.filter_subject and settings.last else None
    previous_ts: list[int] = []

    async def on_message(msg: JsDelivery) -> None:
        nonlocal count, first, last
        meta = msg.meta
        assert meta is not None
        if skip_from is not None and meta.pending >= skip_from:
            return  # --last N with a filter: only the final N matching messages
        if settings.speed == "original":
            if previous_ts:
                await asyncio.sleep(max(0.0, (meta.timestamp_ns - previous_ts[0]) / 1e9))
            previous_ts[:] = [meta.timestamp_ns]
        line = record(msg.subject, meta.stream_seq, meta.timestamp_ns, msg.headers, msg.data)
        out.write(encode(line) + b"\n")
        count += 1
        first = first or meta
        last = meta
        progress.show(count, count + meta.pending)

    try:
        name = settings.stream_name
        state = await retry_busy(lambda: js.stream_state(name), log, f"stream {name}")
        start = replay_start(settings, state["first_seq"], state["last_seq"])
        reader = await open_replay(
            js, settings.stream_name, settings.filter_subject, start, on_message
        )
        await reader.wait(stop, settings.follow)
        await reader.close()
        progress.end()
    except NatsError as exc:
        log.error("Replay failed", stream=settings.stream_name, error=str(exc))
        return 1
    finally:
        out.flush()
        if settings.output:
            out.close()
        await conn.drain()
    seconds = time.monotonic() - started
    log.info(
        "Replay finished",
        stream=settings.stream_name,
        subject=settings.filter_subject,
        count=count,
        first_sequence=first.stream_seq if first else None,
        last_sequence=last.stream_seq if last else None,
        first_time=format_ns(first.timestamp_ns) if first else None,
        last_time=format_ns(last.timestamp_ns) if last else None,
        seconds=round(seconds, 3),
        messages_per_second=round(count / seconds, 1) if seconds > 0 else 0.0,
        output=str(settings.output) if settings.output else "stdout",
    )
    return 0
