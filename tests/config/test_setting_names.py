"""Every setting of every command: an error names the variable and the flag that set it."""

from __future__ import annotations

from typing import Any

import click
import pytest

from nats_pubsub.cli.commands import cli
from nats_pubsub.cli.options import command_flags
from nats_pubsub.config import (
    GatewaySettings,
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    ReplaySettings,
    ServerSettings,
    ServicesSettings,
    StreamsSettings,
    SubscriberSettings,
    UpSettings,
    load_settings,
)
from nats_pubsub.config.base import _FLAG_ONLY
from nats_pubsub.config.chaos import ChaosSettings
from nats_pubsub.errors import ConfigError

MODELS: dict[str, Any] = {
    "publish": PublisherSettings,
    "subscribe": SubscriberSettings,
    "payments": PaymentSettings,
    "monitor": MonitorSettings,
    "server": ServerSettings,
    "up": UpSettings,
    "replay": ReplaySettings,
    "streams": StreamsSettings,
    "services": ServicesSettings,
    "gateway": GatewaySettings,
    "chaos": ChaosSettings,
}
WITHOUT_SETTINGS = {"health", "bench"}  # no settings model: plain click options
# Values that break some setting or other; each setting is tried with each until one fails.
BAD = ("not-a-number", "-5", "70000", "0", "a b", "a.>.b", "/nonexistent/file", "maybe", ",")
# Settings no value above can break (free text, any path): nothing to name.
ANY_VALUE = {
    "host",
    "store_dir",
    "nats_user",
    "nats_token",
    "seed",
    "nats_tls_hostname",
    "metrics_host",
    "gateway_host",
    "gateway_token",
    "work_dir",
}


def _env_name(cls: Any, field: str) -> str:
    """The variable pydantic-settings reads for `field`: its alias, else prefix + name."""
    alias = cls.model_fields[field].validation_alias
    if isinstance(alias, str):
        return alias.upper()
    return f"{cls.model_config.get('env_prefix') or ''}{field}".upper()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting comes from the developer's shell."""
    for cls in MODELS.values():
        for field in cls.model_fields:
            monkeypatch.delenv(_env_name(cls, field), raising=False)


def test_every_command_is_walked() -> None:
    """A new command with settings must be added to MODELS."""
    assert set(cli.commands) == set(MODELS) | WITHOUT_SETTINGS


def test_every_flag_sets_a_setting() -> None:
    """Each command's options name settings fields of its model (so errors can name the flag)."""
    extra = {"as_json", "ensure", "cluster"}  # options that are not settings
    for command, cls in MODELS.items():
        flags = command_flags(cli.commands[command])
        assert set(flags) - extra <= set(cls.model_fields) | {"until_end"}, command


@pytest.mark.parametrize("command", sorted(MODELS))
def test_env_errors_name_the_variable_read(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """For every setting read from the environment, a bad value names that very variable (and
    the command's flag for it, if it has one)."""
    cls = MODELS[command]
    flags = command_flags(cli.commands[command])
    unbreakable = set()
    for field in cls.model_fields:
        if field in _FLAG_ONLY:
            continue
        name = _env_name(cls, field)
        for value in BAD:
            monkeypatch.setenv(name, value)
            try:
                load_settings(cls, flags)
            except ConfigError as exc:
                message = str(exc)
                break
            finally:
                monkeypatch.delenv(name)
        else:
            unbreakable.add(field)
            continue
        assert name in message, (field, message)
        if field in flags:
            assert f"{name} / {flags[field]}" in message, (field, message)
        else:
            assert " / --" not in message.split(":")[0], (field, message)
    assert unbreakable <= ANY_VALUE, unbreakable


def _typed(param: click.Option, text: str) -> Any:
    value = param.type.convert(text, param, None)
    return (value,) if param.multiple else value


@pytest.mark.parametrize("command", sorted(MODELS))
def test_flag_errors_name_the_flag(command: str) -> None:
    """For every flag that sets a setting, a bad value (of the flag's type) names the flag."""
    cls = MODELS[command]
    flags = command_flags(cli.commands[command])
    checked = 0
    for param in cli.commands[command].params:
        if not isinstance(param, click.Option) or param.is_flag:
            continue
        if isinstance(param.type, click.Choice):
            continue  # click refuses other values itself, naming the flag
        field = next(f for f, flag in flags.items() if flag in param.opts)
        if field not in cls.model_fields:
            continue
        for text in BAD:
            try:
                value = _typed(param, text)
            except click.BadParameter:
                continue
            try:
                load_settings(cls, flags, **{field: value})
            except ConfigError as exc:
                message = str(exc)
                break
        else:
            assert field in ANY_VALUE, field
            continue
        checked += 1
        assert flags[field] in message, (field, message)
        if field not in _FLAG_ONLY:
            assert _env_name(cls, field) in message, (field, message)
    assert checked > 0


def test_server_port_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The case a user hit: NATS_SERVER_PORT=70000 is named as NATS_SERVER_PORT, not PORT."""
    monkeypatch.setenv("NATS_SERVER_PORT", "70000")
    with pytest.raises(ConfigError, match=r"^NATS_SERVER_PORT / --port: "):
        load_settings(ServerSettings, command_flags(cli.commands["server"]))
