"""nats-py's internals behind one door: the capability check, the off switch, and that no other
module names a private nats-py attribute (real servers, the installed nats-py)."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from nats_pubsub.config import PublisherSettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection import _natspy
from nats_pubsub.connection.connect import connect
from nats_pubsub.connection.core import Connection
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.server.embedded import EmbeddedServer

PACKAGE = Path(_natspy.__file__).resolve().parent.parent


def _records(sink: io.BytesIO, message: str) -> list[dict[str, Any]]:
    lines = sink.getvalue().decode().splitlines()
    return [r for r in map(json.loads, lines) if r["message"] == message]


async def _connect(url: str, sink: io.BytesIO | None = None) -> Connection:
    log = Logger("natspy-test", LogSink(sink if sink is not None else io.BytesIO()))
    return await connect(
        connect_options(PublisherSettings(nats_url=url)), name="natspy-test", log=log
    )


def test_installed_nats_py_passes_the_capability_check(nats_server: EmbeddedServer) -> None:
    """Every private name the hooks use is on the installed nats-py (this fails after an
    upgrade that moved one, so the upgrade is noticed here instead of running slower)."""

    async def scenario() -> tuple[list[str], bool]:
        conn = await _connect(nats_server.url)
        missing = _natspy.missing_names(conn.client)
        hooked = conn.hooks is not None and conn.direct_delivery
        await conn.close()
        return missing, hooked

    missing, hooked = asyncio.run(scenario())
    assert missing == [], f"nats-py {_natspy.nats_py_version()} lacks {missing}"
    assert hooked


def test_a_missing_name_is_found(nats_server: EmbeddedServer) -> None:
    """The check looks at the client itself: a name taken away is reported by its owner."""

    async def scenario() -> list[str]:
        conn = await _connect(nats_server.url)
        client: Any = conn.client
        pending = client._pending
        del client._pending
        try:
            return _natspy.missing_names(client)
        finally:
            client._pending = pending
            await conn.close()

    assert asyncio.run(scenario()) == ["Client._pending"]


def test_failed_check_warns_once_and_uses_the_public_api(
    nats_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A nats-py without a name used: one WARNING naming it, no hooks, and messages still flow
    (direct subscriptions through nats-py's own delivery)."""
    monkeypatch.setattr(_natspy, "CLIENT_NAMES", (*_natspy.CLIENT_NAMES, "_not_in_any_nats_py"))
    sink = io.BytesIO()

    async def scenario() -> tuple[bool, list[bytes]]:
        conn = await _connect(nats_server.url, sink)
        got: list[bytes] = []
        arrived = asyncio.Event()

        def on_message(subject: str, reply: str, data: bytes, headers: Any) -> None:
            got.append(data)
            if len(got) == 3:
                arrived.set()

        await conn.subscribe_direct("natspy.check", on_message)
        await conn.flush()
        for n in range(3):
            await conn.publish_with_id("natspy.check", b"m%d" % n, f"id-{n}")
        await asyncio.wait_for(arrived.wait(), 30)
        hooked = conn.hooks is not None or conn.direct_delivery
        await conn.close()
        return hooked, got

    hooked, got = asyncio.run(scenario())
    assert not hooked
    assert got == [b"m0", b"m1", b"m2"]
    warnings = _records(sink, _WARNING)
    assert len(warnings) == 1
    assert warnings[0]["missing"] == ["Client._not_in_any_nats_py"]
    assert warnings[0]["nats_py"] == _natspy.nats_py_version()


_WARNING = "nats-py internals differ; using its public API only"


@pytest.mark.parametrize("value", ["0", "false", "off", "no"])
def test_switch_turns_every_hook_off(
    nats_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """NATS_PUBSUB_FAST_PATH=0: no hooks on a nats-py that has them all, and nothing said."""
    monkeypatch.setenv(_natspy.FAST_PATH_ENV, value)
    sink = io.BytesIO()

    async def scenario() -> tuple[bool, bool]:
        conn = await _connect(nats_server.url, sink)
        hooked, direct = conn.hooks is not None, conn.direct_delivery
        await conn.close()
        return hooked, direct

    assert asyncio.run(scenario()) == (False, False)
    assert not _records(sink, _WARNING)


# Private names of nats-py objects the hooks use; `self._name` is our own objects' state
# (e.g. AckWindow._pending), not nats-py's.
_PRIVATE = sorted(
    name
    for name in (
        *_natspy.CLIENT_NAMES,
        *_natspy.HANDSHAKE_NAMES,
        *_natspy.TRANSPORT_NAMES,
        *_natspy.SUBSCRIPTION_NAMES,
        "_using_tls",
        "_prefix",
    )
    if name.startswith("_")
)
_FLAGGED = (
    re.compile(r"(?<!self)\.(" + "|".join(_PRIVATE) + r")\b"),
    # nats-py's parser, transport and subscription modules (its public `Client` class is fine)
    re.compile(r"\bnats\.(protocol|aio\.subscription|aio\.transport)\b"),
    re.compile(r"\bfrom nats\.aio import (client|subscription|transport)\b"),
    re.compile(r"\b(" + "|".join(_natspy.PARSER_MODULE_NAMES[1:]) + r")\b"),
)


def _flagged(line: str) -> bool:
    code = line.split("#", 1)[0]
    return any(pattern.search(code) for pattern in _FLAGGED)


def test_no_other_module_names_a_private_nats_py_name() -> None:
    """`_natspy.py` is the one door: no other module reads or replaces a listed private name
    on a nats-py object, or imports nats-py's parser, transport or subscription module."""
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_natspy.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _flagged(line)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("        nc._pending.append(data)", True),
        ("    sid = sub._id", True),
        ("from nats.protocol import parser", True),
        ("from nats.aio import client as client_module", True),
        ("from nats.aio.client import Client", False),  # the public client class
        ("    match = nats_parser.PING_RE.match(buf)", True),
        ("        self._pending.pop(token)", False),  # our own object's state
        ("    await conn.publish(subject, payload)", False),
    ],
)
def test_the_scan_flags_private_use(line: str, flagged: bool) -> None:
    """The scan above would see a private name used outside `_natspy.py`."""
    assert _flagged(line) is flagged
