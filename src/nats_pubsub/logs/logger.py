"""Structured logging: one JSON object per line (or a readable console line), written cheaply.

Records carry `timestamp`, `level`, `logger`, `message`, `module`, `function` and then the event's
own fields at the top level, so Loki/Promtail can parse them with a plain `json` stage. Lines are
batched and written once per event-loop turn instead of once per record.
"""

from __future__ import annotations

import asyncio
import select
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import IO, Any, Final

import msgspec
from msgspec import UNSET

from nats_pubsub.domain.timeutil import format_ns, now_ns
from nats_pubsub.logs.bounds import MAX_FIELD_CHARS, bound_fields
from nats_pubsub.logs.console import render_console
from nats_pubsub.logs.lines import STAMP, check_fields, fallback, line_format, record_type

__all__ = ["LEVELS", "LogSink", "Logger", "render_console", "stdout_sink", "write_all"]

LEVELS: Final = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
_FLUSH_AT_BYTES: Final = 64 * 1024
_RECORDS_AT_ONCE: Final = 256  # records held before a flush (about 64 KiB of lines)
# (module, function) per calling code object: looked up once, not per record.
_WHERE: dict[CodeType, tuple[str, str]] = {}


class LogSink:
    """A buffered line writer that flushes once per event-loop turn, or at once outside a loop.

    Lines come as bytes (`write`) or as records not yet encoded (`write_record`: msgspec structs
    of plain values, encoded together at the flush with one `encode_lines` call, in order).
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buffer: list[bytes] = []
        self._records: list[Any] = []  # after everything in _buffer
        self._size = 0
        self._scheduled: asyncio.AbstractEventLoop | None = None
        self._encode_lines = msgspec.json.Encoder(enc_hook=fallback).encode_lines

    def write(self, line: bytes) -> None:
        """Queue one line (with its newline) for writing."""
        if self._records:
            self._take_records()
        self._buffer.append(line)
        self._size += len(line)
        if self._size >= _FLUSH_AT_BYTES:
            self.flush()
            return
        self._schedule()

    def write_record(self, record: Any) -> None:
        """Queue one record to be encoded as a JSON line at the next flush (hot paths)."""
        records = self._records
        records.append(record)
        if len(records) >= _RECORDS_AT_ONCE:
            self.flush()
            return
        loop = asyncio._get_running_loop()  # None outside a loop; no exception to raise
        if loop is None or self._scheduled is not loop:
            self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._scheduled is not loop:  # also when a flush was left pending on a loop now gone
            self._scheduled = loop
            loop.call_soon(self.flush)

    def _take_records(self) -> None:
        data = self._encode_lines(self._records)
        self._records.clear()
        self._buffer.append(data)
        self._size += len(data)

    def flush(self) -> None:
        """Write everything queued so far."""
        self._scheduled = None
        if self._records:
            self._take_records()
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        self._size = 0
        try:
            write_all(self._stream, data)
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            # The reader went away (e.g. `| head`); logging must never take the service down.
            pass


class Logger:
    """A named structured logger; `info("Message published", subject=...)` writes one record.

    No string in a record is longer than `max_field_chars` (see log_bounds): records built from
    fields are cut here; callers of `record_emitter` cut values that may be long themselves.
    """

    __slots__ = ("_encode", "_level", "_render", "_sink", "max_field_chars", "name")

    def __init__(
        self,
        name: str,
        sink: LogSink,
        *,
        level: str = "INFO",
        fmt: str = "json",
        color: bool = False,
        width: int | None = None,
        max_field_chars: int = MAX_FIELD_CHARS,
    ) -> None:
        self.name = name
        self.max_field_chars = max_field_chars
        self._sink = sink
        self._level = LEVELS[level]
        self._encode: Callable[[Any], bytes] = msgspec.json.Encoder(enc_hook=fallback).encode
        self._render: Callable[[dict[str, Any]], bytes]
        if fmt == "console":
            self._render = lambda rec: (
                render_console(rec, color=color, width=width) + "\n"
            ).encode()
        else:
            self._render = self._json_line

    def _json_line(self, record: dict[str, Any]) -> bytes:
        return self._encode(record) + b"\n"

    def child(self, name: str) -> Logger:
        """A logger with another name writing to the same sink, level and format."""
        other = object.__new__(Logger)
        other.name = name
        other._sink = self._sink
        other._level = self._level
        other._encode = self._encode
        other._render = self._render
        other.max_field_chars = self.max_field_chars
        return other

    def is_enabled(self, level: str) -> bool:
        """True when records of `level` are written."""
        return LEVELS[level] >= self._level

    def log(self, level: str, message: str, fields: dict[str, Any], depth: int = 1) -> None:
        """Write one record at `level`; `depth` counts frames up to the caller to name."""
        if LEVELS[level] < self._level:
            return
        code = sys._getframe(depth).f_code
        where = _WHERE.get(code)
        if where is None:
            where = _WHERE[code] = (Path(code.co_filename).stem, code.co_name)
        self._sink.write(
            self._render(
                {
                    "timestamp": format_ns(now_ns()),
                    "level": level,
                    "logger": self.name,
                    "message": message,
                    "module": where[0],
                    "function": where[1],
                    **bound_fields(fields, self.max_field_chars),
                }
            )
        )

    def emitter(
        self, level: str, message: str, function: str | None = None
    ) -> Callable[[dict[str, Any]], None]:
        """A fast writer of one kind of record, for hot paths: `emit(fields)`.

        The caller's module and function are looked up once, here, instead of per record, and
        the fields dict is used as it is (no keyword-argument copy).
        """
        code = sys._getframe(1).f_code
        module, function = Path(code.co_filename).stem, function or code.co_name
        if LEVELS[level] < self._level:
            return _ignore
        name, sink, render, limit = self.name, self._sink, self._render, self.max_field_chars

        def emit(fields: dict[str, Any]) -> None:
            record = {
                "timestamp": format_ns(now_ns()),
                "level": level,
                "logger": name,
                "message": message,
                "module": module,
                "function": function,
            }
            record.update(bound_fields(fields, limit))
            sink.write(render(record))

        return emit

    def record_emitter(
        self, level: str, message: str, names: tuple[str, ...], function: str | None = None
    ) -> Callable[..., None]:
        """The fastest writer of one kind of record: `emit(*values)`, one value per name
        (`msgspec.UNSET` leaves its field out). Values must not change after: they are encoded
        later, with the sink's batch; a string that may be longer than `max_field_chars` must
        be cut by the caller first (`bounds.bound_values`).

        The record's shape is a msgspec struct made once, here: each record is one struct
        construction and one C-level encode, with no dict built (same JSON as `emitter`).
        """
        code = sys._getframe(1).f_code
        module, function = Path(code.co_filename).stem, function or code.co_name
        if LEVELS[level] < self._level:
            return _ignore_values
        name, sink = self.name, self._sink
        if self._render != self._json_line:  # console: readable lines, speed matters less
            emit_dict = self.emitter(level, message, function)

            def emit_console(*values: Any) -> None:
                emit_dict({k: v for k, v in zip(names, values, strict=True) if v is not UNSET})

            return emit_console
        record = record_type(names)
        write = sink.write_record

        def emit(*values: Any) -> None:
            write(record(format_ns(now_ns()), level, name, message, module, function, *values))

        return emit

    def line_format(
        self, level: str, message: str, fields: dict[str, Any], function: str | None = None
    ) -> bytes | None:
        """The record `message` with `fields` as a bytes %-format (`log_lines`), for hot paths:
        filled with the two parts of `timeutil.stamp_parts` and then each `Fill` of `fields`,
        in order, it is the JSON line the other writers make. Write its lines with `write_lines`.

        None when such records are not written as JSON lines (console format, or the level is
        off): use an emitter then.
        """
        check_fields(fields)
        if LEVELS[level] < self._level or self._render != self._json_line:
            return None
        code = sys._getframe(1).f_code
        head = {
            "timestamp": STAMP,
            "level": level,
            "logger": self.name,
            "message": message,
            "module": Path(code.co_filename).stem,
            "function": function or code.co_name,
        }
        return line_format({**head, **fields})

    def write_lines(self, data: bytes) -> None:
        """Write JSON lines made with a `line_format` (each with its newline), in order."""
        self._sink.write(data)

    def debug(self, message: str, **fields: Any) -> None:
        """Write a DEBUG record."""
        self.log("DEBUG", message, fields, 2)

    def info(self, message: str, **fields: Any) -> None:
        """Write an INFO record."""
        self.log("INFO", message, fields, 2)

    def warning(self, message: str, **fields: Any) -> None:
        """Write a WARNING record."""
        self.log("WARNING", message, fields, 2)

    def error(self, message: str, **fields: Any) -> None:
        """Write an ERROR record."""
        self.log("ERROR", message, fields, 2)

    def flush(self) -> None:
        """Write out everything buffered."""
        self._sink.flush()


def write_all(stream: IO[bytes], data: bytes) -> None:
    """Write all of `data`. A buffered write interrupted by a signal (SIGTERM while the reader of
    a pipe lags) returns a short count and drops the rest; this writes the rest."""
    while data:
        try:
            written = stream.write(data)
        except BlockingIOError as exc:  # a non-blocking stream that is full: wait for room
            written = exc.characters_written
            select.select([], [stream], [], 1.0)
        data = data[written or 0 :]  # the rare short write: only then is the rest copied


def _ignore(fields: dict[str, Any]) -> None:
    """The emitter of a level that is not logged."""


def _ignore_values(*values: Any) -> None:
    """The record emitter of a level that is not logged."""


def stdout_sink() -> LogSink:
    """The sink every service writes to: standard output."""
    return LogSink(sys.stdout.buffer)
