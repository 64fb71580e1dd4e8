"""The service boundary for JetStream: a service's settings turned, once, into the stream it
uses and the ack window's or the consumer's options (`config.client.connect_options` makes the
connection's).

Nothing below the services sees a settings object: `connection.connect` takes `ConnectOptions`,
`js_streams.provision` a `StreamSpec`, `Outbox` and `Inbox` their options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nats_pubsub.domain.stream_rules import StreamSpec, parse_replay, stream_spec_for
from nats_pubsub.services.js_consume import ConsumeOptions
from nats_pubsub.services.outbox import PublishOptions

if TYPE_CHECKING:  # the service process runs from plain settings, without pydantic
    from nats_pubsub.config.jetstream import JsStreamSettings
    from nats_pubsub.config.services import ConsumerSettings, ProducerSettings

__all__ = ["consume_options", "publish_options", "stream_spec"]


def stream_spec(settings: JsStreamSettings, subject: str) -> StreamSpec:
    """The stream a service on `subject` uses; ValueError when no stream is named and no default
    stream covers the subject."""
    return stream_spec_for(
        subject,
        settings.stream_name,
        max_age_seconds=settings.max_age_seconds,
        max_bytes=settings.stream_max_bytes,
        replicas=settings.stream_replicas,
    )


def publish_options(settings: ProducerSettings, subject: str) -> PublishOptions | None:
    """JetStream publishing to the stream of `subject` (None: core NATS); ValueError as
    `stream_spec`."""
    if not settings.jetstream:
        return None
    return PublishOptions(
        stream=stream_spec(settings, subject),
        configured=settings.configured_limits,
        window=settings.js_window,
        ack_timeout=settings.js_ack_timeout,
        give_up_after=settings.js_give_up_after,
        fast_ingest=settings.js_fast_ingest,
    )


def consume_options(
    settings: ConsumerSettings, subject: str, default_durable: str
) -> ConsumeOptions | None:
    """A durable JetStream consumer of `subject` (None: core NATS subscriptions); ValueError
    as `stream_spec`."""
    if not settings.jetstream:
        return None
    given = settings.replay_history
    return ConsumeOptions(
        stream=stream_spec(settings, subject),
        configured=settings.configured_limits,
        replicas=settings.stream_replicas,
        durable=settings.consumer_name or default_durable,
        start=parse_replay(given or "all"),
        start_given=given is not None,
        ack_wait=settings.ack_wait,
        max_deliver=settings.max_deliver,
        fetch_batch=settings.fetch_batch,
        retry_invalid=settings.on_invalid == "retry",
    )
