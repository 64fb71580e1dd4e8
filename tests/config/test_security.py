"""Security settings: validation, masking, and the client options they turn into."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.cli.security_flags import secret_flags_given
from nats_pubsub.config import PublisherSettings, load_settings
from nats_pubsub.config.client import client_security
from nats_pubsub.config.security import SECURITY_FLAGS, auth_conflicts
from nats_pubsub.connection.auth import (
    auth_method,
    build_tls_context,
    check_nkey_seed,
    client_security_options,
    wants_tls,
)
from nats_pubsub.errors import ConfigError, NatsAuthError
from tests.helpers.pki import TestCA


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURITY_FLAGS:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("NATS_URL", raising=False)


def test_user_and_token_conflict() -> None:
    """Two ways to authenticate at once is one clear error naming both."""
    [problem] = auth_conflicts({"nats_user", "nats_token"})
    assert "NATS_USER / --user and NATS_TOKEN / --token cannot be combined" in problem


def test_password_needs_user() -> None:
    """A password alone is an error naming NATS_USER."""
    assert auth_conflicts({"nats_password"}) == [
        "NATS_PASSWORD / --password needs NATS_USER / --user"
    ]


def test_cert_needs_key() -> None:
    """A client certificate without its key is an error."""
    assert "go together" in auth_conflicts({"nats_cert"})[0]


@given(st.sets(st.sampled_from(sorted(SECURITY_FLAGS))))
def test_auth_conflicts_never_raises(given_fields: set[str]) -> None:
    """Any combination of fields gets a list of problems, never an exception."""
    assert isinstance(auth_conflicts(given_fields), list)


def test_settings_read_natscli_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """NATS_USER and NATS_PASSWORD from the environment; the password is a secret."""
    monkeypatch.setenv("NATS_USER", "alice")
    monkeypatch.setenv("NATS_PASSWORD", "pw-123")
    settings = load_settings(PublisherSettings)
    assert settings.nats_user == "alice"
    assert "pw-123" not in repr(settings)
    assert auth_method(client_security(settings)) == "user"


def test_conflict_error_does_not_echo_secrets() -> None:
    """A bad combination is a ConfigError that never shows the token."""
    with pytest.raises(ConfigError) as info:
        load_settings(PublisherSettings, nats_user="u", nats_token="tok-secret")
    assert "tok-secret" not in str(info.value)


def test_url_error_masks_the_password() -> None:
    """A malformed NATS_URL is reported with its password masked."""
    with pytest.raises(ConfigError) as info:
        load_settings(PublisherSettings, nats_url="nats://u:hunter2@host:99999")
    assert "hunter2" not in str(info.value)


def test_missing_file_names_variable_and_flag(tmp_path: Path) -> None:
    """NATS_CREDS pointing nowhere: the error names NATS_CREDS / --creds."""
    with pytest.raises(ConfigError, match=r"NATS_CREDS / --creds: no such file"):
        load_settings(PublisherSettings, nats_creds=tmp_path / "none.creds")


def test_no_security_means_no_options() -> None:
    """Plain settings add nothing to the client's options."""
    settings = load_settings(PublisherSettings)
    assert client_security_options(client_security(settings), settings.servers) == {}


def test_tls_url_asks_for_tls() -> None:
    """A tls:// URL builds a TLS context even without other settings."""
    settings = load_settings(PublisherSettings, nats_url="tls://127.0.0.1:4222")
    assert wants_tls(client_security(settings), settings.servers)
    assert isinstance(
        client_security_options(client_security(settings), settings.servers)["tls"], ssl.SSLContext
    )


def test_tls_context_loads_ca_and_client_certificate(tmp_path: Path) -> None:
    """NATS_CA, NATS_CERT and NATS_KEY become one verifying context with a client cert."""
    ca = TestCA(tmp_path)
    cert, key = ca.issue("client", server=False)
    settings = load_settings(
        PublisherSettings, nats_ca=ca.cert_file, nats_cert=cert, nats_key=key, nats_tls_hostname="x"
    )
    options = client_security_options(client_security(settings), settings.servers)
    assert options["tls"].verify_mode == ssl.CERT_REQUIRED
    assert options["tls_hostname"] == "x"


def test_unreadable_certificate_names_the_file(tmp_path: Path) -> None:
    """A file that is not a certificate: NatsAuthError naming NATS_CERT."""
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    settings = load_settings(PublisherSettings, nats_cert=bad, nats_key=bad)
    with pytest.raises(NatsAuthError, match="NATS_CERT"):
        build_tls_context(client_security(settings))


@given(st.binary(max_size=200))
def test_nkey_seed_check_only_raises_auth_errors(content: bytes) -> None:
    """Any file content is either a valid seed or one NatsAuthError, nothing else."""
    problem = None
    try:
        check_nkey_seed(content, "seed.nk")
    except NatsAuthError as exc:
        problem = str(exc)
    assert problem is None or "seed.nk" in problem


def test_secret_files_count_as_their_secret() -> None:
    """A password file pairs with the user like a password; a token file is a token."""
    assert auth_conflicts({"nats_user", "nats_password_file"}) == []
    assert "needs" in auth_conflicts({"nats_password_file"})[0]
    assert "cannot be combined" in auth_conflicts({"nats_token", "nats_token_file"})[0]
    assert "cannot be combined" in auth_conflicts({"nats_user", "nats_token_file"})[0]
    both = auth_conflicts({"nats_user", "nats_password", "nats_password_file"})
    assert any("give the password one way" in problem for problem in both)


def test_secret_file_is_read_when_connecting(tmp_path: Path) -> None:
    """The client options carry the file's secret (without its line break)."""
    secret = tmp_path / "pw"
    secret.write_text("pw-from-file\n")
    settings = load_settings(PublisherSettings, nats_user="u", nats_password_file=secret)
    assert (
        client_security_options(client_security(settings), settings.servers)["password"]
        == "pw-from-file"
    )
    assert auth_method(client_security(settings)) == "user"


@pytest.mark.parametrize(
    ("overrides", "flags"),
    [
        ({"nats_password": "p", "nats_user": "u"}, ["--password"]),
        ({"nats_token": "t"}, ["--token"]),
        ({"nats_url": "nats://u:p@host:4222"}, ["--url"]),
        ({"nats_url": "nats://a:4222,nats://TOKEN@b:4222"}, ["--url"]),
        ({"nats_url": "nats://host:4222", "nats_password_file": Path("f")}, []),
        ({"nats_password": None}, []),
    ],
)
def test_secret_flags_given(overrides: dict[str, object], flags: list[str]) -> None:
    """Which flags put a secret on the command line."""
    assert secret_flags_given(overrides) == flags
