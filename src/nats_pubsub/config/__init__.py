"""Typed settings for every service, read from the environment (seed names) and CLI flags."""

from nats_pubsub.config.base import CommonSettings, load_settings, mask_url, parse_servers
from nats_pubsub.config.services import (
    PUBLISH_TEMPLATE_FIELDS,
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    ReplaySettings,
    ServerSettings,
    StreamsSettings,
    SubscriberSettings,
    UpSettings,
)

__all__ = [
    "PUBLISH_TEMPLATE_FIELDS",
    "CommonSettings",
    "MonitorSettings",
    "PaymentSettings",
    "PublisherSettings",
    "ReplaySettings",
    "ServerSettings",
    "StreamsSettings",
    "SubscriberSettings",
    "UpSettings",
    "load_settings",
    "mask_url",
    "parse_servers",
]
