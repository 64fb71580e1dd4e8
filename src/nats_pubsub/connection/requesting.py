"""Core NATS request/reply for callers outside the connection layer: one request, one reply.

Part of the connection layer: nats-py's failures become ours (`NatsNoRespondersError` when nobody
listens on the subject, `NatsTimeoutError` when nobody answered in time).
"""

from __future__ import annotations

from typing import NamedTuple

import nats.errors as nerr

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.error_map import CLIENT_ERRORS, map_error
from nats_pubsub.errors import NatsNoRespondersError, NatsTimeoutError

__all__ = ["Reply", "request"]


class Reply(NamedTuple):
    """A reply: the subject it came on, its payload and its headers (None when it had none)."""

    subject: str
    data: bytes
    headers: dict[str, str] | None


async def request(
    conn: Connection,
    subject: str,
    payload: bytes,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send `payload` to `subject` and wait up to `timeout` seconds for the first reply."""
    try:
        msg = await conn.client.request(subject, payload, timeout=timeout, headers=headers)
    except nerr.NoRespondersError:
        raise NatsNoRespondersError(f"no responders on {subject}") from None
    except (nerr.TimeoutError, TimeoutError):
        raise NatsTimeoutError(f"no reply on {subject} within {timeout:g} s") from None
    except CLIENT_ERRORS as exc:
        raise map_error(exc) from exc
    return Reply(msg.subject, msg.data, msg.headers)
