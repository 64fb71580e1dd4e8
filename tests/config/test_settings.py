"""Tests for nats_pubsub.config: settings from env vars and flags, URLs and error messages."""

from __future__ import annotations

import pytest

from nats_pubsub.config import (
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    ReplaySettings,
    SubscriberSettings,
    load_settings,
    mask_url,
    parse_servers,
)
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES
from nats_pubsub.errors import ConfigError

ENV_VARS = (
    "NATS_URL",
    "NATS_SUBJECT",
    "HOSTNAME",
    "PUBLISH_INTERVAL",
    "EVENT_TYPES",
    "QUEUE_GROUP",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "JS_FAST_INGEST",
    "COUNT",
    "TIMEOUT",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove settings variables the developer's shell or CI might have set."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_publisher_defaults() -> None:
    """Without env or flags the publisher uses the documented defaults."""
    settings = load_settings(PublisherSettings)
    assert settings.hostname == "publisher"
    assert settings.publish_interval == 2.0
    assert settings.nats_subject == "events.test"
    assert settings.event_types == DEFAULT_EVENT_TYPES
    assert settings.nats_url == "nats://localhost:4222"
    assert settings.log_level == "INFO"


def test_subscriber_defaults() -> None:
    """Without env or flags the subscriber uses the documented defaults."""
    settings = load_settings(SubscriberSettings)
    assert settings.hostname == "subscriber"
    assert settings.nats_subject == "events.test"
    assert settings.queue_group is None


@pytest.mark.parametrize(
    ("var", "value", "field", "expected"),
    [
        ("NATS_URL", "nats://nats:4223", "nats_url", "nats://nats:4223"),
        ("NATS_SUBJECT", "events.{event_type}", "nats_subject", "events.{event_type}"),
        ("HOSTNAME", "pub-1", "hostname", "pub-1"),
        ("PUBLISH_INTERVAL", "0.5", "publish_interval", 0.5),
        ("EVENT_TYPES", "a.b, c.d ,e", "event_types", ("a.b", "c.d", "e")),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("LOG_FORMAT", "console", "log_format", "console"),
        ("JS_FAST_INGEST", "true", "js_fast_ingest", True),
    ],
)
def test_publisher_reads_env(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, field: str, expected: object
) -> None:
    """Each publisher setting is read from its seed environment variable."""
    monkeypatch.setenv(var, value)
    assert getattr(load_settings(PublisherSettings), field) == expected


@pytest.mark.parametrize(
    ("var", "value", "field", "expected"),
    [
        ("NATS_SUBJECT", "events.>", "nats_subject", "events.>"),
        ("QUEUE_GROUP", "workers", "queue_group", "workers"),
        ("HOSTNAME", "sub-1", "hostname", "sub-1"),
        ("LOG_LEVEL", "warning", "log_level", "WARNING"),
    ],
)
def test_subscriber_reads_env(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, field: str, expected: object
) -> None:
    """Each subscriber setting is read from its seed environment variable."""
    monkeypatch.setenv(var, value)
    assert getattr(load_settings(SubscriberSettings), field) == expected


def test_empty_env_var_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty environment variable falls back to the default."""
    monkeypatch.setenv("QUEUE_GROUP", "")
    monkeypatch.setenv("HOSTNAME", "")
    settings = load_settings(SubscriberSettings)
    assert (settings.queue_group, settings.hostname) == (None, "subscriber")


def test_overrides_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI overrides win over environment variables."""
    monkeypatch.setenv("PUBLISH_INTERVAL", "5")
    monkeypatch.setenv("HOSTNAME", "from-env")
    settings = load_settings(PublisherSettings, publish_interval=0.25, hostname="from-flag")
    assert (settings.publish_interval, settings.hostname) == (0.25, "from-flag")


def test_none_overrides_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """An override of None (flag not given) leaves the env value in place."""
    monkeypatch.setenv("NATS_SUBJECT", "events.env")
    assert load_settings(PublisherSettings, nats_subject=None).nats_subject == "events.env"


def test_event_types_override_accepts_comma_string() -> None:
    """--event-types given as a comma-separated string is split like the env var."""
    settings = load_settings(PublisherSettings, event_types="x.y,z")
    assert settings.event_types == ("x.y", "z")


def test_interval_zero_is_valid() -> None:
    """An interval of 0 means publish flat out and is accepted."""
    assert load_settings(PublisherSettings, publish_interval=0).publish_interval == 0


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "soon"])
def test_bad_interval_names_env_and_flag(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """A negative, infinite or non-numeric interval names PUBLISH_INTERVAL / --interval."""
    monkeypatch.setenv("PUBLISH_INTERVAL", value)
    with pytest.raises(ConfigError, match="PUBLISH_INTERVAL / --interval"):
        load_settings(PublisherSettings)


@pytest.mark.parametrize(
    ("cls", "var", "value", "names"),
    [
        (PublisherSettings, "NATS_URL", "http://x:4222", "NATS_URL / --url"),
        (PublisherSettings, "NATS_SUBJECT", "events.*", "NATS_SUBJECT / --subject"),
        (PublisherSettings, "NATS_SUBJECT", "events.{nope}", "NATS_SUBJECT / --subject"),
        (SubscriberSettings, "NATS_SUBJECT", "events..x", "NATS_SUBJECT / --subject"),
        (PublisherSettings, "HOSTNAME", "has space", "HOSTNAME / --source"),
        (PaymentSettings, "HOSTNAME", "s" * 257, "HOSTNAME / --source"),
        (SubscriberSettings, "QUEUE_GROUP", "work*", "QUEUE_GROUP / --queue-group"),
        (PublisherSettings, "EVENT_TYPES", ",", "EVENT_TYPES / --event-types"),
        (PublisherSettings, "LOG_LEVEL", "verbose", "LOG_LEVEL / --log-level"),
        (PublisherSettings, "LOG_FORMAT", "xml", "LOG_FORMAT / --log-format"),
        (PublisherSettings, "JS_FAST_INGEST", "maybe", "JS_FAST_INGEST / --fast-ingest"),
    ],
)
def test_config_error_names_env_var_and_flag(
    monkeypatch: pytest.MonkeyPatch, cls: type, var: str, value: str, names: str
) -> None:
    """A bad value's ConfigError names both the environment variable and the CLI flag."""
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings(cls)
    assert str(info.value).startswith(f"{names}: ")


def test_config_error_shows_bad_value() -> None:
    """The ConfigError quotes the value that was given."""
    with pytest.raises(ConfigError, match=r"\(got 'a b'\)"):
        load_settings(SubscriberSettings, queue_group="a b")


@pytest.mark.parametrize(
    ("cls", "overrides", "expected"),
    [
        (
            MonitorSettings,
            {"ignore": ("ok.>", "bad subject")},
            "--ignore: subject contains white space: 'bad subject'",
        ),
        (
            SubscriberSettings,
            {"nats_subject": "a b"},
            "NATS_SUBJECT / --subject: subject contains white space: 'a b'",
        ),
        (
            ReplaySettings,
            {"since": "yesterday"},
            "--since: use a duration back from now (30m, 1h, 2d) or an RFC3339 time "
            "(2025-10-08T14:00:00Z) (got 'yesterday')",
        ),
        (
            PublisherSettings,
            {"nats_url": "notaurl"},
            "NATS_URL / --url: 'notaurl' is not a URL: use nats://host:port (or tls://, ws://, "
            "wss://), comma-separated for a cluster",
        ),
    ],
)
def test_config_error_shows_the_value_once(
    cls: type, overrides: dict[str, object], expected: str
) -> None:
    """The value appears once, as the user typed it (no Python tuple), and the flag is named."""
    with pytest.raises(ConfigError) as info:
        load_settings(cls, **overrides)
    assert str(info.value) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        pytest.param("http://localhost:4222", "scheme 'http'", id="http"),
        pytest.param("nats://localhost:abc", "invalid port", id="port-not-a-number"),
        pytest.param("nats://localhost:70000", "invalid port", id="port-too-big"),
        pytest.param("nats://localhost:0", "port 0", id="port-zero"),
        pytest.param("nats://:4222", "no host name", id="no-host"),
        pytest.param("notaurl", "is not a URL: use nats://host:port", id="no-scheme"),
        pytest.param("localhost:4222", "'localhost:4222' is not a URL", id="host-port"),
        pytest.param("foo://x:1", "scheme 'foo': use nats://host:port", id="unknown-scheme"),
        pytest.param("", "no server URL", id="empty"),
        pytest.param(" , ", "no server URL", id="only-commas"),
    ],
)
def test_bad_urls(url: str, problem: str) -> None:
    """Malformed NATS URLs are refused with a ConfigError naming NATS_URL / --url."""
    with pytest.raises(ConfigError, match=f"NATS_URL / --url: .*{problem}"):
        load_settings(PublisherSettings, nats_url=url)


