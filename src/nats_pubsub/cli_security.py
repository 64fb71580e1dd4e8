"""The client security flags every client command takes, named as natscli names them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["security_options"]

_PATH = click.Path(path_type=Path)
# (flag, settings field, help); each flag's value goes straight to the field of the same name.
_OPTIONS = (
    ("--user", "nats_user", "User name [env NATS_USER]"),
    ("--password", "nats_password", "Password, with --user [env NATS_PASSWORD]"),
    ("--token", "nats_token", "Authentication token [env NATS_TOKEN]"),
    ("--creds", "nats_creds", "Credentials file, .creds (JWT) [env NATS_CREDS]"),
    ("--nkey", "nats_nkey", "NKey seed file [env NATS_NKEY]"),
    ("--tlsca", "nats_ca", "CA certificate to trust the server with [env NATS_CA]"),
    ("--tlscert", "nats_cert", "Client certificate for mutual TLS [env NATS_CERT]"),
    ("--tlskey", "nats_key", "Client certificate's private key [env NATS_KEY]"),
    ("--tls-hostname", "nats_tls_hostname", "Name to verify the server as [env NATS_TLS_HOSTNAME]"),
)
_FILES = frozenset({"nats_creds", "nats_nkey", "nats_ca", "nats_cert", "nats_key"})


def security_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --user, --password, --token, --creds, --nkey, --tlsca, --tlscert, --tlskey, ..."""
    for flag, field, text in reversed(_OPTIONS):
        kind = _PATH if field in _FILES else None
        func = click.option(flag, field, type=kind, help=text)(func)
    return func
