"""What the connection layer is handed to connect (servers, timeouts, buffers, credentials),
and how a service builds it from its settings, once: `connect_options(settings)`.

Pydantic-free: the connection layer imports the types, never a settings model, so settings stop
at the service that calls `connect_options`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:  # the service process runs from plain settings, without pydantic
    from nats_pubsub.config.base import CommonSettings
    from nats_pubsub.config.security import SecuritySettings

__all__ = ["ClientSecurity", "ConnectOptions", "Secret", "client_security", "connect_options"]


class Secret(Protocol):
    """A secret that does not print (pydantic's SecretStr, or the plain settings' own)."""

    def get_secret_value(self) -> str:
        """The secret itself."""


class ClientSecurity(NamedTuple):
    """How the client proves who it is and whom it trusts (files are read when it connects)."""

    user: str | None = None
    password: Secret | None = None
    password_file: Path | None = None
    token: Secret | None = None
    token_file: Path | None = None
    creds: Path | None = None
    nkey: Path | None = None
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    tls_hostname: str | None = None
    tls_options: bool = False  # a TLS setting was given (CA, certificate, key or host name)


class ConnectOptions(NamedTuple):
    """One client's connection: where, how long to wait, how much to buffer, as whom."""

    servers: list[str]
    connect_timeout: float
    reconnect_wait: float
    drain_timeout: float
    reconnect_buffer_size: int
    pending_msgs_limit: int
    pending_bytes_limit: int
    security: ClientSecurity = ClientSecurity()


def client_security(settings: SecuritySettings) -> ClientSecurity:
    """The credentials and TLS settings of a client."""
    return ClientSecurity(
        user=settings.nats_user,
        password=settings.nats_password,
        password_file=settings.nats_password_file,
        token=settings.nats_token,
        token_file=settings.nats_token_file,
        creds=settings.nats_creds,
        nkey=settings.nats_nkey,
        ca=settings.nats_ca,
        cert=settings.nats_cert,
        key=settings.nats_key,
        tls_hostname=settings.nats_tls_hostname,
        tls_options=settings.uses_tls_options,
    )


def connect_options(settings: CommonSettings) -> ConnectOptions:
    """How a service's client connects."""
    return ConnectOptions(
        servers=settings.servers,
        connect_timeout=settings.connect_timeout,
        reconnect_wait=settings.reconnect_wait,
        drain_timeout=settings.drain_timeout,
        reconnect_buffer_size=settings.reconnect_buffer_size,
        pending_msgs_limit=settings.pending_msgs_limit,
        pending_bytes_limit=settings.pending_bytes_limit,
        security=client_security(settings),
    )
