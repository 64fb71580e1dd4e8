"""TLS never downgrades: when TLS is configured, CONNECT (with every credential) goes only over TLS.

nats-py upgrades a connection to TLS only when the server's INFO says `tls_required`: given a
`tls://` URL or a CA and a server that does not ask for TLS (or a relay that strips the flag), it
sends CONNECT, and with it the password, token, JWT or signature, in clear. `guard` hooks the one
client it is given, for its first connect and every reconnect: a server that offers TLS without
requiring it (`tls_available`) is upgraded, and a connection that is still not TLS when CONNECT
is due fails with nats-py's `SecureConnWantedError` before a byte of CONNECT is written.

Part of the connection layer: the hooks into nats-py's handshake are `_natspy.guard_handshake`;
`connect.connect` installs the guard and `error_map.map_error` words the refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from nats_pubsub.connection._natspy import guard_handshake
from nats_pubsub.errors import NatsAuthError

__all__ = ["guard", "should_upgrade"]


def should_upgrade(wanted: bool, transport_tls: bool, info: Mapping[str, Any]) -> bool:
    """True when TLS is wanted, the connection is plain, and the server offers TLS without
    requiring it (nats-py would otherwise stay plain): then the connection is upgraded."""
    return (
        wanted
        and not transport_tls
        and not info.get("tls_required")
        and bool(info.get("tls_available"))
    )


def guard(client: Any) -> None:
    """Make `client` (a nats-py Client, before `connect`) refuse to send CONNECT except over TLS.

    Raises NatsAuthError when this nats-py lacks the methods the guard hooks: TLS was asked for
    and could not be guaranteed, so nothing is sent.
    """
    if not guard_handshake(client, partial(should_upgrade, True)):
        raise NatsAuthError(
            "TLS is configured but this nats-py version cannot be checked to keep credentials "
            "off a plain connection; install nats-py 2.16, the version this package is tested with"
        )
