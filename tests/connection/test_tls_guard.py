"""The TLS guard's decisions: when to upgrade, what counts as TLS, how a refusal reads."""

from __future__ import annotations

import nats.errors as nerr
import pytest
from nats.aio.client import Client
from nats.aio.transport import TcpTransport

from nats_pubsub.connection._natspy import transport_uses_tls
from nats_pubsub.connection.error_map import map_error
from nats_pubsub.connection.tls_guard import guard, should_upgrade
from nats_pubsub.errors import NatsAuthError


@pytest.mark.parametrize(
    ("wanted", "transport_tls", "info", "upgrade"),
    [
        (True, False, {"tls_available": True}, True),  # offered, not required: take it
        (True, False, {"tls_required": True}, False),  # nats-py upgrades by itself
        (True, False, {}, False),  # nothing offered: CONNECT is refused later
        (True, True, {"tls_available": True}, False),  # already TLS (TLS first, wss://)
        (False, False, {"tls_available": True}, False),  # not asked for: stay as configured
    ],
)
def test_should_upgrade(
    wanted: bool, transport_tls: bool, info: dict[str, bool], upgrade: bool
) -> None:
    """Upgrade only a plain connection to a server that offers TLS without requiring it."""
    assert should_upgrade(wanted, transport_tls, info) is upgrade


def test_a_transport_not_connected_is_not_tls() -> None:
    """Fail closed: a transport that cannot show an SSL object is plain."""
    assert transport_uses_tls(TcpTransport()) is False
    assert transport_uses_tls(None) is False


def test_guard_refuses_connect_on_a_plain_transport() -> None:
    """The hooked CONNECT builder raises before building anything on a plain transport."""
    client = Client()
    client._transport = TcpTransport()
    guard(client)
    with pytest.raises(nerr.SecureConnWantedError):
        client._connect_command()


def test_guard_needs_the_hooks() -> None:
    """A client without the methods the guard hooks: refused, not silently unguarded."""
    with pytest.raises(NatsAuthError, match="cannot be checked"):
        guard(object())


def test_refusal_is_an_auth_error_naming_the_cause() -> None:
    """The refusal maps to NatsAuthError (no retry) and says what to check."""
    mapped = map_error(nerr.SecureConnWantedError())
    assert isinstance(mapped, NatsAuthError)
    assert "does not offer TLS" in str(mapped)
    assert "NATS_CA" in str(mapped)
