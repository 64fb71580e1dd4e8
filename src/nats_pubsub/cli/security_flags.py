"""The client security flags every client command takes, named as natscli names them, and the
warning when a secret is given on the command line (where every local user can read it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

__all__ = ["secret_flags_given", "secret_warning", "security_options"]

_PATH = click.Path(path_type=Path)
# (flag, settings field, help); each flag's value goes straight to the field of the same name.
_OPTIONS = (
    ("--user", "nats_user", "User name [env NATS_USER]"),
    ("--password", "nats_password", "Password, with --user (visible in ps) [env NATS_PASSWORD]"),
    (
        "--password-file",
        "nats_password_file",
        "File holding the password, with --user [env NATS_PASSWORD_FILE]",
    ),
    ("--token", "nats_token", "Authentication token (visible in ps) [env NATS_TOKEN]"),
    ("--token-file", "nats_token_file", "File holding the token [env NATS_TOKEN_FILE]"),
    ("--creds", "nats_creds", "Credentials file, .creds (JWT) [env NATS_CREDS]"),
    ("--nkey", "nats_nkey", "NKey seed file [env NATS_NKEY]"),
    ("--tlsca", "nats_ca", "CA certificate to trust the server with [env NATS_CA]"),
    ("--tlscert", "nats_cert", "Client certificate for mutual TLS [env NATS_CERT]"),
    ("--tlskey", "nats_key", "Client certificate's private key [env NATS_KEY]"),
    ("--tls-hostname", "nats_tls_hostname", "Name to verify the server as [env NATS_TLS_HOSTNAME]"),
)
_FILES = frozenset(
    {
        "nats_creds",
        "nats_nkey",
        "nats_ca",
        "nats_cert",
        "nats_key",
        "nats_password_file",
        "nats_token_file",
    }
)


def security_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --user, --password, --token, --creds, --nkey, --tlsca, --tlscert, --tlskey, ..."""
    for flag, field, text in reversed(_OPTIONS):
        kind = _PATH if field in _FILES else None
        func = click.option(flag, field, type=kind, help=text)(func)
    return func


def secret_flags_given(overrides: dict[str, Any]) -> list[str]:
    """The flags among `overrides` (settings fields set by flags) that carry a secret: a
    password, a token, or a URL with a password or token in it."""
    flags = [
        flag
        for field, flag in (("nats_password", "--password"), ("nats_token", "--token"))
        if overrides.get(field) is not None
    ]
    url = overrides.get("nats_url")
    if isinstance(url, str) and any(
        urlsplit(item.strip()).username is not None for item in url.split(",") if "@" in item
    ):
        flags.append("--url")
    return flags


def secret_warning(flags: list[str]) -> str:
    """The one line that says why secrets do not belong on a command line, and what to do."""
    return (
        f"warning: {' and '.join(flags)} on the command line can be read by every local user "
        "(ps, /proc/PID/cmdline); give secrets as NATS_PASSWORD / NATS_TOKEN in the environment "
        "or with --password-file / --token-file"
    )
