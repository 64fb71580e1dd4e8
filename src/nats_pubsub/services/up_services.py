"""The services `nats-pubsub up` starts, and how each gets its settings: validated here and
handed over through an inherited pipe (launch.py's mechanism), never on a command line or in
the environment, where other local users (`ps`) or the service's own children could read them."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from nats_pubsub.config.security import SECURITY_FLAGS
from nats_pubsub.launch import launch_argv

if TYPE_CHECKING:
    from pydantic import BaseModel

    from nats_pubsub.config import UpSettings

__all__ = [
    "CONSUMERS",
    "PRODUCERS",
    "SECRET_ENV",
    "StackService",
    "service_env",
    "service_settings",
    "spawn_service",
]

# Variables holding a secret: never passed on to a service (it gets its settings by pipe).
SECRET_ENV = frozenset({"NATS_PASSWORD", "NATS_TOKEN"})
_MODELS = {
    "publish": "PublisherSettings",
    "subscribe": "SubscriberSettings",
    "payments": "PaymentSettings",
    "monitor": "MonitorSettings",
    "gateway": "GatewaySettings",
}


class StackService(NamedTuple):
    """One service of the stack: its name in the logs, its command, the settings `up` sets."""

    name: str
    command: str
    overrides: dict[str, Any]


# Consumers come first: producers start only once every consumer has subscribed, so core NATS
# does not drop the first messages.
CONSUMERS = (
    StackService("subscriber", "subscribe", {"hostname": "subscriber"}),
    # The message logger captures all the traffic: events and payments.
    StackService("logger", "monitor", {"subjects": (">",), "hostname": "message-logger"}),
    # The HTTP gateway and its dashboard, which counts the traffic from the first message (its
    # `>` subscription costs no-responders nothing here: the message logger holds `>` already).
    StackService("gateway", "gateway", {"hostname": "gateway"}),
)
PRODUCERS = (
    StackService("publisher", "publish", {"hostname": "publisher"}),
    StackService("payments", "payments", {"hostname": "payment-publisher"}),
)


def service_settings(service: StackService, up: UpSettings, url: str) -> BaseModel:
    """The settings `service` runs with: the environment (as its own command would read it),
    `up`'s URL, log level and security settings, and the service's overrides; JSON logs for
    `up` to read, and no metrics endpoint (the services would share one port)."""
    from nats_pubsub import config

    security = {}
    for name in SECURITY_FLAGS:
        value = getattr(up, name)
        if value is not None:
            security[name] = value.resolve() if isinstance(value, Path) else value
    model = getattr(config, _MODELS[service.command])
    own: dict[str, Any] = {}
    if service.command == "gateway":
        own["gateway_port"] = up.gateway_port
        if "GATEWAY_DASHBOARD" not in os.environ:
            own["gateway_dashboard"] = "always"
    settings: BaseModel = config.load_settings(
        model,
        None,  # errors name every flag: the service has no command line of its own
        **security,
        nats_url=url,
        log_format="json",
        log_level=up.log_level,
        **own,
        **service.overrides,
    )
    return settings.model_copy(update={"metrics_port": None})


def service_env() -> dict[str, str]:
    """The environment a service gets: `up`'s own, without the variables that hold secrets."""
    return {name: value for name, value in os.environ.items() if name not in SECRET_ENV}


async def spawn_service(service: StackService, settings: BaseModel) -> asyncio.subprocess.Process:
    """Start `service` in a lean interpreter reading `settings` from an inherited pipe."""
    from nats_pubsub.config.plain import encode_settings

    payload = encode_settings(settings)
    read_fd, write_fd = os.pipe()
    try:
        proc = await asyncio.create_subprocess_exec(
            *launch_argv(service.command, read_fd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            env=service_env(),
            pass_fds=(read_fd,),
            start_new_session=True,  # Ctrl+C reaches `up` only; it stops the services in order
        )
    finally:
        os.close(read_fd)
    try:
        with os.fdopen(write_fd, "wb") as pipe:  # the service reads it whole before it starts
            pipe.write(payload)
    except BrokenPipeError:
        pass  # it died before reading: `up` sees it exit
    return proc
