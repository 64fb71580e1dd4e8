"""Our exception tree: every failure that leaves a module is one of these.

NatsPubsubError
├── ConfigError                 a setting is missing or malformed (CLI exits 2)
├── InvalidMessageError         a received payload breaks the message schema
├── EmbeddedServerError         the bundled nats-server could not start
│   └── PortInUseError          its client or monitoring port is taken
├── ChaosError                  a chaos soak could not run (a service did not start, ...)
└── NatsError                   anything the NATS client reported (connection/error_map.py)
    ├── NatsConnectError        no server could be reached or the handshake failed
    │   ├── NatsAuthError       the server refused our credentials or TLS
    │   └── NatsConnectionLost  a working connection ended (EOF, reset): a reconnect follows
    ├── NatsClosedError         the connection is closed or draining
    ├── NatsTimeoutError        a flush, request or drain took too long
    ├── NatsBufferFullError     the outbound buffer is full while reconnecting
    ├── NatsPayloadTooLarge     the message exceeds the server's max_payload
    ├── NatsSubjectError        the subject is not valid for the operation
    ├── NatsPermissionError     the server refused a publish or subscribe for our user
    ├── NatsNoRespondersError   a request found nobody subscribed to answer it
    ├── NatsSlowConsumerError   messages were dropped because we could not keep up
    └── JetStreamError          a JetStream API call failed (mapped in connection/js_streams.py)
        ├── JetStreamUnavailable        the server has no JetStream (start it with -js)
        ├── JetStreamBusy               no answer in time or 503: a leader election, retried
        ├── StreamSubjectsOverlap       another stream already owns the subjects
        └── JetStreamNotFound           the stream or consumer named does not exist
            ├── StreamNotFound
            └── ConsumerNotFound
"""

from __future__ import annotations

__all__ = [
    "ChaosError",
    "ConfigError",
    "ConsumerNotFound",
    "EmbeddedServerError",
    "InvalidMessageError",
    "JetStreamBusy",
    "JetStreamError",
    "JetStreamNotFound",
    "JetStreamUnavailable",
    "NatsAuthError",
    "NatsBufferFullError",
    "NatsClosedError",
    "NatsConnectError",
    "NatsConnectionLost",
    "NatsError",
    "NatsNoRespondersError",
    "NatsPayloadTooLarge",
    "NatsPermissionError",
    "NatsPubsubError",
    "NatsSlowConsumerError",
    "NatsSubjectError",
    "NatsTimeoutError",
    "PortInUseError",
    "StreamNotFound",
    "StreamSubjectsOverlap",
]


class NatsPubsubError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(NatsPubsubError):
    """A setting is missing or malformed; the message says which and how to fix it."""


class ChaosError(NatsPubsubError):
    """A chaos soak could not run to its checks; the message says what stopped it."""


class InvalidMessageError(NatsPubsubError):
    """A payload is not a valid message; `reason` is a short, bounded category for counting."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class EmbeddedServerError(NatsPubsubError):
    """The bundled nats-server could not be started or did not become ready."""


class PortInUseError(EmbeddedServerError):
    """A port the embedded server needs is already taken by another process."""


class NatsError(NatsPubsubError):
    """The NATS client reported a failure."""


class NatsConnectError(NatsError):
    """No server in the list could be reached."""


class NatsAuthError(NatsConnectError):
    """The server refused the connection's credentials or TLS settings."""


class NatsConnectionLost(NatsConnectError):
    """The server closed the connection or it broke; the client reconnects on its own."""


class NatsClosedError(NatsError):
    """The connection is closed or draining and takes no new work."""


class NatsTimeoutError(NatsError):
    """A flush, request or drain did not complete in time."""


class NatsBufferFullError(NatsError):
    """Publishes buffered during a reconnect exceeded the client's pending size."""


class NatsPayloadTooLarge(NatsError):
    """The message is larger than the server accepts."""


class NatsSubjectError(NatsError):
    """The subject is not valid for this operation."""


class NatsPermissionError(NatsError):
    """The server refused a publish or subscribe: the user lacks permission for the subject."""


class NatsNoRespondersError(NatsError):
    """A request was sent to a subject nobody subscribes to, so no reply can come."""


class NatsSlowConsumerError(NatsError):
    """Messages were dropped because this client did not keep up (its or the server's limit)."""


class JetStreamError(NatsError):
    """A JetStream API call failed; `err_code` and `status` are the server's, when it said."""

    def __init__(self, message: str, *, err_code: int = 0, status: int = 0) -> None:
        super().__init__(message)
        self.err_code = err_code
        self.status = status


class JetStreamUnavailable(JetStreamError):
    """The server answered without JetStream; it must run with JetStream enabled."""


class StreamSubjectsOverlap(JetStreamError):
    """A stream could not be created because another stream owns overlapping subjects."""


class JetStreamBusy(JetStreamError):
    """JetStream did not answer in time or said it is temporarily unavailable (worth a retry)."""


class JetStreamNotFound(JetStreamError):
    """The stream or consumer an operation names does not exist."""


class StreamNotFound(JetStreamNotFound):
    """No stream by that name."""


class ConsumerNotFound(JetStreamNotFound):
    """No consumer by that name on the stream."""
