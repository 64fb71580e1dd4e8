"""How a failure becomes an HTTP answer, pure: status and one line, never a traceback.

A client's mistake is a 4xx; NATS being down or slow is a 503 or 504; anything the gateway did
not foresee is a 500 with a fixed text (the details go to the log, not to the client).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from nats_pubsub.errors import (
    ConsumerNotFound,
    JetStreamBusy,
    JetStreamError,
    JetStreamUnavailable,
    NatsConnectError,
    NatsError,
    NatsNoRespondersError,
    NatsPayloadTooLarge,
    NatsPermissionError,
    NatsSubjectError,
    NatsTimeoutError,
    StreamNotFound,
    StreamSubjectsOverlap,
)
from nats_pubsub.gateway.validation import Invalid

__all__ = ["INTERNAL", "Failure", "failure"]

INTERNAL: Final = "Internal error; the gateway logged the details"
_CONSUMER_EXISTS: Final = 10148


class Failure(NamedTuple):
    """The answer to a failed request: status, error text, and whether it is the gateway's fault
    (logged at ERROR) rather than the client's or NATS's."""

    status: int
    text: str
    unexpected: bool = False
    details: str | None = None


def failure(exc: BaseException, stream: str | None = None, consumer: str | None = None) -> Failure:
    """The answer to `exc`, raised while serving a request about `stream` / `consumer`."""
    if isinstance(exc, Invalid):
        return Failure(400, str(exc), details=exc.details)
    if isinstance(exc, StreamNotFound):
        return Failure(404, f"Stream '{stream}' not found" if stream else str(exc))
    if isinstance(exc, ConsumerNotFound):
        where = f" on stream '{stream}'" if stream else ""
        return Failure(404, f"Consumer '{consumer}' not found{where}" if consumer else str(exc))
    if isinstance(exc, StreamSubjectsOverlap):
        return Failure(409, str(exc))
    if isinstance(exc, JetStreamUnavailable | JetStreamBusy | NatsConnectError):
        return Failure(503, str(exc))
    if isinstance(exc, NatsNoRespondersError):
        return Failure(503, str(exc))
    if isinstance(exc, NatsTimeoutError):
        return Failure(504, str(exc))
    if isinstance(exc, NatsPayloadTooLarge):
        return Failure(413, str(exc))
    if isinstance(exc, NatsSubjectError):
        return Failure(400, str(exc))
    if isinstance(exc, NatsPermissionError):
        return Failure(403, str(exc))
    if isinstance(exc, JetStreamError):
        if exc.err_code == _CONSUMER_EXISTS:
            return Failure(409, str(exc))
        if exc.status == 400:
            return Failure(400, str(exc))
        if exc.status == 404:
            return Failure(404, str(exc))
        return Failure(502, f"JetStream refused: {exc}")
    if isinstance(exc, NatsError):
        return Failure(502, f"NATS failed: {exc}")
    return Failure(500, INTERNAL, unexpected=True)
