"""What the bench parent tells a worker process, and the JSON lines a worker answers with.

A worker gets one `WorkerSpec` as JSON on its command line and prints JSON lines on stdout:
`{"ready": true}` once subscribed (subscribers), `{"progress": n}` now and then when asked, and
one `{"result": {...}}` at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any

from nats_pubsub.logs.logger import Logger, LogSink

__all__ = ["CountingDevNull", "WorkerSpec", "devnull_logger", "emit", "report_progress"]

_PROGRESS_EVERY = 0.25  # seconds


@dataclass(frozen=True)
class WorkerSpec:
    """One worker's job: its role, the mode measured and the load."""

    role: str  # sub, pub, js-pub, js-fill, js-replay
    mode: str  # ours, bare, classic
    url: str
    subject: str
    msgs: int
    size: int = 0
    service: str = "subscriber"  # for role sub: subscriber or monitor
    rate: float = 0.0  # publishers: messages per second, 0 = flat out
    stream: str = ""  # JetStream roles
    latency: bool = False  # subscribers: keep an HDR histogram of latencies
    progress: bool = False
    idle_seconds: float = 5.0  # subscribers give up this long after the last message
    index: int = 0  # which of the --clients this is (names its source)

    def to_json(self) -> str:
        """The command-line form."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        """Read the command-line form."""
        return cls(**json.loads(text))


def emit(**fields: Any) -> None:
    """Print one protocol line."""
    print(json.dumps(fields), flush=True)


async def report_progress(done: Callable[[], int]) -> None:
    """Print `{"progress": n}` a few times a second until cancelled."""
    while True:
        await asyncio.sleep(_PROGRESS_EVERY)
        emit(progress=done())


class CountingDevNull:
    """A binary stream that discards what it gets and counts the lines, for progress."""

    def __init__(self) -> None:
        self.lines = 0
        self.tail = b""
        self._null: IO[bytes] = open(os.devnull, "wb")  # noqa: SIM115 - lives with the object

    def write(self, data: bytes) -> int:
        """Count and discard."""
        self.lines += data.count(b"\n")
        self.tail = (self.tail[-8192:] + data[-8192:])[-8192:]
        return self._null.write(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def last_record(self, message: str) -> dict[str, Any] | None:
        """The last record with this message text among the final lines written."""
        needle = json.dumps(message).encode()
        for line in reversed(self.tail.splitlines()):
            if needle in line:
                with contextlib.suppress(ValueError):
                    found = json.loads(line)
                    if isinstance(found, dict) and found.get("message") == message:
                        return found
        return None


def devnull_logger(name: str) -> tuple[Logger, CountingDevNull]:
    """Our real logger, really rendering and writing every line, to /dev/null."""
    sink = CountingDevNull()
    return Logger(name, LogSink(sink)), sink  # type: ignore[arg-type]
