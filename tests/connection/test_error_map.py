"""How client failures are classified: a server that drops us vs one that is not there."""

from __future__ import annotations

import ssl

import nats.errors as nerr
import pytest

from nats_pubsub.connection.error_map import map_error, server_dropped_us
from nats_pubsub.errors import NatsAuthError, NatsBufferFullError, NatsConnectError


@pytest.mark.parametrize(
    "exc",
    [
        ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] alert"),
        ConnectionResetError(104, "Connection reset by peer"),
        nerr.UnexpectedEOF(),
        OSError("unexpected EOF while reading"),
    ],
)
def test_dropped_during_handshake(exc: BaseException) -> None:
    """A reset, an EOF or a TLS alert means a server was there and ended the handshake."""
    assert server_dropped_us(exc)


@pytest.mark.parametrize(
    "exc",
    [ConnectionRefusedError(111, "refused"), nerr.NoServersError(), TimeoutError()],
)
def test_nothing_there(exc: BaseException) -> None:
    """Refused, no servers, or a timeout: nothing answered, so retrying makes sense."""
    assert not server_dropped_us(exc)


def test_mapping_examples() -> None:
    """Client errors land in our tree with a readable cause."""
    assert isinstance(map_error(ConnectionRefusedError(111, "refused")), NatsConnectError)
    assert isinstance(map_error(nerr.OutboundBufferLimitError()), NatsBufferFullError)
    assert isinstance(map_error(nerr.Error("nats: 'Authorization Violation'")), NatsAuthError)
