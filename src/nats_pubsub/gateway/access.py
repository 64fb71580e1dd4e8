"""Who may call the gateway, pure: the bearer token check and the CORS answers.

The token comes in `Authorization: Bearer <token>`, or as `?access_token=` where a browser cannot
set headers (WebSocket, EventSource). CORS is off unless origins are listed; `*` allows any.
"""

from __future__ import annotations

import hmac
from typing import Final
from urllib.parse import parse_qsl

__all__ = ["ALLOW_METHODS", "authorized", "cors_headers", "preflight_headers", "token_in"]

ALLOW_METHODS: Final = b"GET, POST, DELETE, OPTIONS"
_ALLOW_HEADERS: Final = b"Authorization, Content-Type, Last-Event-ID"
_MAX_AGE: Final = b"600"
_BEARER: Final = b"bearer "


def token_in(authorization: bytes | None, query_string: bytes) -> bytes | None:
    """The token a request presents: its bearer header, else its `access_token` parameter."""
    if authorization is not None and authorization[:7].lower() == _BEARER:
        return authorization[7:].strip()
    if b"access_token=" in query_string:
        for key, value in parse_qsl(query_string.decode("latin-1")):
            if key == "access_token":
                return value.encode("latin-1")
    return None


def authorized(expected: bytes | None, presented: bytes | None) -> bool:
    """True when no token is required, or the one presented is it (compared in constant time)."""
    if expected is None:
        return True
    return presented is not None and hmac.compare_digest(expected, presented)


def _allowed(origin: bytes | None, origins: tuple[str, ...]) -> bytes | None:
    """The Access-Control-Allow-Origin value for `origin`, or None when it may not call."""
    if origin is None or not origins:
        return None
    if "*" in origins:
        return b"*"
    return origin if origin.decode("latin-1").rstrip("/") in origins else None


def cors_headers(origin: bytes | None, origins: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    """Headers to add to an answer to a cross-origin request (none when CORS is off for it)."""
    allow = _allowed(origin, origins)
    if allow is None:
        return []
    headers = [(b"access-control-allow-origin", allow)]
    if allow != b"*":
        headers.append((b"vary", b"Origin"))
    return headers


def preflight_headers(
    origin: bytes | None, origins: tuple[str, ...]
) -> list[tuple[bytes, bytes]] | None:
    """The answer to an OPTIONS preflight: its headers, or None when the origin may not call."""
    headers = cors_headers(origin, origins)
    if not headers:
        return None
    return [
        *headers,
        (b"access-control-allow-methods", ALLOW_METHODS),
        (b"access-control-allow-headers", _ALLOW_HEADERS),
        (b"access-control-max-age", _MAX_AGE),
    ]
