"""Turn the client's security options into nats-py's TLS context and credential arguments."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nats_pubsub.config.client import ClientSecurity, Secret
from nats_pubsub.config.credentials import creds_problem, nkey_seed_problem, read_secret_file
from nats_pubsub.errors import NatsAuthError

__all__ = [
    "auth_method",
    "build_tls_context",
    "check_creds",
    "check_nkey_seed",
    "client_security_options",
    "wants_tls",
]


def wants_tls(security: ClientSecurity, servers: list[str]) -> bool:
    """True when a TLS setting was given or a server URL says tls:// (or wss://)."""
    schemes = {urlsplit(url).scheme for url in servers}
    return security.tls_options or bool(schemes & {"tls", "wss"})


def build_tls_context(security: ClientSecurity) -> ssl.SSLContext:
    """A client TLS context: the system trust store, or NATS_CA; NATS_CERT/NATS_KEY for mTLS.

    Raises NatsAuthError naming the file when a certificate or key cannot be loaded.
    """
    try:
        context = ssl.create_default_context(cafile=str(security.ca) if security.ca else None)
    except (ssl.SSLError, OSError) as exc:
        raise NatsAuthError(f"TLS: cannot load CA file {security.ca} (NATS_CA): {exc}") from exc
    if security.cert is not None and security.key is not None:
        try:
            context.load_cert_chain(str(security.cert), str(security.key))
        except (ssl.SSLError, OSError) as exc:
            raise NatsAuthError(
                f"TLS: cannot load client certificate {security.cert} (NATS_CERT) "
                f"with key {security.key} (NATS_KEY): {exc}"
            ) from exc
    return context


def check_nkey_seed(content: bytes, where: str) -> None:
    """Raise NatsAuthError naming `where` unless `content` is an NKey seed (a file's bytes)."""
    if nkey_seed_problem(content.strip()) is not None:
        raise NatsAuthError(
            f"{where} (NATS_NKEY) is not a valid NKey seed: expected one line starting with SU"
        )


def check_creds(content: bytes, where: str) -> None:
    """Raise NatsAuthError naming `where` unless `content` is a usable .creds file."""
    problem = creds_problem(content)
    if problem is not None:
        raise NatsAuthError(f"{where} (NATS_CREDS) is not a valid .creds file: {problem}")


def _secret(value: Secret | None, path: Path | None) -> str | None:
    """A secret given directly or in a file; None when neither is."""
    if value is not None:
        return str(value.get_secret_value())
    return read_secret_file(path) if path is not None else None


def auth_method(security: ClientSecurity) -> str | None:
    """Which credentials the client uses, for the `Connected to NATS` record (no secrets)."""
    if security.creds is not None:
        return "creds"
    if security.nkey is not None:
        return "nkey"
    if security.token is not None or security.token_file is not None:
        return "token"
    if security.user is not None:
        return "user"
    return None


def client_security_options(security: ClientSecurity, servers: list[str]) -> dict[str, Any]:
    """The nats-py `connect()` keyword arguments for credentials and TLS."""
    options: dict[str, Any] = {}
    if security.user is not None:
        options["user"] = security.user
        password = _secret(security.password, security.password_file)
        if password is not None:
            options["password"] = password
    token = _secret(security.token, security.token_file)
    if token is not None:
        options["token"] = token
    if security.nkey is not None:
        check_nkey_seed(security.nkey.read_bytes(), str(security.nkey))
        options["nkeys_seed"] = str(security.nkey)
    if security.creds is not None:
        check_creds(security.creds.read_bytes(), str(security.creds))
        options["user_credentials"] = str(security.creds)
    if wants_tls(security, servers):
        options["tls"] = build_tls_context(security)
        if security.tls_hostname is not None:
            options["tls_hostname"] = security.tls_hostname
    return options
