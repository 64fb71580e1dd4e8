"""The pydantic-free half of the settings: constants, URL helpers and computed properties.

A service process runs from plain settings (`config.plain`) without importing pydantic; the
properties here are shared by the pydantic models and that plain object, so both answer alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DEFAULT_PENDING_BYTES_LIMIT",
    "DEFAULT_PENDING_MSGS_LIMIT",
    "DEFAULT_RECONNECT_BUFFER_SIZE",
    "PROPERTY_MIXINS",
    "PUBLISH_TEMPLATE_FIELDS",
    "CommonProperties",
    "JsStreamProperties",
    "MonitorProperties",
    "SecurityProperties",
    "mask_url",
    "mask_urls",
    "parse_servers",
]

DEFAULT_PENDING_MSGS_LIMIT = 512 * 1024
DEFAULT_PENDING_BYTES_LIMIT = 128 * 1024 * 1024
DEFAULT_RECONNECT_BUFFER_SIZE = 2 * 1024 * 1024
PUBLISH_TEMPLATE_FIELDS = frozenset({"event_type", "source"})

_SCHEMES = frozenset({"nats", "tls", "ws", "wss"})
_FORM = "nats://host:port (or tls://, ws://, wss://), comma-separated for a cluster"


def parse_servers(text: str) -> list[str]:
    """Split a NATS_URL (comma-separated for a cluster) into its server URLs, each checked."""
    servers = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        shown = mask_urls(item)
        if "://" not in item:
            raise ValueError(f"{shown!r} is not a URL: use {_FORM}")
        parts = urlsplit(item)
        if parts.scheme not in _SCHEMES:
            raise ValueError(f"{shown!r} has scheme {parts.scheme!r}: use {_FORM}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{shown!r} has an invalid port") from None
        if not parts.hostname:
            raise ValueError(f"{shown!r} has no host name")
        if port == 0:
            raise ValueError(f"{shown!r} has port 0")
        servers.append(item)
    if not servers:
        raise ValueError("no server URL given")
    return servers


def mask_url(url: str) -> str:
    """Return `url` with any password or token replaced by ***, for logging."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6 literals keep their brackets
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = "***" if parts.password is None else f"{parts.username}:***"
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))


def mask_urls(text: str) -> str:
    """Mask every password or token in a NATS_URL that may be malformed."""
    shown = []
    for item in text.split(","):
        try:
            shown.append(mask_url(item.strip()))
        except ValueError:
            prefix, at, rest = item.strip().rpartition("@")
            scheme = prefix.split("://")[0] + "://" if "://" in prefix else ""
            shown.append(f"{scheme}***@{rest}" if at else rest)
    return ",".join(shown)


# The mixins below declare the fields they read for type checkers only: at run time a mixin has
# no annotations, so pydantic sees no fields in it and the plain object sets them as attributes.


class CommonProperties:
    """What every service's settings compute from the connection fields."""

    if TYPE_CHECKING:
        nats_url: str

    @property
    def servers(self) -> list[str]:
        """The server URLs to connect to, in order."""
        return parse_servers(self.nats_url)


class SecurityProperties:
    """What the client security settings compute."""

    if TYPE_CHECKING:
        nats_ca: Path | None
        nats_cert: Path | None
        nats_key: Path | None
        nats_tls_hostname: str | None

    @property
    def uses_tls_options(self) -> bool:
        """True when any TLS setting was given (so the client builds its own TLS context)."""
        return any(
            value is not None
            for value in (self.nats_ca, self.nats_cert, self.nats_key, self.nats_tls_hostname)
        )


class JsStreamProperties:
    """What the stream settings compute (`model_fields_set`: the fields given, not defaulted)."""

    if TYPE_CHECKING:
        stream_max_age: str | None

        @property
        def model_fields_set(self) -> set[str]: ...

    @property
    def configured_limits(self) -> frozenset[str]:
        """The stream limits given by a flag or the environment (the only ones to enforce)."""
        given = self.model_fields_set
        names = {"stream_max_age": "max_age", "stream_max_bytes": "max_bytes"}
        names["stream_replicas"] = "replicas"
        return frozenset(limit for field, limit in names.items() if field in given)

    @property
    def max_age_seconds(self) -> float | None:
        """The configured max age in seconds, if any."""
        from nats_pubsub.domain.stream_rules import parse_duration

        return parse_duration(self.stream_max_age) if self.stream_max_age else None


class MonitorProperties:
    """What the monitor's settings compute from its subject lists."""

    if TYPE_CHECKING:
        nats_subject: str
        subjects: tuple[str, ...]
        ignore: tuple[str, ...]

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """The subjects to subscribe to: the --subject flags, else NATS_SUBJECT."""
        return self.subjects or (self.nats_subject,)

    @property
    def ignore_patterns(self) -> tuple[str, ...]:
        """Subjects never captured: NATS internals plus every --ignore."""
        from nats_pubsub.domain.capture import DEFAULT_IGNORE

        return DEFAULT_IGNORE + tuple(p for p in self.ignore if p not in DEFAULT_IGNORE)


# Every mixin, by name: how plain settings learn which properties a model has.
PROPERTY_MIXINS: dict[str, type] = {
    cls.__name__: cls
    for cls in (CommonProperties, SecurityProperties, JsStreamProperties, MonitorProperties)
}
