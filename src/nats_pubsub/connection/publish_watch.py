"""What a JetStream publisher says about itself while acks are slow to come: a warning at most
once per burst (not once per message), and `Publishing stalled` / `Publishing resumed` (when is
domain/publish_retry's `StallWatch`). Shared by `AckWindow` and `BatchWindow`."""

from __future__ import annotations

import time
from typing import Any, Final

from nats_pubsub.domain.publish_retry import STALLED, StallWatch
from nats_pubsub.logs.logger import Logger

__all__ = ["PublishWatch"]

WARN_EVERY: Final = 5.0  # seconds between two warnings with the same text


class PublishWatch:
    """One publisher's warnings; `context` (e.g. the stream) goes into every record."""

    __slots__ = ("_context", "_log", "_quiet_until", "_stall")

    def __init__(self, log: Logger, **context: Any) -> None:
        self._log = log
        self._context = context
        self._quiet_until: dict[str, float] = {}  # per warning text
        self._stall = StallWatch()

    def warn(self, message: str, retried: int, **fields: Any) -> None:
        """Log `message` unless it was logged less than `WARN_EVERY` seconds ago."""
        now = time.monotonic()
        if now >= self._quiet_until.get(message, 0.0):
            self._quiet_until[message] = now + WARN_EVERY
            self._log.warning(message, **self._context, retries_so_far=retried, **fields)

    def look(
        self, now: float, *, acked: int, in_flight: int, retried: int, last_error: str
    ) -> None:
        """Say when publishing stalls (no ack for 5 s while messages wait) and when it resumes;
        called now and then, not per message."""
        change = self._stall.observe(now, acked, in_flight > 0)
        if change is None:
            return
        what, seconds = change
        if what == STALLED:
            self._log.warning(
                "Publishing stalled",
                **self._context,
                seconds_without_ack=round(seconds, 1),
                in_flight=in_flight,
                last_error=last_error or None,
                retries_so_far=retried,
            )
        else:
            self._log.warning(
                "Publishing resumed",
                **self._context,
                stalled_seconds=round(seconds, 1),
                retries_so_far=retried,
            )
