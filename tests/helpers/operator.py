"""A minimal NATS operator/account/user JWT setup for `.creds` tests (what `nsc` would write)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import nkeys

__all__ = ["OperatorSetup"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _keypair(prefix: int) -> Any:
    return nkeys.from_seed(bytearray(nkeys.encode_seed(os.urandom(32), prefix)))


def _jwt(issuer: Any, subject: str, name: str, nats: dict[str, Any]) -> str:
    """A v2 NATS JWT: claims signed with the issuer's ed25519 NKey."""
    claims: dict[str, Any] = {
        "iat": int(time.time()) - 60,
        "iss": issuer.public_key.decode(),
        "name": name,
        "sub": subject,
        "nats": {**nats, "version": 2},
    }
    claims["jti"] = (
        base64.b32encode(hashlib.sha256(json.dumps(claims, sort_keys=True).encode()).digest())
        .decode()
        .rstrip("=")
    )
    header = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = _b64(issuer.sign(f"{header}.{body}".encode()))
    return f"{header}.{body}.{signature}"


_UNLIMITED = {"subs": -1, "data": -1, "payload": -1}


class OperatorSetup:
    """An operator, one account and one user: a server config file and the user's .creds file."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        operator = _keypair(nkeys.PREFIX_BYTE_OPERATOR)
        account = _keypair(nkeys.PREFIX_BYTE_ACCOUNT)
        user = _keypair(nkeys.PREFIX_BYTE_USER)
        operator_pub = operator.public_key.decode()
        account_pub = account.public_key.decode()
        operator_jwt = _jwt(operator, operator_pub, "test-operator", {"type": "operator"})
        account_jwt = _jwt(
            operator,
            account_pub,
            "test-account",
            {
                "type": "account",
                "limits": {
                    **_UNLIMITED,
                    "imports": -1,
                    "exports": -1,
                    "wildcards": True,
                    "conn": -1,
                    "leaf": -1,
                },
            },
        )
        user_jwt = _jwt(
            account,
            user.public_key.decode(),
            "test-user",
            {"type": "user", "pub": {}, "sub": {}, **_UNLIMITED},
        )
        (directory / "operator.jwt").write_text(operator_jwt)
        self.config_file = directory / "operator.conf"
        self.config_file.write_text(
            f'operator: "{directory / "operator.jwt"}"\n'
            "resolver: MEMORY\n"
            f'resolver_preload: {{ {account_pub}: "{account_jwt}" }}\n'
        )
        self.creds_file = directory / "user.creds"
        self.creds_file.write_text(
            "-----BEGIN NATS USER JWT-----\n"
            f"{user_jwt}\n"
            "------END NATS USER JWT------\n\n"
            "-----BEGIN USER NKEY SEED-----\n"
            f"{user.seed.decode()}\n"
            "------END USER NKEY SEED------\n"
        )
