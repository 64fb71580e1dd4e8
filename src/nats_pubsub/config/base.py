"""Settings shared by every service, and how settings are loaded and their errors worded.

Flags win over environment variables, which win over defaults. Settings are built once in the CLI
and passed down; a malformed value becomes one ConfigError line naming the variable and the flag.
"""

from __future__ import annotations

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
from nats_pubsub.errors import ConfigError
from nats_pubsub.schema import MAX_SOURCE_CHARS

__all__ = ["CommonSettings", "load_settings", "mask_url", "parse_servers"]

# Which flag sets each field, for error messages that name both ways of fixing it.
_FLAGS = {
    "nats_url": "--url",
    "nats_subject": "--subject",
    "hostname": "--source",
    "publish_interval": "--interval",
    "queue_group": "--queue-group",
    "count": "--count",
    "timeout": "--timeout",
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
    **SECURITY_FLAGS,
    **JETSTREAM_FLAGS,
    "filter_subject": "--subject",
    "since": "--since",
    "start_seq": "--start-seq",
    "last": "--last",
    "speed": "--speed",
    "output": "--output",
}
# Fields set by a flag only: error messages name just the flag.
_FLAG_ONLY = frozenset(
    {
        "count",
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


class CommonSettings(CommonProperties, SecuritySettings, BaseSettings):
    """Settings every service shares: where NATS is, who we are, how we log."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, frozen=True)

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

    nats_url: str = "nats://localhost:4222"
    hostname: str = "nats-pubsub"
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    reconnect_wait: float = Field(default=2.0, gt=0)
    connect_timeout: float = Field(default=2.0, gt=0)
    drain_timeout: float = Field(default=10.0, gt=0)
    # The /metrics, /healthz and /readyz endpoint: off unless a port is given.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"

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


def _describe(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message  # a check across fields: its message names them (and echoes no input)
    field = str(error["loc"][0])
    names = [] if field in _FLAG_ONLY else [field.upper()]
    if field in _FLAGS:
        names.append(_FLAGS[field])
    where = " / ".join(names) or field
    shown = "***" if field in SECRET_FIELDS else error.get("input")
    if field == "nats_url" and isinstance(shown, str):
        shown = mask_urls(shown)
    return f"{where}: {message} (got {shown!r})"


def load_settings(cls: type[_S], **overrides: Any) -> _S:
    """Build settings from the environment with the non-None CLI `overrides` on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return cls(**given)
    except ValidationError as exc:
        raise ConfigError("; ".join(_describe(err) for err in exc.errors())) from None
