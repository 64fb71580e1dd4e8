"""End to end: with TLS configured, credentials never cross a plain connection.

A recording relay (tests/relay.py) stands between the client and a plain nats-server that asks
for the client's credentials, as a hostile or misconfigured server would. Every service, and `up`,
is pointed at it with `tls://` and a CA: each must exit 1 with one `Could not connect to NATS`
line naming the refusal, and the relay must see no CONNECT and no credential bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import nkeys
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory, ServerFactory
from tests.helpers.operator import OperatorSetup
from tests.helpers.pki import TestCA
from tests.helpers.relay import RecordingRelay

pytestmark = pytest.mark.e2e

PASSWORD = "relay-must-not-see-this-pw"
TOKEN = "relay-must-not-see-this-token"
# (command and its arguments, whether its records go to stderr: replay and streams write data)
SERVICES = (
    (("publish", "--count", "1", "--interval", "0"), False),
    (("subscribe", "--count", "1"), False),
    (("payments", "--count", "1", "--interval", "0"), False),
    (("monitor", "--count", "1"), False),
    (("replay",), True),
    (("streams",), True),
)


class Credentials(NamedTuple):
    """One way to authenticate: the plain server that asks for it, the client's environment,
    and the bytes that must never cross the relay."""

    server_config: str
    env: dict[str, str]
    secrets: tuple[bytes, ...]


def _credentials(kind: str, directory: Path) -> Credentials:
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "user":
        config = f'authorization {{ users = [ {{ user: "alice", password: "{PASSWORD}" }} ] }}\n'
        return Credentials(
            config, {"NATS_USER": "alice", "NATS_PASSWORD": PASSWORD}, (PASSWORD.encode(),)
        )
    if kind == "token":
        config = f'authorization {{ token: "{TOKEN}" }}\n'
        return Credentials(config, {"NATS_TOKEN": TOKEN}, (TOKEN.encode(),))
    if kind == "nkey":
        seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
        public = nkeys.from_seed(bytearray(seed)).public_key
        seed_file = directory / "user.nk"
        seed_file.write_bytes(seed)
        config = f'authorization {{ users = [ {{ nkey: "{public.decode()}" }} ] }}\n'
        return Credentials(config, {"NATS_NKEY": str(seed_file)}, (public, b'"sig"', seed))
    setup = OperatorSetup(directory)
    jwt = setup.creds_file.read_text().splitlines()[1].encode()
    return Credentials(
        setup.config_file.read_text(), {"NATS_CREDS": str(setup.creds_file)}, (jwt, b'"sig"')
    )


class Trap(NamedTuple):
    """A plain server asking for credentials, a relay in front of it, and the client's env."""

    server: EmbeddedServer
    relay: RecordingRelay
    env: dict[str, str]
    secrets: tuple[bytes, ...]

    @property
    def tls_url(self) -> str:
        return f"tls://127.0.0.1:{self.relay.port}"

    def assert_nothing_leaked(self, output: str) -> None:
        sent = self.relay.sent
        assert b"CONNECT" not in sent, f"CONNECT crossed the relay: {sent[:300]!r}\n{output}"
        for secret in self.secrets:
            assert secret not in sent, f"{secret!r} crossed the relay\n{output}"


TrapFactory = Callable[[str], Trap]


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    """A test certificate authority the clients are told to trust."""
    return TestCA(tmp_path / "pki")


@pytest.fixture
def trap(start_server: ServerFactory, tmp_path: Path, ca: TestCA) -> Iterator[TrapFactory]:
    """Build a Trap for a kind of credentials; relays are closed at the end."""
    relays: list[RecordingRelay] = []

    def build(kind: str) -> Trap:
        creds = _credentials(kind, tmp_path / kind)
        config = tmp_path / f"plain-{kind}.conf"
        config.write_text(creds.server_config)
        server = start_server(config_file=config, jetstream=False)
        relay = RecordingRelay(server.port)
        relays.append(relay)
        env = {**creds.env, "NATS_CA": str(ca.cert_file)}
        return Trap(server, relay, env, creds.secrets)

    yield build
    for relay in relays:
        relay.close()


def _refusal(proc: ServiceProcess, on_stderr: bool) -> list[dict[str, object]]:
    records = proc.stderr if on_stderr else proc.logs
    return records.where("Could not connect to NATS")


@pytest.mark.parametrize("kind", ["user", "token", "nkey", "creds"])
def test_no_service_sends_credentials_to_a_plain_server(
    trap: TrapFactory, run_cli: CliFactory, kind: str
) -> None:
    """publish, subscribe, payments, monitor, replay and streams, each with tls:// and a CA,
    against a plain server through a relay: exit 1, one refusal line, nothing sent."""
    setup = trap(kind)
    procs = [
        (args, on_stderr, run_cli(*args, url=setup.tls_url, env=setup.env))
        for args, on_stderr in SERVICES
    ]
    for args, on_stderr, proc in procs:
        assert proc.wait(60) == 1, f"{args}: {proc.output()}"
        refusals = _refusal(proc, on_stderr)
        assert len(refusals) == 1, f"{args}: {proc.output()}"
        assert "does not offer TLS" in str(refusals[0]["error"]), proc.output()
        assert "retrying" not in proc.output(), proc.output()
        setup.assert_nothing_leaked(proc.output())
    assert setup.relay.connections >= len(SERVICES)  # they did reach the relay


