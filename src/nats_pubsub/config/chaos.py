"""`nats-pubsub chaos`: how long to inject faults, from which seed, where to keep the run."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from nats_pubsub.config.base import FlagsFirstSettings

__all__ = ["ChaosSettings"]


class ChaosSettings(FlagsFirstSettings):
    """`nats-pubsub chaos`: a soak of killed, frozen and restarted nodes and services."""

    model_config = SettingsConfigDict(
        extra="ignore", env_ignore_empty=True, frozen=True, env_prefix="CHAOS_", defer_build=True
    )

    duration: float = Field(default=300.0, gt=0, le=86400)
    seed: int | None = Field(default=None, ge=0)  # None: a random one, printed in the report
    partition: bool = False
    work_dir: Path | None = None  # None: a temporary directory, kept only when a check failed
    log_format: Literal["json", "console", "auto"] = Field(
        default="auto", validation_alias="LOG_FORMAT"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="LOG_LEVEL"
    )
