"""One settings model per service, on top of the shared `CommonSettings`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    SettingsConfigDict,
)

from nats_pubsub.config.base import CommonSettings
from nats_pubsub.config.common import PUBLISH_TEMPLATE_FIELDS, MonitorProperties
from nats_pubsub.config.jetstream import JsConsumeSettings, JsPublishSettings, check_stream_name
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES
from nats_pubsub.domain.stream_rules import since_ns
from nats_pubsub.domain.subjects import SubjectTemplate, validate_subscribe_subject

__all__ = [
    "ONE_SHOT_CONNECT_TIMEOUT",
    "PUBLISH_TEMPLATE_FIELDS",
    "ConsumerSettings",
    "MonitorSettings",
    "PaymentSettings",
    "ProducerSettings",
    "PublisherSettings",
    "ReplaySettings",
    "ServerSettings",
    "ServicesSettings",
    "StreamsSettings",
    "SubscriberSettings",
    "UpSettings",
]


# A one-shot command (replay, streams, bench) tries this long to reach NATS, then exits 1.
ONE_SHOT_CONNECT_TIMEOUT = 5.0


def check_file_path(value: Path | None) -> Path | None:
    """`value` if a file can be made there (a name in a directory that exists), else ValueError."""
    if value is not None and (value.is_dir() or not value.resolve().parent.is_dir()):
        raise ValueError("needs a file name in a directory that exists")
    return value


class ProducerSettings(CommonSettings, JsPublishSettings):
    """What every publishing service shares: connection, logging, JetStream publishing."""


class ConsumerSettings(CommonSettings, JsConsumeSettings):
    """What every consuming service shares: connection, logging, JetStream consuming, the
    subject, when to stop (--count, --timeout) and how often to report metrics."""

    nats_subject: str = "events.test"
    count: int | None = Field(default=None, ge=1)
    timeout: float | None = Field(default=None, gt=0)
    metrics_interval: float = Field(default=60.0, gt=0)

    @field_validator("nats_subject")
    @classmethod
    def _check_subject(cls, value: str) -> str:
        return validate_subscribe_subject(value)


class PublisherSettings(ProducerSettings):
    """`nats-pubsub publish`."""

    hostname: str = "publisher"
    nats_subject: str = "events.test"
    publish_interval: float = Field(default=2.0, ge=0)
    event_types: Annotated[tuple[str, ...], NoDecode] = DEFAULT_EVENT_TYPES
    count: int | None = Field(default=None, ge=1)

    @field_validator("publish_interval")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number of seconds")
        return value

    @field_validator("event_types", mode="before")
    @classmethod
    def _split_types(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        if not value:
            raise ValueError("needs at least one event type")
        return value

    @field_validator("nats_subject")
    @classmethod
    def _check_subject(cls, value: str) -> str:
        SubjectTemplate(value, PUBLISH_TEMPLATE_FIELDS)
        return value


class SubscriberSettings(ConsumerSettings):
    """`nats-pubsub subscribe`."""

    hostname: str = "subscriber"
    queue_group: str | None = None
    metrics_every: int = Field(default=50, ge=1)

    @field_validator("queue_group")
    @classmethod
    def _check_queue(cls, value: str | None) -> str | None:
        if value is not None and (
            any(ch.isspace() for ch in value) or "*" in value or ">" in value
        ):
            raise ValueError("must be a name without white space or wildcards")
        return value


class ServerSettings(BaseSettings):
    """`nats-pubsub server`: the bundled nats-server."""

    model_config = SettingsConfigDict(
        extra="ignore",
        env_ignore_empty=True,
        frozen=True,
        env_prefix="NATS_SERVER_",
        defer_build=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=4222, ge=-1, le=65535)
    http_port: int = Field(default=8222, ge=-1, le=65535)
    store_dir: Path = Path(".data")
    log_format: Literal["json", "console", "auto"] = Field(
        default="auto", validation_alias="LOG_FORMAT"
    )


class UpSettings(CommonSettings):
    """`nats-pubsub up`: server, publisher and subscriber together."""

    hostname: str = "nats-pubsub"
    store_dir: Path = Path(".data")
    http_port: int = Field(default=8222, ge=0, le=65535)
    gateway_port: int = Field(default=8080, ge=0, le=65535)  # the HTTP gateway's; 0 = any
    log_file: Path | None = None  # every record also appended here as JSON lines

    @field_validator("log_file")
    @classmethod
    def _check_log_file(cls, value: Path | None) -> Path | None:
        return check_file_path(value)


class PaymentSettings(ProducerSettings):
    """`nats-pubsub payments`: the credit card transaction publisher."""

    hostname: str = "payment-publisher"
    publish_interval: float = Field(default=5.0, ge=0)
    count: int | None = Field(default=None, ge=1)
    seed: int | None = None
    decline_rate: float | None = Field(default=None, ge=0, le=1)

    @field_validator("publish_interval")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number of seconds")
        return value


def _split_subjects(value: Any) -> Any:
    if isinstance(value, str):
        value = tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class MonitorSettings(MonitorProperties, ConsumerSettings):
    """`nats-pubsub monitor`: the message logger."""

    hostname: str = "message-logger"
    nats_subject: str = ">"
    subjects: Annotated[tuple[str, ...], NoDecode] = ()
    sample_rate: int = Field(default=1, ge=1)
    errors_only: bool = False
    ignore: Annotated[tuple[str, ...], NoDecode] = ()
    max_payload_bytes: int = Field(default=4096, ge=1)
    top_subjects: int = Field(default=10, ge=1)

    @field_validator("subjects", "ignore", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _split_subjects(value)

    @field_validator("subjects", "ignore")
    @classmethod
    def _check_subjects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            validate_subscribe_subject(item)
        return value


class ReplaySettings(CommonSettings):
    """`nats-pubsub replay`: read a stream's history once, as JSON lines."""

    hostname: str = "replay"
    connect_timeout: float = Field(default=ONE_SHOT_CONNECT_TIMEOUT, gt=0)
    stream_name: str | None = None  # None: the stream holding --subject, or the only one
    filter_subject: str | None = None
    since: str | None = None
    start_seq: int | None = Field(default=None, ge=1)
    last: int | None = Field(default=None, ge=1)
    follow: bool = False
    speed: Literal["instant", "original"] = "instant"
    output: Path | None = None

    @model_validator(mode="after")
    def _one_start(self) -> ReplaySettings:
        given = [
            n
            for n, v in (
                ("--since", self.since),
                ("--start-seq", self.start_seq),
                ("--last", self.last),
            )
            if v is not None
        ]
        if len(given) > 1:
            raise ValueError(f"choose one start: {' or '.join(given)}")
        return self

    @field_validator("stream_name")
    @classmethod
    def _check_stream(cls, value: str | None) -> str | None:
        return check_stream_name(value)

    @field_validator("filter_subject")
    @classmethod
    def _check_filter(cls, value: str | None) -> str | None:
        return None if value is None else validate_subscribe_subject(value)

    @field_validator("output")
    @classmethod
    def _check_output(cls, value: Path | None) -> Path | None:
        return check_file_path(value)

    @field_validator("since")
    @classmethod
    def _check_since(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                since_ns(value)
            except ValueError:
                raise ValueError(
                    "use a duration back from now (30m, 1h, 2d) or an RFC3339 time "
                    "(2025-10-08T14:00:00Z)"
                ) from None
        return value


class StreamsSettings(CommonSettings):
    """`nats-pubsub streams`: list streams, or provision the default ones."""

    hostname: str = "streams"
    connect_timeout: float = Field(default=ONE_SHOT_CONNECT_TIMEOUT, gt=0)
    stream_replicas: int = Field(default=1, ge=1, le=5)


class ServicesSettings(CommonSettings):
    """`nats-pubsub services`: who answers the NATS service API."""

    hostname: str = "services"
    connect_timeout: float = Field(default=ONE_SHOT_CONNECT_TIMEOUT, gt=0)
    # Seconds to collect answers (a quarter of a second without a new one ends it sooner).
    wait: float = Field(default=1.0, gt=0, le=60)
