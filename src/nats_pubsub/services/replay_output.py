"""What `nats-pubsub replay` writes: one JSON line per message, built cheaply, written in batches.

Each line holds the subject, stream sequence, stored time, headers and payload. A valid one-line
JSON payload is embedded verbatim; anything else is rendered as the message logger renders it
(`capture.render_payload`: JSON re-encoded on one line, else text or base64). Lines are built as
text and written once per event-loop turn; a progress bar goes to stderr when it is a terminal.
With --speed original, `OriginalPace` holds each message until its time (the gaps between their
stored times kept), pausing the feed while it holds many.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import IO, Any, NamedTuple

import msgspec

from nats_pubsub.connection.replay_feed import MessageSink, ReplayFeed
from nats_pubsub.domain.capture import render_payload
from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import write_all

__all__ = ["OriginalPace", "Progress", "Writer", "only_last", "record"]

_raw = msgspec.json.Decoder(msgspec.Raw).decode
_MAX_PAYLOAD = 1024 * 1024  # the whole message: replay output is data, not a preview
_PROGRESS_EVERY = 0.25  # seconds between progress bar updates
_NS = 1_000_000_000
_SUBJECTS_CACHED = 10_000
_JSON_BLANKS = " \t"  # around a payload: dropped, as msgspec.Raw drops them


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
    if not data or 10 in data or 13 in data or not (data.isascii() or _is_utf8(data)):
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


class Progress:
    """A progress bar on stderr, only when it is a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._on = stream.isatty()
        self._last = 0.0

    def show(self, done: int, total: int) -> None:
        if not self._on:
            return
        now = time.monotonic()
        if now - self._last < _PROGRESS_EVERY:
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


class Writer:
    """Builds one output line per message; writes them once per event-loop turn."""

    def __init__(self, out: IO[bytes], progress: Progress) -> None:
        self._out = out
        self._progress = progress
        self._buf: list[str] = []
        self._call_soon = asyncio.get_running_loop().call_soon
        self._encode = msgspec.json.Encoder().encode
        self._subjects: dict[str, str] = {}
        self._second_ns = 0  # the start of the second `_second_text` shows
        self._second_text = ""  # "2026-01-01T00:00:00."
        self.count = 0
        self.pending = 0
        self.first: tuple[int, int] | None = None  # (sequence, timestamp ns)
        self.last_seq = 0
        self.last_ns = 0
        self.error: NatsError | None = None
        self.on_error: Callable[[NatsError], None] = _ignore

    def add(
        self,
        subject: str,
        headers: dict[str, str] | None,
        data: bytes,
        seq: int,
        ts_ns: int,
        pending: int,
    ) -> None:
        """Queue the line for one message."""
        buf = self._buf
        if not buf:
            self._call_soon(self.flush)
        subject_json = self._subjects.get(subject)
        if subject_json is None:
            subject_json = self._subject_json(subject)
        micros = (ts_ns - self._second_ns) // 1000
        if not 0 <= micros < 1_000_000:
            self._second_ns = ts_ns - ts_ns % _NS
            self._second_text = format_ns(self._second_ns)[:20]
            micros = (ts_ns - self._second_ns) // 1000
        try:
            text = data.decode()  # str lines: formatting str is faster than formatting bytes
            if "\n" in text or "\r" in text:
                text = ""  # pretty-printed: re-encoded on one line below
            elif text:
                _raw(data)  # valid JSON, else re-encoded (or text / base64) below
        except (UnicodeDecodeError, msgspec.DecodeError, RecursionError):
            text = ""
        if text:
            head = self._encode(headers).decode() if headers else "null"
            buf.append(
                f'{{"subject":{subject_json},"sequence":{seq},'
                f'"time":"{self._second_text}{str(micros + 1_000_000)[1:]}Z",'
                f'"headers":{head},"payload":{text.strip(_JSON_BLANKS)}}}\n'
            )
        else:
            buf.append(self._encode(record(subject, seq, ts_ns, headers, data)).decode() + "\n")
        self.count += 1
        self.pending = pending
        self.last_seq = seq
        self.last_ns = ts_ns
        if self.first is None:
            self.first = (seq, ts_ns)

    def _subject_json(self, subject: str) -> str:
        if len(self._subjects) >= _SUBJECTS_CACHED:
            self._subjects.clear()
        encoded = self._subjects[subject] = self._encode(subject).decode()
        return encoded

    def flush(self) -> None:
        """Write what is queued; a failure (disk full, closed pipe) goes to `on_error`."""
        if self._buf:
            data = "".join(self._buf).encode()
            self._buf.clear()
            try:
                write_all(self._out, data)
                self._out.flush()  # a follower piped into jq sees each batch at once
            except (OSError, ValueError) as exc:
                self.error = self.error or NatsError(f"writing the output failed: {exc}")
                self.on_error(self.error)
                return
            self._progress.show(self.count, self.count + self.pending)


def _ignore(error: NatsError) -> None:
    return


class _Held(NamedTuple):
    """A message --speed original holds until its time: the arguments of a `MessageSink`."""

    subject: str
    headers: dict[str, str] | None
    data: bytes
    seq: int
    ts_ns: int
    pending: int


class OriginalPace:
    """--speed original: messages written with the gaps between their stored times."""

    def __init__(self, write: MessageSink, high_water: int) -> None:
        self._write = write
        self._high = high_water
        self._queue: deque[_Held | None] = deque()
        self._wake = asyncio.Event()
        self.feed: ReplayFeed | None = None

    def add(
        self,
        subject: str,
        headers: dict[str, str] | None,
        data: bytes,
        seq: int,
        ts_ns: int,
        pending: int,
    ) -> None:
        """Queue one message; ask the feed to pause while the queue is long."""
        self._queue.append(_Held(subject, headers, data, seq, ts_ns, pending))
        self._wake.set()
        if len(self._queue) >= self._high and self.feed is not None:
            self.feed.pause()

    def end(self) -> None:
        """No more messages: `run` returns once the queued ones are written."""
        self._queue.append(None)
        self._wake.set()

    async def run(self) -> None:
        """Write the queued messages at their original pace."""
        previous: int | None = None
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            message = self._queue.popleft()
            if message is None:
                return
            if self.feed is not None and len(self._queue) <= self._high // 2:
                self.feed.resume()
            if previous is not None:
                await asyncio.sleep(max(0.0, (message.ts_ns - previous) / 1e9))
            previous = message.ts_ns
            self._write(*message)


def only_last(sink: MessageSink, last: int) -> MessageSink:
    """--last N with a filter: only the final N matching messages (by their pending count)."""

    def keep(
        subject: str,
        headers: dict[str, str] | None,
        data: bytes,
        seq: int,
        ts_ns: int,
        pending: int,
    ) -> None:
        if pending < last:
            sink(subject, headers, data, seq, ts_ns, pending)

    return keep
