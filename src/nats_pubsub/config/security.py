"""Client security and buffer settings shared by every client: credentials, TLS, pending limits.

Variable names follow natscli (`NATS_USER`, `NATS_PASSWORD`, `NATS_CREDS`, `NATS_NKEY`, `NATS_CA`,
`NATS_CERT`, `NATS_KEY`), plus `NATS_TOKEN` and `NATS_TLS_HOSTNAME`. Secrets are `SecretStr`, so
they never print, and configuration errors never echo them. `NATS_PASSWORD_FILE` and
`NATS_TOKEN_FILE` name a file holding the secret instead, read when the client connects, so the
secret is on no command line, in no environment, and in no settings handed to another process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nats_pubsub.config.common import (
    DEFAULT_PENDING_BYTES_LIMIT,
    DEFAULT_PENDING_MSGS_LIMIT,
    DEFAULT_RECONNECT_BUFFER_SIZE,
    SecurityProperties,
)
from nats_pubsub.config.credentials import creds_problem, nkey_seed_problem, read_secret_file

__all__ = [
    "DEFAULT_PENDING_BYTES_LIMIT",
    "DEFAULT_PENDING_MSGS_LIMIT",
    "DEFAULT_RECONNECT_BUFFER_SIZE",
    "SECRET_FIELDS",
    "SECURITY_FLAGS",
    "SecuritySettings",
    "auth_conflicts",
]

# The flag for each field, so configuration errors name both ways of fixing them.
SECURITY_FLAGS = {
    "nats_user": "--user",
    "nats_password": "--password",
    "nats_password_file": "--password-file",
    "nats_token": "--token",
    "nats_token_file": "--token-file",
    "nats_creds": "--creds",
    "nats_nkey": "--nkey",
    "nats_ca": "--tlsca",
    "nats_cert": "--tlscert",
    "nats_key": "--tlskey",
    "nats_tls_hostname": "--tls-hostname",
}
# Fields whose value must never appear in an error message or a log record.
SECRET_FIELDS = frozenset({"nats_password", "nats_token", "gateway_token"})


def _name(field: str) -> str:
    return f"{field.upper()} / {SECURITY_FLAGS[field]}"


def auth_conflicts(given: set[str]) -> list[str]:
    """Why this set of configured credential fields cannot be used together (empty if it can)."""
    problems = []
    methods = [
        f
        for f in ("nats_user", "nats_token", "nats_token_file", "nats_nkey", "nats_creds")
        if f in given
    ]
    if len(methods) > 1:
        names = " and ".join(_name(f) for f in methods)
        problems.append(f"{names} cannot be combined: choose one way to authenticate")
    if {"nats_password", "nats_password_file"} <= given:
        problems.append(
            f"{_name('nats_password')} and {_name('nats_password_file')} cannot be combined: "
            "give the password one way"
        )
    for password in ("nats_password", "nats_password_file"):
        if password in given and "nats_user" not in given:
            problems.append(f"{_name(password)} needs {_name('nats_user')}")
    if ("nats_cert" in given) != ("nats_key" in given):
        problems.append(
            f"{_name('nats_cert')} and {_name('nats_key')} go together: give both or neither"
        )
    return problems


class SecuritySettings(SecurityProperties, BaseSettings):
    """How a client proves who it is and trusts the server; how much it buffers."""

    # Build each model's validator on first use: a process builds only the one it needs.
    model_config = SettingsConfigDict(defer_build=True)

    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_password_file: Path | None = None
    nats_token: SecretStr | None = None
    nats_token_file: Path | None = None
    nats_creds: Path | None = None
    nats_nkey: Path | None = None
    nats_ca: Path | None = None
    nats_cert: Path | None = None
    nats_key: Path | None = None
    nats_tls_hostname: str | None = None
    # Client-side limits: messages a subscription may hold before nats-py drops them (slow
    # consumer), and bytes of publishes buffered while reconnecting before publishing fails.
    pending_msgs_limit: int = Field(default=DEFAULT_PENDING_MSGS_LIMIT, ge=1)
    pending_bytes_limit: int = Field(default=DEFAULT_PENDING_BYTES_LIMIT, ge=1)
    reconnect_buffer_size: int = Field(default=DEFAULT_RECONNECT_BUFFER_SIZE, ge=1)

    @field_validator(
        "nats_creds",
        "nats_nkey",
        "nats_ca",
        "nats_cert",
        "nats_key",
        "nats_password_file",
        "nats_token_file",
    )
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.is_file():
            raise ValueError(f"no such file: {str(value)!r}")
        if not os.access(value, os.R_OK):
            raise ValueError(f"file is not readable: {str(value)!r}")
        return value

    @field_validator("nats_password_file", "nats_token_file")
    @classmethod
    def _holds_a_secret(cls, value: Path | None) -> Path | None:
        if value is not None and not read_secret_file(value):
            raise ValueError(f"{value} is empty: it should hold the secret alone, on one line")
        return value

    @field_validator("nats_creds")
    @classmethod
    def _creds_usable(cls, value: Path | None) -> Path | None:
        if value is not None:
            problem = creds_problem(value.read_bytes())
            if problem is not None:
                raise ValueError(f"{value} is not a valid .creds file: {problem}")
        return value

    @field_validator("nats_nkey")
    @classmethod
    def _seed_usable(cls, value: Path | None) -> Path | None:
        if value is not None and nkey_seed_problem(value.read_bytes().strip()) is not None:
            raise ValueError(f"{value} is not a valid NKey seed: expected one line beginning SU")
        return value

    @model_validator(mode="after")
    def _compatible(self) -> Self:
        given = {name for name in SECURITY_FLAGS if getattr(self, name) is not None}
        problems = auth_conflicts(given)
        if problems:
            raise ValueError("; ".join(problems))
        return self
