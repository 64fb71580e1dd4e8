"""Plain settings: what the CLI validated reaches the service process whole, without pydantic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from nats_pubsub.config import (
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    ReplaySettings,
    SubscriberSettings,
    load_settings,
)
from nats_pubsub.config.plain import PlainSettings, decode_settings, encode_settings

SECRET = "pa55-word-xyz"


def _given(tmp_path: Path) -> dict[str, Any]:
    """Non-default values for the settings every service shares (secrets and paths included)."""
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    return {
        "nats_url": "nats://a:4222,nats://b:4223",
        "log_format": "json",
        "log_level": "DEBUG",
        "metrics_port": 9100,
        "nats_user": "me",
        "nats_password": SECRET,
        "nats_ca": tmp_path / "ca.pem",
        "nats_cert": tmp_path / "cert.pem",
        "nats_key": tmp_path / "key.pem",
        "pending_msgs_limit": 1000,
    }


MODELS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (
        PublisherSettings,
        {"event_types": "a,b", "publish_interval": 0.5, "jetstream": True, "stream_max_age": "1h"},
    ),
    (
        SubscriberSettings,
        {"queue_group": "workers", "count": 3, "timeout": float("inf"), "stream_max_bytes": 1024},
    ),
    (PaymentSettings, {"seed": 7, "decline_rate": 0.25, "stream_replicas": 3}),
    (
        MonitorSettings,
        {"subjects": "a.>,b.*", "ignore": "c.>", "errors_only": True, "replay_history": "all"},
    ),
    (ReplaySettings, {"since": "1h", "output": Path("out.jsonl"), "follow": True}),
]


def _round_trip(model: type[BaseModel], tmp_path: Path, more: dict[str, Any]) -> tuple[Any, Any]:
    settings = load_settings(model, **_given(tmp_path), **more)
    return settings, decode_settings(encode_settings(settings))


def _comparable(value: Any) -> Any:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


@pytest.mark.parametrize(("model", "more"), MODELS, ids=lambda m: getattr(m, "__name__", ""))
def test_every_field_survives(model: type[BaseModel], more: dict[str, Any], tmp_path: Path) -> None:
    """Every field of the model has the same value (and type) in the plain settings."""
    settings, plain = _round_trip(model, tmp_path, more)
    for name in model.model_fields:
        ours, theirs = _comparable(getattr(plain, name)), _comparable(getattr(settings, name))
        assert ours == theirs, name
        assert type(ours) is type(theirs), name


@pytest.mark.parametrize(("model", "more"), MODELS, ids=lambda m: getattr(m, "__name__", ""))
def test_every_property_answers_alike(
    model: type[BaseModel], more: dict[str, Any], tmp_path: Path
) -> None:
    """Each computed property of the model (servers, configured_limits, ...) is equal."""
    settings, plain = _round_trip(model, tmp_path, more)
    names = [
        name
        for name in dir(model)
        if isinstance(getattr(model, name, None), property) and not hasattr(BaseModel, name)
    ]
    assert "servers" in names
    for name in names:
        assert getattr(plain, name) == getattr(settings, name), name
    assert plain.model_fields_set == settings.model_fields_set


def test_secrets_do_not_print(tmp_path: Path) -> None:
    """A secret answers get_secret_value() but never shows in the settings' repr."""
    _, plain = _round_trip(SubscriberSettings, tmp_path, {})
    assert plain.nats_password.get_secret_value() == SECRET
    assert SECRET not in repr(plain)
    assert SECRET not in str(plain.nats_password)


def test_plain_settings_are_read_only(tmp_path: Path) -> None:
    """Like the frozen models, plain settings refuse assignment."""
    _, plain = _round_trip(SubscriberSettings, tmp_path, {})
    assert isinstance(plain, PlainSettings)
    with pytest.raises(AttributeError):
        plain.count = 5


def test_plain_settings_import_no_pydantic() -> None:
    """config, config.plain and connection import without pydantic (a fresh interpreter)."""
    code = (
        "import sys, nats_pubsub.config, nats_pubsub.config.plain, nats_pubsub.connection.core, "
        "nats_pubsub.launch; print(sorted(m for m in sys.modules if m.startswith('pydantic')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
