"""What a credentials file must hold: the checks behind NATS_CREDS, NATS_NKEY and the secret
files, shared by the settings (checked when they load) and the connection layer (at connect).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["creds_problem", "nkey_seed_problem", "read_secret_file"]


def nkey_seed_problem(seed: bytes) -> str | None:
    """Why `seed` is not an NKey seed nats-py can sign with (None when it is one)."""
    import nkeys  # only when NKeys are used: ~1 MiB a service without them does not carry

    try:
        nkeys.from_seed(bytearray(seed)).wipe()
    except (nkeys.NkeysError, ValueError, IndexError, TypeError) as exc:
        return f"not a valid NKey seed ({type(exc).__name__})"
    return None


def _line_after(lines: list[bytes], marker: bytes) -> bytes | None:
    """The line after the first line containing `marker`, without its last byte (its line
    break), as nats-py reads a .creds file; None when there is no such line."""
    for index, line in enumerate(lines[:-1]):
        if marker in line:
            return lines[index + 1][:-1]
    return None


def creds_problem(content: bytes) -> str | None:
    """Why `content` is not a .creds file nats-py can use (None when it is one): a user JWT after
    a `BEGIN NATS USER JWT` line and a user seed after a `BEGIN USER NKEY SEED` line."""
    lines = content.splitlines(keepends=True)
    jwt = _line_after(lines, b"BEGIN NATS USER JWT")
    if jwt is None:
        return "no user JWT: expected a -----BEGIN NATS USER JWT----- line and the JWT after it"
    parts = jwt.strip().split(b".")
    if len(parts) != 3 or not all(parts):
        return "the line after BEGIN NATS USER JWT is not a JWT (three dot-separated parts)"
    seed = _line_after(lines, b"BEGIN USER NKEY SEED")
    if seed is None:
        return "no user seed: expected a -----BEGIN USER NKEY SEED----- line and the seed after it"
    problem = nkey_seed_problem(seed)
    if problem is not None:
        return f"the line after BEGIN USER NKEY SEED is {problem} (a line starting with SU)"
    return None


def read_secret_file(path: Path) -> str:
    """The secret a `--password-file` / `--token-file` holds: its text, without the line break
    that ends it."""
    return path.read_text(encoding="utf-8").rstrip("\r\n")
