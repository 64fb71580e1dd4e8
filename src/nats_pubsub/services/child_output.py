"""A child process's output read as lines with no line-length limit, so the child never blocks.

`asyncio.StreamReader.readline()` gives up on a line longer than its buffer limit (64 KiB): the
reader stops, the pipe fills, and the child blocks on its next write for good. `pump` reads
chunks instead and `LineSplitter` cuts them into lines; a line longer than `max_bytes` keeps its
first `max_bytes` and says how many bytes were dropped, so memory stays bounded too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, NamedTuple

__all__ = ["MAX_LINE_BYTES", "Line", "LineSplitter", "pump"]

MAX_LINE_BYTES: Final = 1024 * 1024
_CHUNK: Final = 64 * 1024


class Line(NamedTuple):
    """One output line (ending in a line break) and the bytes cut from it (0: whole)."""

    data: bytes
    dropped: int


class LineSplitter:
    """Bytes in, complete lines out; a line over `max_bytes` is cut, the rest of it dropped."""

    __slots__ = ("_dropped", "_parts", "_size", "max_bytes")

    def __init__(self, max_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._parts: list[bytes] = []
        self._size = 0
        self._dropped = 0

    def feed(self, chunk: bytes) -> list[Line]:
        """The lines `chunk` completes (with what came before it)."""
        lines = []
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            self._add(chunk[start:end])
            lines.append(self._take())
            start = end + 1
        self._add(chunk[start:])
        return lines

    def finish(self) -> list[Line]:
        """The last line when the output ended without a line break."""
        return [self._take()] if self._size or self._dropped else []

    def _add(self, piece: bytes) -> None:
        room = self.max_bytes - self._size
        if len(piece) > room:
            self._dropped += len(piece) - room
            piece = piece[:room]
        if piece:
            self._parts.append(piece)
            self._size += len(piece)

    def _take(self) -> Line:
        line = Line(b"".join(self._parts) + b"\n", self._dropped)
        self._parts.clear()
        self._size = self._dropped = 0
        return line


async def pump(
    stream: asyncio.StreamReader,
    on_line: Callable[[Line], None],
    started: asyncio.Event,
    max_bytes: int = MAX_LINE_BYTES,
) -> None:
    """Hand each line of `stream` to `on_line` until it ends; `started` once anything arrived
    (and at the end, when the child exited without a word)."""
    splitter = LineSplitter(max_bytes)
    while chunk := await stream.read(_CHUNK):
        started.set()
        for line in splitter.feed(chunk):
            on_line(line)
    for line in splitter.finish():
        on_line(line)
    started.set()
