"""End to end: secrets stay off command lines and out of environments.

`up` hands each service its settings through a pipe; `--password-file` / `--token-file` (and
NATS_PASSWORD_FILE / NATS_TOKEN_FILE) keep a secret off every command line; a secret given by
flag works and is warned about, since any local user can read it with `ps`.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory, ServerFactory

pytestmark = pytest.mark.e2e

PASSWORD = "s3cret-pw-never-in-ps"
TOKEN = "t0ken-never-in-ps"


@pytest.fixture
def password_server(start_server: ServerFactory, tmp_path: Path) -> EmbeddedServer:
    """A server with one user, `stack`, and PASSWORD."""
    config = tmp_path / "auth.conf"
    config.write_text(f'authorization {{ user: "stack", password: "{PASSWORD}" }}\n')
    return start_server(config_file=config, jetstream=False)


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _visible(pid: int) -> bytes:
    """What other processes can read about `pid`: its command line and its environment."""
    proc = Path(f"/proc/{pid}")
    return (proc / "cmdline").read_bytes() + b"\0" + (proc / "environ").read_bytes()


def _stack(run_cli: CliFactory, url: str, tmp_path: Path, *args: str, **env: str) -> ServiceProcess:
    stack = run_cli(
        "up",
        *args,
        "--store-dir",
        str(tmp_path / "up"),
        url=url,
        env={"PUBLISH_INTERVAL": "0.05", **env},
    )
    stack.logs.wait_for("Stack running; press Ctrl+C to stop", timeout=60)
    stack.logs.wait_for("Message received", timeout=60)
    return stack


def _stop(stack: ServiceProcess) -> None:
    stack.signal(signal.SIGINT)
    assert stack.wait(timeout=60) == 0, stack.output()
    assert PASSWORD not in stack.output()


def test_up_hands_its_services_the_password_through_a_pipe(
    password_server: EmbeddedServer, run_cli: CliFactory, tmp_path: Path
) -> None:
    """`up --password`: the stack connects, and no service has the password in its command
    line or environment (they had it as NATS_PASSWORD); `up` warns about the flag."""
    stack = _stack(
        run_cli, password_server.url, tmp_path, "--user", "stack", "--password", PASSWORD
    )
    services = _children(stack.process.pid)
    assert len(services) == 5  # subscriber, logger, publisher, payments, gateway
    for pid in services:
        assert PASSWORD.encode() not in _visible(pid), f"service {pid} shows the password"
    [warning] = stack.stderr.wait_for_line("--password on the command line")
    assert "--password-file" in warning
    _stop(stack)


def test_up_keeps_an_environment_password_from_its_services(
    password_server: EmbeddedServer, run_cli: CliFactory, tmp_path: Path
) -> None:
    """NATS_PASSWORD in `up`'s environment reaches the services by pipe, not by inheritance;
    no warning (nothing was on the command line)."""
    stack = _stack(
        run_cli, password_server.url, tmp_path, NATS_USER="stack", NATS_PASSWORD=PASSWORD
    )
    for pid in _children(stack.process.pid):
        assert PASSWORD.encode() not in _visible(pid), f"service {pid} shows the password"
    _stop(stack)
    assert not [line for line in stack.stderr.raw if "warning" in line]


def test_up_with_a_password_file(
    password_server: EmbeddedServer, run_cli: CliFactory, tmp_path: Path
) -> None:
    """`up --password-file`: the services read the file themselves; the secret is nowhere."""
    secret = tmp_path / "nats-password"
    secret.write_text(PASSWORD + "\n")
    stack = _stack(
        run_cli, password_server.url, tmp_path, "--user", "stack", "--password-file", str(secret)
    )
    assert PASSWORD.encode() not in _visible(stack.process.pid)
    for pid in _children(stack.process.pid):
        assert PASSWORD.encode() not in _visible(pid)
    _stop(stack)
    assert not [line for line in stack.stderr.raw if "warning" in line]


def test_password_and_token_files_authenticate(
    password_server: EmbeddedServer,
    start_server: ServerFactory,
    run_cli: CliFactory,
    tmp_path: Path,
) -> None:
    """NATS_PASSWORD_FILE and --token-file connect; `auth` says which method was used."""
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    pub = run_cli(
        "publish",
        "--count",
        "1",
        url=password_server.url,
        env={"NATS_USER": "stack", "NATS_PASSWORD_FILE": str(secret)},
    )
    assert pub.wait() == 0, pub.output()
    assert pub.logs.where("Connected to NATS")[0]["auth"] == "user"
    config = tmp_path / "token.conf"
    config.write_text(f'authorization {{ token: "{TOKEN}" }}\n')
    token_server = start_server(config_file=config, jetstream=False)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    sub = run_cli("publish", "--count", "1", "--token-file", str(token_file), url=token_server.url)
    assert sub.wait() == 0, sub.output()
    assert sub.logs.where("Connected to NATS")[0]["auth"] == "token"
    assert not sub.stderr.raw  # no warning: nothing secret on the command line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--user", "u", "--password", "p", "--password-file", "{file}"),
            "NATS_PASSWORD / --password and NATS_PASSWORD_FILE / --password-file cannot be "
            "combined",
        ),
        (("--password-file", "{file}"), "NATS_PASSWORD_FILE / --password-file needs"),
        (("--token", "t", "--token-file", "{file}"), "cannot be combined"),
        (("--user", "u", "--password-file", "{empty}"), "is empty"),
        (("--user", "u", "--password-file", "{missing}"), "no such file"),
    ],
)
def test_secret_file_mistakes_are_one_configuration_line(
    run_cli: CliFactory, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    """A secret given two ways, without its user, or an empty or missing file: exit 2, one
    line that names the variables and flags and never echoes the secret."""
    (tmp_path / "secret").write_text("from-a-file\n")
    (tmp_path / "empty").write_text("\n")
    paths = {name: str(tmp_path / name) for name in ("secret", "empty", "missing")}
    filled = [
        a.format(file=paths["secret"], empty=paths["empty"], missing=paths["missing"]) for a in args
    ]
    pub = run_cli("publish", "--count", "1", *filled, url="nats://127.0.0.1:1")
    assert pub.wait() == 2, pub.output()
    [line] = [line for line in pub.stderr.raw if "configuration error" in line]
    assert expected in line
    assert "from-a-file" not in pub.output()


def test_a_password_flag_works_and_is_warned_about(
    password_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """`publish --password` connects, with one warning line on stderr naming the flag."""
    pub = run_cli(
        "publish",
        "--count",
        "1",
        "--user",
        "stack",
        "--password",
        PASSWORD,
        url=password_server.url,
    )
    assert pub.wait() == 0, pub.output()
    [warning] = pub.stderr.raw
    assert warning.startswith("nats-pubsub: warning: --password on the command line")
    assert PASSWORD not in pub.output()
