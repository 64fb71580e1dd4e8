"""Typed settings for every service, read from the environment (seed names) and CLI flags.

The pydantic models load on first use: importing this package (or a name from `config.common`)
costs no pydantic, so a service process running from plain settings never imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nats_pubsub.config.common import PUBLISH_TEMPLATE_FIELDS, mask_url, parse_servers

if TYPE_CHECKING:
    from nats_pubsub.config.base import CommonSettings, load_settings
    from nats_pubsub.config.gateway import GatewaySettings
    from nats_pubsub.config.services import (
        MonitorSettings,
        PaymentSettings,
        PublisherSettings,
        ReplaySettings,
        ServerSettings,
        ServicesSettings,
        StreamsSettings,
        SubscriberSettings,
        UpSettings,
    )

__all__ = [
    "PUBLISH_TEMPLATE_FIELDS",
    "CommonSettings",
    "GatewaySettings",
    "MonitorSettings",
    "PaymentSettings",
    "PublisherSettings",
    "ReplaySettings",
    "ServerSettings",
    "ServicesSettings",
    "StreamsSettings",
    "SubscriberSettings",
    "UpSettings",
    "load_settings",
    "mask_url",
    "parse_servers",
]

# Where each pydantic-backed name lives.
_LAZY = {
    "CommonSettings": "nats_pubsub.config.base",
    "load_settings": "nats_pubsub.config.base",
    "GatewaySettings": "nats_pubsub.config.gateway",
    **dict.fromkeys(
        (
            "MonitorSettings",
            "PaymentSettings",
            "PublisherSettings",
            "ReplaySettings",
            "ServerSettings",
            "ServicesSettings",
            "StreamsSettings",
            "SubscriberSettings",
            "UpSettings",
        ),
        "nats_pubsub.config.services",
    ),
}


def __getattr__(name: str) -> Any:
    """Import a settings model (and pydantic) the first time it is asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
