"""The embedded nats-server: the environment its process gets."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import ServerFactory


def _varz(server: EmbeddedServer) -> Any:
    assert server.monitor_url is not None
    with urllib.request.urlopen(f"{server.monitor_url}/varz", timeout=10) as response:
        return json.load(response)


def test_env_reaches_the_server_process(start_server: ServerFactory) -> None:
    """`env` is set in the server's environment: GOMAXPROCS=1 shows in its /varz."""
    assert _varz(start_server(http_port=-1, env={"GOMAXPROCS": "1"}))["gomaxprocs"] == 1


def test_env_wins_over_the_inherited_environment(
    start_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server inherits our environment, and `env` overrides what it says."""
    monkeypatch.setenv("GOMAXPROCS", "1")
    assert _varz(start_server(http_port=-1))["gomaxprocs"] == 1
    assert _varz(start_server(http_port=-1, env={"GOMAXPROCS": "3"}))["gomaxprocs"] == 3
