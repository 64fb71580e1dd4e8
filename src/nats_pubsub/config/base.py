"""Settings shared by every service, and how settings are loaded and their errors worded.

Flags win over environment variables, which win over defaults. Settings are built once in the CLI
and passed down; a malformed value becomes one ConfigError line naming the variable and the flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from nats_pubsub.config.common import CommonProperties, mask_url, mask_urls, parse_servers
from nats_pubsub.config.jetstream import JETSTREAM_FLAGS
from nats_pubsub.config.security import SECRET_FIELDS, SECURITY_FLAGS, SecuritySettings
from nats_pubsub.domain.schema import MAX_SOURCE_CHARS
from nats_pubsub.errors import ConfigError

__all__ = [
    "CommonSettings",
    "FlagsFirstSettings",
    "env_name",
    "load_settings",
    "mask_url",
    "parse_servers",
]

# Which flag sets each field, for error messages that name both ways of fixing it (a command
# passes its own flags to `load_settings`; this map is for callers that do not).
_FLAGS = {
    "nats_url": "--url",
    "nats_subject": "--subject",
    "hostname": "--source",
    "publish_interval": "--interval",
    "queue_group": "--queue-group",
    "count": "--count",
    "timeout": "--timeout",
    "host": "--host",
    "port": "--port",
    "http_port": "--http-port",
    "store_dir": "--store-dir",
    "log_level": "--log-level",
    "log_format": "--log-format",
    "event_types": "--event-types",
    "seed": "--seed",
    "decline_rate": "--decline-rate",
    "subjects": "--subject",
    "sample_rate": "--sample-rate",
    "errors_only": "--errors-only",
    "ignore": "--ignore",
    "max_payload_bytes": "--max-payload-bytes",
    "metrics_port": "--metrics-port",
    "metrics_host": "--metrics-host",
    "connect_timeout": "--connect-timeout",
    "log_file": "--log-file",
    **SECURITY_FLAGS,
    **JETSTREAM_FLAGS,
    "filter_subject": "--subject",
    "since": "--since",
    "start_seq": "--start-seq",
    "last": "--last",
    "speed": "--speed",
    "output": "--output",
    "gateway_host": "--host",
    "gateway_port": "--port",
    "gateway_token_file": "--bearer-token-file",
    "gateway_cors_origins": "--cors-origins",
    "gateway_max_streams": "--max-streams",
    "gateway_client_queue": "--client-queue",
    "gateway_tls_cert": "--tls-cert",
    "gateway_tls_key": "--tls-key",
    "gateway_dashboard": "--dashboard",
    "wait": "--wait",
}
# Fields set by a flag only: error messages name just the flag.
_FLAG_ONLY = frozenset(
    {
        "count",
        "wait",
        "timeout",
        "seed",
        "decline_rate",
        "subjects",
        "sample_rate",
        "errors_only",
        "ignore",
        "max_payload_bytes",
        "filter_subject",
        "since",
        "start_seq",
        "last",
        "follow",
        "speed",
        "output",
    }
)


class _EnvWithoutFlagOnly(EnvSettingsSource):
    """The environment, minus settings that only a flag may set (a stray COUNT must not)."""

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        return {key: value for key, value in values.items() if key not in _FLAG_ONLY}


class FlagsFirstSettings(BaseSettings):
    """Settings read from the flags, then the environment, except for flag-only settings."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags, then the environment, except for flag-only settings such as --count."""
        return init_settings, _EnvWithoutFlagOnly(settings_cls)


class CommonSettings(CommonProperties, SecuritySettings, FlagsFirstSettings):
    """Settings every service shares: where NATS is, who we are, how we log."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, frozen=True)

    nats_url: str = "nats://localhost:4222"
    hostname: str = "nats-pubsub"
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    reconnect_wait: float = Field(default=2.0, gt=0)
    connect_timeout: float = Field(default=2.0, gt=0)
    drain_timeout: float = Field(default=10.0, gt=0)
    # The /metrics, /healthz and /readyz endpoint: off unless a port is given.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"  # containers set 0.0.0.0 (deploy/Dockerfile)
    # Answer the NATS service API ($SRV.PING, $SRV.INFO, $SRV.STATS) while running.
    service_api: bool = True

    @field_validator("nats_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parse_servers(value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("hostname")
    @classmethod
    def _check_source(cls, value: str) -> str:
        if not value or any(ch.isspace() for ch in value):
            raise ValueError("must be a non-empty name without white space")
        if len(value) > MAX_SOURCE_CHARS:  # receivers would reject every message as too_long
            raise ValueError(f"must be at most {MAX_SOURCE_CHARS} characters")
        return value


_S = TypeVar("_S", bound=BaseSettings)


def env_name(cls: type[BaseSettings], field: str) -> str | None:
    """The environment variable that sets `field` of `cls` (None for flag-only settings)."""
    if field in _FLAG_ONLY:
        return None
    alias = cls.model_fields[field].validation_alias
    if isinstance(alias, str):
        return alias.upper()
    return f"{cls.model_config.get('env_prefix') or ''}{field}".upper()


def _shown(field: str, value: Any) -> Any:
    """The value given, as an error message may show it (secrets never, URLs masked)."""
    if field in SECRET_FIELDS:
        return "***"
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    if field == "nats_url" and isinstance(value, str):
        return mask_urls(value)
    return str(value) if isinstance(value, PurePath) else value


def _describe(error: Any, cls: type[BaseSettings], flags: Mapping[str, str]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message  # a check across fields: its message names them (and echoes no input)
    field = str(error["loc"][0])
    env = env_name(cls, field) if field in cls.model_fields else field.upper()
    names = [name for name in (env, flags.get(field)) if name]
    where = " / ".join(names) or field
    value = error.get("input")
    items = value if isinstance(value, tuple | list) else (value,)
    if any(repr(_shown(field, item)) in message for item in items):
        return f"{where}: {message}"  # the message already quotes the value
    return f"{where}: {message} (got {_shown(field, value)!r})"


def load_settings(cls: type[_S], flags: Mapping[str, str] | None = None, **overrides: Any) -> _S:
    """Build settings from the environment with the non-None CLI `overrides` on top.

    A malformed value is a ConfigError naming the environment variable that sets it and its
    flag in `flags` (field -> flag: the command's own flags; by default every known flag).
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return cls(**given)
    except ValidationError as exc:
        named = _FLAGS if flags is None else flags
        raise ConfigError("; ".join(_describe(err, cls, named) for err in exc.errors())) from None
