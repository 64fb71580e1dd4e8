"""When a JetStream publish is sent again, when it is given up on, and when publishing counts as
stalled (pure: time is passed in).

A publish whose answer is transient (no responders while a stream leader is elected, JetStream
temporarily unavailable, a timeout, the same message id still being stored, a disconnect) is
sent again under the same `Nats-Msg-Id`, after a doubling delay, until it is acknowledged: the
stream keeps one copy however many times it is sent. Only an answer that cannot change (a
message too large, a subject no stream takes, a refused permission, a stream limit) fails it at
once, or a user-set time limit (`--give-up-after`) that runs out.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "NO_RESPONDERS",
    "RESUMED",
    "STALLED",
    "STALL_SECONDS",
    "StallWatch",
    "gave_up",
    "is_transient",
    "retry_delay",
]

NO_RESPONDERS: Final = "no stream answered (no responders): a stream leader is being elected"
STALLED: Final = "stalled"
RESUMED: Final = "resumed"
STALL_SECONDS: Final = 5.0  # no ack for this long while publishes wait: publishing is stalled
_FIRST_DELAY: Final = 0.1
_MAX_DELAY: Final = 2.0
# API error codes of a publish that may succeed if sent again.
_TRANSIENT_CODES: Final = frozenset({408, 503, 504})
_TRANSIENT_ERR_CODES: Final = frozenset(
    {
        10008,  # JetStream system temporarily unavailable
        10158,  # a message with this id is being stored right now (a retry raced its original)
    }
)


def is_transient(code: int, err_code: int) -> bool:
    """True when a publish refused with this API error may succeed if sent again."""
    return code in _TRANSIENT_CODES or err_code in _TRANSIENT_ERR_CODES


def retry_delay(attempts: int) -> float:
    """Seconds to wait before sending a publish again after `attempts` tries: 0.1 s, doubling,
    at most 2 s (an election takes a few seconds; a disconnect as long as the reconnect)."""
    return min(_MAX_DELAY, _FIRST_DELAY * float(2 ** min(max(0, attempts - 1), 16)))


def gave_up(first_sent: float, now: float, give_up_after: float | None) -> bool:
    """True when a publish first sent at `first_sent` has waited past `give_up_after` seconds
    (None: never give up)."""
    return give_up_after is not None and now - first_sent >= give_up_after


class StallWatch:
    """Looked at now and then (not per message): says once when publishing has had no ack for
    `threshold` seconds while publishes wait, and when acks come again after that."""

    __slots__ = ("_acks", "since", "stalled", "threshold")

    def __init__(self, threshold: float = STALL_SECONDS) -> None:
        self.threshold = threshold
        self.since: float | None = None  # the last progress seen, or when waiting began
        self.stalled: float | None = None  # when the stall began, while it lasts
        self._acks = 0

    def observe(self, now: float, acks: int, waiting: bool) -> tuple[str, float] | None:
        """`acks`: acknowledgements so far; `waiting`: publishes await theirs. Returns
        (STALLED, seconds without an ack) when a stall begins, (RESUMED, seconds it lasted)
        when acks came after one, else None."""
        if acks != self._acks:
            self._acks = acks
            self.since = now
            if self.stalled is not None:
                lasted, self.stalled = now - self.stalled, None
                return RESUMED, lasted
            return None
        if not waiting or self.since is None:
            self.since = now
            return None
        if self.stalled is None and now - self.since >= self.threshold:
            self.stalled = self.since
            return STALLED, now - self.since
        return None
