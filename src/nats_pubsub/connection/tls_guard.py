"""TLS never downgrades: when TLS is configured, CONNECT (with every credential) goes only over TLS.

nats-py upgrades a connection to TLS only when the server's INFO says `tls_required`: given a
`tls://` URL or a CA and a server that does not ask for TLS (or a relay that strips the flag), it
sends CONNECT, and with it the password, token, JWT or signature, in clear. `guard` hooks the one
client it is given, for its first connect and every reconnect: a server that offers TLS without
requiring it (`tls_available`) is upgraded, and a connection that is still not TLS when CONNECT
is due fails with nats-py's `SecureConnWantedError` before a byte of CONNECT is written.

Part of the connection layer (it reads nats-py internals: `_process_info`, `_connect_command`,
`_transport`); `connect.connect` installs it and `error_map.map_error` words the refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nats.errors as nerr

from nats_pubsub.errors import NatsAuthError

__all__ = ["guard", "should_upgrade", "transport_uses_tls"]

_HOOKED = ("_process_info", "_connect_command")


def should_upgrade(wanted: bool, transport_tls: bool, info: Mapping[str, Any]) -> bool:
    """True when TLS is wanted, the connection is plain, and the server offers TLS without
    requiring it (nats-py would otherwise stay plain): then the connection is upgraded."""
    return (
        wanted
        and not transport_tls
        and not info.get("tls_required")
        and bool(info.get("tls_available"))
    )


def transport_uses_tls(transport: Any) -> bool:
    """True when nats-py's transport is encrypted (TCP upgraded or started as TLS, or wss://);
    False for anything it cannot tell (so a guard fails closed)."""
    writer = getattr(transport, "_io_writer", None)
    if writer is not None:
        return writer.get_extra_info("ssl_object") is not None
    return getattr(transport, "_using_tls", None) is True  # the WebSocket transport


def guard(client: Any) -> None:
    """Make `client` (a nats-py Client, before `connect`) refuse to send CONNECT except over TLS.

    Raises NatsAuthError when this nats-py lacks the methods the guard hooks: TLS was asked for
    and could not be guaranteed, so nothing is sent.
    """
    if not all(callable(getattr(client, name, None)) for name in _HOOKED):
        raise NatsAuthError(
            "TLS is configured but this nats-py version cannot be checked to keep credentials "
            "off a plain connection; install a nats-py 2.x release this package supports"
        )
    process_info = client._process_info
    connect_command = client._connect_command

    async def checked_info(info: dict[str, Any], initial_connection: bool = False) -> None:
        # nats-py reads `tls_required` from this same dict right after, to decide on upgrading.
        if initial_connection and should_upgrade(True, transport_uses_tls(client._transport), info):
            info["tls_required"] = True
        await process_info(info, initial_connection=initial_connection)

    def checked_connect() -> bytes:
        if not transport_uses_tls(client._transport):
            raise nerr.SecureConnWantedError
        command: bytes = connect_command()
        return command

    client._process_info = checked_info
    client._connect_command = checked_connect