@pytest.mark.parametrize(
    ("text", "servers"),
    [
        ("nats://a:4222", ["nats://a:4222"]),
        ("tls://a:4222, wss://b:443", ["tls://a:4222", "wss://b:443"]),
        ("nats://a:1,nats://b:2,nats://c:3", ["nats://a:1", "nats://b:2", "nats://c:3"]),
        ("nats://a:1,,", ["nats://a:1"]),
    ],
)
def test_parse_servers(text: str, servers: list[str]) -> None:
    """Comma-separated URLs become a list."""
    assert parse_servers(text) == servers


def test_cluster_url_gives_servers_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """A comma-separated NATS_URL yields one server per cluster member."""
    monkeypatch.setenv("NATS_URL", "nats://n1:4222,nats://n2:4222,tls://n3:4222")
    settings = load_settings(SubscriberSettings)
    assert settings.servers == ["nats://n1:4222", "nats://n2:4222", "tls://n3:4222"]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("nats://user:secret@host:4222", "nats://user:***@host:4222"),
        ("nats://token@host:4222", "nats://***@host:4222"),
        ("tls://user:secret@host", "tls://user:***@host"),
        ("nats://host:4222", "nats://host:4222"),
        ("nats://u:secret@[::1]:4222", "nats://u:***@[::1]:4222"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    """Passwords and tokens are replaced by *** and the rest of the URL is kept."""
    assert mask_url(url) == masked
    assert "secret" not in mask_url(url)
