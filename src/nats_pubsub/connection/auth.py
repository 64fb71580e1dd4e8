"""Turn the security settings into the NATS client's TLS context and credential options."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from nats_pubsub.config.credentials import creds_problem, nkey_seed_problem, read_secret_file
from nats_pubsub.errors import NatsAuthError

if TYPE_CHECKING:
    from nats_pubsub.config.security import SecuritySettings

__all__ = [
    "auth_method",
    "build_tls_context",
    "check_creds",
    "check_nkey_seed",
    "client_security_options",
    "wants_tls",
]


def wants_tls(settings: SecuritySettings, servers: list[str]) -> bool:
    """True when a TLS setting was given or a server URL says tls:// (or wss://)."""
    schemes = {urlsplit(url).scheme for url in servers}
    return settings.uses_tls_options or bool(schemes & {"tls", "wss"})


def build_tls_context(settings: SecuritySettings) -> ssl.SSLContext:
    """A client TLS context: the system trust store, or NATS_CA; NATS_CERT/NATS_KEY for mTLS.

    Raises NatsAuthError naming the file when a certificate or key cannot be loaded.
    """
    try:
        context = ssl.create_default_context(
            cafile=str(settings.nats_ca) if settings.nats_ca else None
        )
    except (ssl.SSLError, OSError) as exc:
        raise NatsAuthError(
            f"TLS: cannot load CA file {settings.nats_ca} (NATS_CA): {exc}"
        ) from exc
    if settings.nats_cert is not None and settings.nats_key is not None:
        try:
            context.load_cert_chain(str(settings.nats_cert), str(settings.nats_key))
        except (ssl.SSLError, OSError) as exc:
            raise NatsAuthError(
                f"TLS: cannot load client certificate {settings.nats_cert} (NATS_CERT) "
                f"with key {settings.nats_key} (NATS_KEY): {exc}"
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


def _secret(value: Any, path: Path | None) -> str | None:
    """A secret given directly (SecretStr-like) or in a file; None when neither is."""
    if value is not None:
        return str(value.get_secret_value())
    return read_secret_file(path) if path is not None else None


def auth_method(settings: SecuritySettings) -> str | None:
    """Which credentials the settings carry, for the `Connected to NATS` record (no secrets)."""
    if settings.nats_creds is not None:
        return "creds"
    if settings.nats_nkey is not None:
        return "nkey"
    if settings.nats_token is not None or settings.nats_token_file is not None:
        return "token"
    if settings.nats_user is not None:
        return "user"
    return None


def client_security_options(settings: SecuritySettings, servers: list[str]) -> dict[str, Any]:
    """The nats-py `connect()` keyword arguments for credentials and TLS."""
    options: dict[str, Any] = {}
    if settings.nats_user is not None:
        options["user"] = settings.nats_user
        password = _secret(settings.nats_password, settings.nats_password_file)
        if password is not None:
            options["password"] = password
    token = _secret(settings.nats_token, settings.nats_token_file)
    if token is not None:
        options["token"] = token
    if settings.nats_nkey is not None:
        check_nkey_seed(settings.nats_nkey.read_bytes(), str(settings.nats_nkey))
        options["nkeys_seed"] = str(settings.nats_nkey)
    if settings.nats_creds is not None:
        check_creds(settings.nats_creds.read_bytes(), str(settings.nats_creds))
        options["user_credentials"] = str(settings.nats_creds)
    if wants_tls(settings, servers):
        options["tls"] = build_tls_context(settings)
        if settings.nats_tls_hostname is not None:
            options["tls_hostname"] = settings.nats_tls_hostname
    return options
