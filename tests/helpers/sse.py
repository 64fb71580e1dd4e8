"""A reader of Server-Sent Events on its own thread, so a test can wait on what arrives (the
dashboard's feed and tail)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx

__all__ = ["SseEvent", "SseReader", "last_tick"]

Predicate = Callable[[list["SseEvent"]], bool]


class SseEvent(NamedTuple):
    """One Server-Sent Event: its name and its JSON data."""

    name: str
    data: Any


class SseReader:
    """Reads an event stream on a thread; `wait_until` blocks on what has arrived."""

    def __init__(self, url: str, params: dict[str, str] | None = None) -> None:
        self.events: list[SseEvent] = []
        self.status: int | None = None
        self._changed = threading.Condition()
        self._closed = False
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=60))
        self._thread = threading.Thread(target=self._read, args=(url, params), daemon=True)
        self._thread.start()

    def _read(self, url: str, params: dict[str, str] | None) -> None:
        try:
            with self._client.stream("GET", url, params=params) as response:
                with self._changed:
                    self.status = response.status_code
                    self._changed.notify_all()
                name = "message"
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line[len("event: ") :]
                    elif line.startswith("data: "):
                        event = SseEvent(name, json.loads(line[len("data: ") :]))
                        with self._changed:
                            self.events.append(event)
                            self._changed.notify_all()
                        name = "message"
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test, or the gateway went away
        finally:
            with self._changed:
                self._closed = True
                self._changed.notify_all()

    def named(self, name: str) -> list[Any]:
        """The data of every event called `name` so far."""
        with self._changed:
            return [e.data for e in self.events if e.name == name]

    def wait_until(self, ready: Predicate, what: str, timeout: float = 30.0) -> list[SseEvent]:
        """Block until `ready(events)` holds; fail saying `what` was awaited."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not ready(self.events):
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    tail = self.events[-3:]
                    raise AssertionError(f"waited {timeout}s for {what}; last events: {tail}")
                self._changed.wait(left)
            return list(self.events)

    def close(self) -> None:
        """Stop reading."""
        self._client.close()
        self._thread.join(10)


def last_tick(events: list[SseEvent]) -> Any:
    """The newest tick's (or the snapshot's) data, or None."""
    for event in reversed(events):
        if event.name in ("tick", "snapshot"):
            return event.data
    return None
