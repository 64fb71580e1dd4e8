"""How nats-py's failures become ours: the one mapping from client errors to our tree.

Part of the connection layer (core.py, connect.py and callbacks.py use it); see errors.py for
the tree itself.
"""

from __future__ import annotations

import asyncio
import re
import ssl

import nats.errors as nerr

from nats_pubsub.errors import (
    NatsAuthError,
    NatsBufferFullError,
    NatsClosedError,
    NatsConnectError,
    NatsConnectionLost,
    NatsError,
    NatsPayloadTooLarge,
    NatsPermissionError,
    NatsSlowConsumerError,
    NatsSubjectError,
    NatsTimeoutError,
)

__all__ = ["CLIENT_ERRORS", "REFUSALS_BEFORE_GIVING_UP", "map_error", "server_dropped_us"]

# nats-py raises RuntimeError when it writes to a transport that closed under it.
CLIENT_ERRORS = (TimeoutError, nerr.Error, OSError, RuntimeError)
_PERMISSION_TEXT = "permissions violation"
# A server that accepts the TCP connection and then drops us this many times in a row is up and
# refusing this client (mutual TLS without a certificate often looks like a plain reset).
REFUSALS_BEFORE_GIVING_UP = 3
_AUTH_TEXT = re.compile(r"authorization violation|authentication", re.IGNORECASE)


def map_error(exc: BaseException) -> NatsError:
    """Translate a nats-py (or socket) failure into our exception tree."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, nerr.SlowConsumerError):
        return NatsSlowConsumerError(
            f"slow consumer: messages on {exc.subject} dropped, the pending limit was reached "
            "(raise PENDING_MSGS_LIMIT / PENDING_BYTES_LIMIT, or handle messages faster)"
        )
    if _PERMISSION_TEXT in text.lower():
        return NatsPermissionError(text.removeprefix("nats: "))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NatsAuthError(
            f"TLS failed: the server certificate is not trusted ({exc.verify_message}); "
            "set NATS_CA / --tlsca to the CA that signed it"
        )
    if isinstance(exc, nerr.OutboundBufferLimitError):
        return NatsBufferFullError(
            "the outbound buffer is full while NATS is unreachable; publishes are being dropped"
        )
    if isinstance(exc, nerr.MaxPayloadError):
        return NatsPayloadTooLarge(text)
    if isinstance(exc, nerr.BadSubjectError):
        return NatsSubjectError(text)
    if isinstance(exc, nerr.ConnectionClosedError | nerr.ConnectionDrainingError):
        return NatsClosedError("the connection is closed or draining")
    if isinstance(exc, nerr.TimeoutError | asyncio.TimeoutError):
        return NatsTimeoutError(text)
    if isinstance(exc, nerr.AuthorizationError) or _AUTH_TEXT.search(text):
        # On a first connect nats-py raises the server's -ERR as a plain Error: match its text.
        return NatsAuthError(f"authorization failed: {text}")
    if isinstance(exc, nerr.SecureConnWantedError):
        return NatsAuthError(
            "TLS refused: TLS is configured (a tls:// URL, NATS_CA, NATS_CERT or "
            "NATS_TLS_HOSTNAME) but the server does not offer TLS, so nothing was sent to it "
            "(credentials stay off a plain connection); check the URL and port, and that the "
            "server's configuration has a tls block"
        )
    if isinstance(exc, ssl.SSLError | nerr.SecureConnFailedError):
        return NatsAuthError(f"TLS failed: {text}")
    if isinstance(exc, nerr.StaleConnectionError | ConnectionResetError | BrokenPipeError):
        return NatsConnectionLost(text)
    if isinstance(exc, nerr.NoServersError | OSError):
        return NatsConnectError(text)
    if isinstance(exc, RuntimeError):
        return NatsClosedError(f"the connection was lost while writing: {text}")
    return NatsError(text)


def server_dropped_us(exc: BaseException) -> bool:
    """True when a server was there but ended the handshake (not: nothing listening, timeout)."""
    if isinstance(exc, ConnectionRefusedError | nerr.NoServersError | TimeoutError):
        return False
    if isinstance(exc, ssl.SSLError | ConnectionResetError | nerr.UnexpectedEOF | EOFError):
        return True
    text = str(exc).lower()
    return "eof" in text or "reset by peer" in text or "connection lost" in text
