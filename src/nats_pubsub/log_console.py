"""Console log lines: a record rendered for people (time, level, logger, message, key=value)."""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

from nats_pubsub.log_lines import HEAD, fallback

__all__ = ["render_console"]

_COLORS: Final = {
    "DEBUG": "\x1b[2m",
    "INFO": "\x1b[32m",
    "WARNING": "\x1b[33m",
    "ERROR": "\x1b[31m",
}
_BARE: Final = re.compile(r"[^\s\"=]+")


def _console_value(value: Any) -> str:
    if isinstance(value, str):
        return value if _BARE.fullmatch(value) else msgspec.json.encode(value).decode()
    return msgspec.json.encode(value, enc_hook=fallback).decode()


def render_console(record: dict[str, Any], *, color: bool, prefix: str = "") -> str:
    """Render a log record as one readable line: time, level, logger, message, key=value."""
    stamp = str(record.get("timestamp", ""))
    clock = stamp[11:23] if len(stamp) >= 23 else stamp
    level = str(record.get("level", "INFO"))
    extras = " ".join(
        f"{key}={_console_value(value)}" for key, value in record.items() if key not in HEAD
    )
    head = f"{level:<7}"
    if color:
        head = f"{_COLORS.get(level, '')}{head}\x1b[0m"
    return f"{prefix}{clock} {head} {record.get('logger', '')}: {record.get('message', '')}" + (
        f"  {extras}" if extras else ""
    )
