"""End to end: clients against nats-server processes secured with TLS, mTLS and credentials."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nkeys
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, ServerFactory
from tests.helpers.operator import OperatorSetup
from tests.helpers.pki import TestCA

pytestmark = pytest.mark.e2e

SecureServer = Callable[[str], EmbeddedServer]


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    """A test certificate authority (files under tmp_path)."""
    return TestCA(tmp_path / "pki")


@pytest.fixture
def secure_server(start_server: ServerFactory, tmp_path: Path) -> SecureServer:
    """Start a nats-server (no JetStream) with this configuration text."""

    def start(config: str) -> EmbeddedServer:
        path = tmp_path / f"server-{len(list(tmp_path.glob('server-*.conf')))}.conf"
        path.write_text(config)
        return start_server(config_file=path, jetstream=False)

    return start


def _tls_block(ca: TestCA, *, verify: bool) -> str:
    cert, key = ca.issue("server", server=True)
    return (
        f'tls {{\n  cert_file: "{cert}"\n  key_file: "{key}"\n  ca_file: "{ca.cert_file}"\n'
        f"  verify: {'true' if verify else 'false'}\n  timeout: 5\n}}\n"
    )


def test_tls_with_test_ca_connects_and_delivers(
    secure_server: SecureServer, run_cli: CliFactory, ca: TestCA, subject: str
) -> None:
    """With NATS_CA set to the test CA, publisher and subscriber talk over TLS."""
    server = secure_server(_tls_block(ca, verify=False))
    env = {"NATS_CA": str(ca.cert_file)}
    sub = run_cli("subscribe", "--subject", subject, "--count", "3", url=server.url, env=env)
    sub.logs.wait_for("Subscribed")
    pub = run_cli(
        "publish", "--subject", subject, "--count", "3", "--interval", "0", url=server.url, env=env
    )
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    assert pub.logs.where("Connected to NATS")[0]["tls"] is True


def test_untrusted_server_certificate_fails_once_with_clear_line(
    secure_server: SecureServer, run_cli: CliFactory, ca: TestCA, tmp_path: Path
) -> None:
    """A server certificate from another CA: exit 1, one line naming TLS, no retry loop."""
    server = secure_server(_tls_block(ca, verify=False))
    other = TestCA(tmp_path / "other", name="someone else's CA")
    pub = run_cli("publish", "--count", "1", url=server.url, env={"NATS_CA": str(other.cert_file)})
    assert pub.wait() == 1, pub.output()
    [record] = pub.logs.where("Could not connect to NATS")
    assert "not trusted" in record["error"]
    assert pub.logs.where("NATS not reachable, retrying") == []


def test_mutual_tls_accepts_a_client_certificate(
    secure_server: SecureServer, run_cli: CliFactory, ca: TestCA
) -> None:
    """With verify: true, a client certificate from the CA is accepted, and messages flow both
    ways over mutual TLS: the subscriber receives what the publisher sent."""
    server = secure_server(_tls_block(ca, verify=True))
    cert, key = ca.issue("client", server=False)
    env = {"NATS_CA": str(ca.cert_file), "NATS_CERT": str(cert), "NATS_KEY": str(key)}
    sub = run_cli(
        "subscribe", "--subject", "mtls.check", "--count", "3", "--timeout", "60",
        url=server.url, env=env,
    )  # fmt: skip
    assert sub.logs.wait_for("Connected to NATS")[0]["tls"]
    sub.logs.wait_for("Subscribed")
    pub = run_cli(
        "publish", "--subject", "mtls.check", "--count", "3", "--interval", "0",
        "--source", "mtls", url=server.url, env=env,
    )  # fmt: skip
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    got = sorted(r["message_id"] for r in sub.logs.where("Message received"))
    assert got == ["mtls-1", "mtls-2", "mtls-3"]


def test_mutual_tls_without_client_certificate_fails_clearly(
    secure_server: SecureServer, run_cli: CliFactory, ca: TestCA
) -> None:
    """With verify: true and no client certificate: exit 1 with one `Could not connect` line."""
    server = secure_server(_tls_block(ca, verify=True))
    pub = run_cli("publish", "--count", "1", url=server.url, env={"NATS_CA": str(ca.cert_file)})
    assert pub.wait() == 1, pub.output()
    assert len(pub.logs.where("Could not connect to NATS")) == 1, pub.output()


USERS = """
authorization {
  users = [
    { user: "alice", password: "s3cret-pw" }
    { user: "limited", password: "s3cret-pw",
      permissions: { publish: { allow: ["allowed.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
  ]
}
"""


def test_user_and_password_connect(secure_server: SecureServer, run_cli: CliFactory) -> None:
    """NATS_USER and NATS_PASSWORD authenticate; the password never appears in the output."""
    server = secure_server(USERS)
    pub = run_cli(
        "publish",
        "--count",
        "1",
        url=server.url,
        env={"NATS_USER": "alice", "NATS_PASSWORD": "s3cret-pw"},
    )
    assert pub.wait() == 0, pub.output()
    assert pub.logs.where("Connected to NATS")[0]["auth"] == "user"
    assert "s3cret-pw" not in pub.output()


def test_credentials_in_url_are_masked(secure_server: SecureServer, run_cli: CliFactory) -> None:
    """user:password inside NATS_URL works, and the logged URL shows *** instead."""
    server = secure_server(USERS)
    url = f"nats://alice:s3cret-pw@127.0.0.1:{server.port}"
    pub = run_cli("publish", "--count", "1", url=url)
    assert pub.wait() == 0, pub.output()
    assert pub.logs.where("Connected to NATS")[0]["url"].startswith("nats://alice:***@")
    assert "s3cret-pw" not in pub.output()


def test_wrong_password_exits_once_naming_authorization(
    secure_server: SecureServer, run_cli: CliFactory
) -> None:
    """A wrong password: exit 1, `Could not connect` naming authorization, no retries."""
    server = secure_server(USERS)
    pub = run_cli(
        "publish", "--count", "1", url=server.url, env={"NATS_USER": "alice", "NATS_PASSWORD": "no"}
    )
    assert pub.wait() == 1, pub.output()
    [record] = pub.logs.where("Could not connect to NATS")
    assert "authorization" in record["error"].lower()
    assert pub.logs.where("NATS not reachable, retrying") == []


def test_token_authenticates(secure_server: SecureServer, run_cli: CliFactory) -> None:
    """NATS_TOKEN authenticates, and the token is never logged."""
    server = secure_server('authorization { token: "tok-123456" }\n')
    pub = run_cli("publish", "--count", "1", url=server.url, env={"NATS_TOKEN": "tok-123456"})
    assert pub.wait() == 0, pub.output()
    assert pub.logs.where("Connected to NATS")[0]["auth"] == "token"
    assert "tok-123456" not in pub.output()


def test_token_in_url_is_masked(secure_server: SecureServer, run_cli: CliFactory) -> None:
    """A token inside NATS_URL (nats://TOKEN@host) works and is logged as ***."""
    server = secure_server('authorization { token: "tok-123456" }\n')
    pub = run_cli("publish", "--count", "1", url=f"nats://tok-123456@127.0.0.1:{server.port}")
    assert pub.wait() == 0, pub.output()
    assert "tok-123456" not in pub.output()


def test_nkey_seed_file_authenticates(
    secure_server: SecureServer, run_cli: CliFactory, tmp_path: Path
) -> None:
    """NATS_NKEY (a user seed file) answers the server's nonce challenge."""
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    public = nkeys.from_seed(bytearray(seed)).public_key.decode()
    seed_file = tmp_path / "user.nk"
    seed_file.write_bytes(seed)
    server = secure_server(f'authorization {{ users = [ {{ nkey: "{public}" }} ] }}\n')
    pub = run_cli("publish", "--count", "1", url=server.url, env={"NATS_NKEY": str(seed_file)})
    assert pub.wait() == 0, pub.output()
    assert pub.logs.where("Connected to NATS")[0]["auth"] == "nkey"


def test_publish_permission_violation_is_an_error_and_counted(
    secure_server: SecureServer, run_cli: CliFactory
) -> None:
    """Publishing where the user may not: `Permission denied` ERROR records, counted in metrics."""
    server = secure_server(USERS)
    env = {"NATS_USER": "limited", "NATS_PASSWORD": "s3cret-pw"}
    pub = run_cli(
        "publish", "--subject", "forbidden.x", "--interval", "0.05", url=server.url, env=env
    )
    denied = pub.logs.wait_for("Permission denied", count=3)
    assert {r["level"] for r in denied} == {"ERROR"}
    assert "forbidden.x" in denied[0]["error"]
    pub.signal()
    assert pub.wait() == 0, pub.output()
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert final["permission_errors"] >= 3
    assert final["total_errors"] >= final["permission_errors"]


def test_missing_ca_file_is_a_configuration_error(run_cli: CliFactory, tmp_path: Path) -> None:
    """NATS_CA naming a missing file: exit 2 with one line naming the variable and the flag."""
    pub = run_cli(
        "publish", "--count", "1", url="nats://127.0.0.1:1", env={"NATS_CA": str(tmp_path / "x")}
    )
    assert pub.wait() == 2
    assert "NATS_CA / --tlsca: no such file" in pub.output()


def test_creds_file_authenticates_in_operator_mode(
    start_server: ServerFactory, run_cli: CliFactory, tmp_path: Path
) -> None:
    """NATS_CREDS (user JWT + seed) connects to a server trusting the operator that signed it."""
    setup = OperatorSetup(tmp_path / "operator")
    server = start_server(config_file=setup.config_file, jetstream=False)
    pub = run_cli(
        "publish", "--count", "1", url=server.url, env={"NATS_CREDS": str(setup.creds_file)}
    )
    assert pub.wait() == 0, pub.output()
    assert pub.logs.where("Connected to NATS")[0]["auth"] == "creds"


def test_creds_from_another_operator_are_refused_once(
    start_server: ServerFactory, run_cli: CliFactory, tmp_path: Path
) -> None:
    """A .creds file the server does not trust: exit 1, one line naming authorization."""
    trusted = OperatorSetup(tmp_path / "trusted")
    stranger = OperatorSetup(tmp_path / "stranger")
    server = start_server(config_file=trusted.config_file, jetstream=False)
    pub = run_cli(
        "publish", "--count", "1", url=server.url, env={"NATS_CREDS": str(stranger.creds_file)}
    )
    assert pub.wait() == 1, pub.output()
    [record] = pub.logs.where("Could not connect to NATS")
    assert "authorization" in record["error"].lower()