@pytest.mark.parametrize("kind", ["user", "token", "nkey"])
def test_up_sends_no_credentials_to_a_plain_server(
    trap: TrapFactory, run_cli: CliFactory, kind: str, tmp_path: Path
) -> None:
    """`up` pointed at the relay with tls://: its consumers refuse, the stack stops (exit 1)
    without starting its producers."""
    setup = trap(kind)
    up = run_cli("up", "--store-dir", str(tmp_path / "store"), url=setup.tls_url, env=setup.env)
    assert up.wait(90) == 1, up.output()
    assert up.logs.where("Using the NATS server already running"), up.output()
    # A consumer that failed stops the start: the producers are never started.
    [running] = up.logs.where("Stack running; press Ctrl+C to stop")
    assert running["services"] == ["subscriber", "logger", "gateway"], up.output()
    assert up.logs.where("Could not connect to NATS"), up.output()
    assert all(
        "does not offer TLS" in r["error"] for r in up.logs.where("Could not connect to NATS")
    ), up.output()
    setup.assert_nothing_leaked(up.output())


def test_a_reconnect_to_a_plain_server_sends_nothing(
    trap: TrapFactory, start_server: ServerFactory, run_cli: CliFactory, ca: TestCA, tmp_path: Path
) -> None:
    """Connected over TLS, the relay is switched to a plain server and the connection cut: the
    reconnect attempts are refused (no CONNECT in clear); back to TLS, the client reconnects."""
    setup = trap("user")
    cert, key = ca.issue("server", server=True)
    config = tmp_path / "tls.conf"
    config.write_text(
        f'tls {{ cert_file: "{cert}"\n key_file: "{key}" }}\n'
        f'authorization {{ users = [ {{ user: "alice", password: "{PASSWORD}" }} ] }}\n'
    )
    tls_server = start_server(config_file=config, jetstream=False)
    setup.relay.retarget(tls_server.port)
    sub = run_cli("subscribe", url=setup.tls_url, env={**setup.env, "RECONNECT_WAIT": "0.2"})
    [connected] = sub.logs.wait_for("Connected to NATS")
    assert connected["tls"] is True
    sub.logs.wait_for("Subscribed")
    setup.relay.retarget(setup.server.port)  # the plain server that wants the password
    setup.relay.cut()
    [failed] = sub.logs.wait_for("Reconnect attempt failed")
    assert "does not offer TLS" in failed["error"], sub.output()
    sub.logs.wait_for("Reconnect attempt failed", count=2)
    setup.assert_nothing_leaked(sub.output())
    setup.relay.retarget(tls_server.port)
    sub.logs.wait_for("Reconnected to NATS")
    sub.stop()
    setup.assert_nothing_leaked(sub.output())


def test_a_server_offering_tls_is_upgraded_and_the_record_says_so(
    start_server: ServerFactory, run_cli: CliFactory, ca: TestCA, tmp_path: Path
) -> None:
    """A server that allows plain clients too (`allow_non_tls`): tls:// upgrades (the relay
    sees no password, `tls: true`); nats:// without TLS settings stays plain and says `false`."""
    cert, key = ca.issue("server", server=True)
    config = tmp_path / "mixed.conf"
    config.write_text(
        f'tls {{ cert_file: "{cert}"\n key_file: "{key}" }}\nallow_non_tls: true\n'
        f'authorization {{ users = [ {{ user: "alice", password: "{PASSWORD}" }} ] }}\n'
    )
    server = start_server(config_file=config, jetstream=False)
    relay = RecordingRelay(server.port)
    try:
        creds = {"NATS_USER": "alice", "NATS_PASSWORD": PASSWORD}
        secure = run_cli(
            "publish",
            "--count",
            "1",
            url=f"tls://127.0.0.1:{relay.port}",
            env={**creds, "NATS_CA": str(ca.cert_file)},
        )
        assert secure.wait(60) == 0, secure.output()
        assert secure.logs.where("Connected to NATS")[0]["tls"] is True
        assert PASSWORD.encode() not in relay.sent
        plain = run_cli("publish", "--count", "1", url=relay.url, env=creds)
        assert plain.wait(60) == 0, plain.output()
        assert plain.logs.where("Connected to NATS")[0]["tls"] is False
        assert PASSWORD.encode() in relay.sent  # what the relay can see: the test can fail
    finally:
        relay.close()
