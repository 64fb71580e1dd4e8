"""JetStream settings: acked publishing, durable consumers with replay, stream limits."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import SettingsConfigDict

from nats_pubsub.config.common import JsStreamProperties
from nats_pubsub.domain.stream_rules import parse_duration, parse_replay

__all__ = [
    "JETSTREAM_FLAGS",
    "JsConsumeSettings",
    "JsPublishSettings",
    "JsStreamSettings",
    "check_stream_name",
]

JETSTREAM_FLAGS = {
    "jetstream": "--jetstream",
    "stream_name": "--stream",
    "js_window": "--window",
    "js_ack_timeout": "--ack-timeout",
    "js_give_up_after": "--give-up-after",
    "js_fast_ingest": "--fast-ingest",
    "stream_replicas": "--replicas",
    "stream_max_age": "--max-age",
    "stream_max_bytes": "--max-bytes",
    "consumer_name": "--durable",
    "replay_history": "--replay",
    "max_deliver": "--max-deliver",
    "ack_wait": "--ack-wait",
    "on_invalid": "--on-invalid",
}


def check_stream_name(value: str | None) -> str | None:
    """`value` if it can name a stream (or is None), else ValueError."""
    if value is not None and (not value or any(c in value for c in " .*>\t\n")):
        raise ValueError("a stream name cannot be empty or contain spaces, '.', '*' or '>'")
    return value


class JsStreamSettings(JsStreamProperties, BaseModel):
    """Which stream a service uses, and the limits it provisions it with."""

    # Built on first use, like every settings model (the type the settings models share).
    model_config = SettingsConfigDict(defer_build=True)

    jetstream: bool = False
    stream_name: str | None = None
    stream_replicas: int = Field(default=1, ge=1, le=5)
    stream_max_age: str | None = None
    stream_max_bytes: int | None = Field(default=None, ge=1)

    @field_validator("stream_max_age")
    @classmethod
    def _check_age(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("stream_name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return check_stream_name(value)


class JsPublishSettings(JsStreamSettings):
    """Acked publishing: how many messages may await their ack, and for how long; per message,
    or with `js_fast_ingest` as one batch acked every `js_window` messages (2x that in flight)."""

    js_window: int = Field(default=256, ge=1, le=4000)
    js_fast_ingest: bool = False
    js_ack_timeout: float = Field(default=5.0, gt=0)
    js_give_up_after: float | None = Field(default=None, gt=0)  # None: retry until acked


class JsConsumeSettings(JsStreamSettings):
    """Durable consumers: where they start, how often a failing message is retried."""

    consumer_name: str | None = None
    replay_history: str | None = None
    max_deliver: int = Field(default=5, ge=1)
    ack_wait: float = Field(default=30.0, gt=0)
    on_invalid: Literal["dead-letter", "retry"] = "dead-letter"
    fetch_batch: int = Field(default=256, ge=1, le=10_000)

    @field_validator("replay_history")
    @classmethod
    def _check_replay(cls, value: str | None) -> str | None:
        if value is not None:
            parse_replay(value)
        return value

    @field_validator("consumer_name")
    @classmethod
    def _check_durable(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in " .*>\t\n")):
            raise ValueError("a consumer name cannot be empty or contain spaces, '.', '*' or '>'")
        return value
