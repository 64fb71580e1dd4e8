"""`.creds` and NKey seed files are checked when settings load: one configuration error line,
never a traceback from deep inside the client at connect time."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.config import PublisherSettings, load_settings
from nats_pubsub.config.credentials import creds_problem
from nats_pubsub.config.security import SECURITY_FLAGS
from nats_pubsub.connection.auth import check_creds
from nats_pubsub.errors import ConfigError, NatsAuthError
from tests.helpers.fixtures import CliFactory, ServerFactory
from tests.helpers.operator import OperatorSetup


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURITY_FLAGS:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(scope="module")
def good_creds(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A .creds file exactly as `nsc` writes one."""
    return OperatorSetup(tmp_path_factory.mktemp("operator")).creds_file.read_bytes()


def test_a_good_creds_file_passes(good_creds: bytes) -> None:
    """The shape nsc writes: no problem."""
    assert creds_problem(good_creds) is None


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: text.replace(b"BEGIN NATS USER JWT", b"BEGIN SOMETHING"), "no user JWT"),
        (lambda text: text.replace(b"BEGIN USER NKEY SEED", b"BEGIN SOMETHING"), "no user seed"),
        (lambda text: text.replace(b"\nSU", b"\nSX"), "not a valid NKey seed"),
        (lambda text: text.replace(b".", b"", 2), "not a JWT"),
        (lambda text: b"", "no user JWT"),
    ],
)
def test_a_damaged_creds_file_says_what_is_wrong(
    good_creds: bytes, damage: object, reason: str
) -> None:
    """A missing marker, a broken JWT or a bad seed: a reason naming it."""
    assert callable(damage)
    problem = creds_problem(damage(good_creds))
    assert problem is not None
    assert reason in problem


@given(st.binary(max_size=400))
def test_creds_check_never_raises_anything_else(content: bytes) -> None:
    """Any bytes: a usable file or one NatsAuthError naming the file."""
    problem = None
    try:
        check_creds(content, "user.creds")
    except NatsAuthError as exc:
        problem = str(exc)
    assert problem is None or "user.creds" in problem


def test_settings_refuse_a_malformed_creds_file(good_creds: bytes, tmp_path: Path) -> None:
    """Loading settings fails with one ConfigError naming the variable, the flag and why."""
    bad = tmp_path / "bad.creds"
    bad.write_bytes(good_creds.replace(b"\nSU", b"\nSX"))
    with pytest.raises(ConfigError, match=r"NATS_CREDS / --creds: .*not a valid NKey seed"):
        load_settings(PublisherSettings, nats_creds=bad)
    good = tmp_path / "good.creds"
    good.write_bytes(good_creds)
    assert load_settings(PublisherSettings, nats_creds=good).nats_creds == good


def test_settings_refuse_a_malformed_nkey_file(tmp_path: Path) -> None:
    """An NKey seed file that holds no seed: a ConfigError when settings load."""
    bad = tmp_path / "user.nk"
    bad.write_text("not a seed\n")
    with pytest.raises(ConfigError, match=r"NATS_NKEY / --nkey: .*not a valid NKey seed"):
        load_settings(PublisherSettings, nats_nkey=bad)


@pytest.mark.e2e
def test_malformed_creds_is_one_configuration_line(
    start_server: ServerFactory, run_cli: CliFactory, tmp_path: Path
) -> None:
    """`publish --creds bad.creds` against a server that wants them: exit 2, one configuration
    error line, no traceback (it was `nkeys.ErrInvalidSeed` while signing the server's nonce)."""
    setup = OperatorSetup(tmp_path / "operator")
    server = start_server(config_file=setup.config_file, jetstream=False)
    bad = tmp_path / "bad.creds"
    bad.write_bytes(setup.creds_file.read_bytes().replace(b"\nSU", b"\nSX"))
    pub = run_cli("publish", "--count", "1", "--creds", str(bad), url=server.url)
    assert pub.wait() == 2, pub.output()
    assert "Traceback" not in pub.output()
    [line] = pub.stderr.raw
    assert line.startswith("nats-pubsub: configuration error: NATS_CREDS / --creds: ")
