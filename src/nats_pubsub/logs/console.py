"""Console log lines: a record rendered for people (time, level, logger, message, key=value).

Whatever a peer sent reaches a terminal here, so every character that is not printable (escape
sequences, colour codes, OSC titles, bidi controls, line breaks) is shown escaped (`\\x1b`,
`\\u202e`): only the colours we add ourselves are ever interpreted by the terminal.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Final

import msgspec

from nats_pubsub.logs.lines import HEAD, fallback

__all__ = ["printable", "render_console", "terminal_width"]

_COLORS: Final = {
    "DEBUG": "\x1b[2m",
    "INFO": "\x1b[32m",
    "WARNING": "\x1b[33m",
    "ERROR": "\x1b[31m",
}
_BARE: Final = re.compile(r"[^\s\"=]+")
# Fields that can be long (whole payloads): given a width, shown last and cut to fit, in order.
_BULKY: Final = ("payload", "preview", "headers")


def terminal_width() -> int | None:
    """Columns of the terminal stdout writes to (`COLUMNS` if set); None when not a terminal."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
    except (OSError, ValueError):
        return None


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every non-printable character escaped (`\\x1b`, `\\u2028`, ...)."""
    if text.isprintable():
        return text  # the common case, checked in C
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _console_value(value: Any) -> str:
    if isinstance(value, str):
        if _BARE.fullmatch(value) and value.isprintable():
            return value
        return printable(msgspec.json.encode(value).decode())
    return printable(msgspec.json.encode(value, enc_hook=fallback).decode())


def _fit(pairs: list[tuple[str, str]], room: int) -> str:
    """`key=value` pairs in about `room` characters: bulky fields last, the first that does not
    fit cut with an ellipsis, the rest left out (the others are shown whole)."""
    text = " ".join(f"{key}={value}" for key, value in pairs if key not in _BULKY)
    for name in _BULKY:
        for key, value in pairs:
            if key != name:
                continue
            piece = f"{key}={value}"
            room_left = room - len(text) - (1 if text else 0)
            if len(piece) > room_left:
                if room_left > len(key) + 2:  # some of the value fits
                    text += (" " if text else "") + piece[: room_left - 1] + "…"
                return text
            text += (" " if text else "") + piece
    return text


def render_console(
    record: dict[str, Any], *, color: bool, prefix: str = "", width: int | None = None
) -> str:
    """Render a log record as one readable line: time, level, logger, message, key=value.

    With a `width` (a terminal's columns, less the prefix), a record carrying a payload is made
    to fit: empty fields left out, the payload cut, the line itself cut as a last resort. Other
    records (metrics) are shown whole.
    """
    stamp = str(record.get("timestamp", ""))
    clock = stamp[11:23] if len(stamp) >= 23 else stamp
    level = str(record.get("level", "INFO"))
    text = printable(f"{record.get('logger', '')}: {record.get('message', '')}")
    fit = width is not None and any(name in record for name in _BULKY)
    pairs = [
        (printable(str(key)), _console_value(value))
        for key, value in record.items()
        if key not in HEAD and not (fit and value is None)
    ]
    if width is None or not fit:
        extras = " ".join(f"{key}={value}" for key, value in pairs)
    else:
        room = width - len(clock) - 9 - len(text) - 2
        extras = _fit(pairs, room)
        if len(extras) > room:  # the fields alone are too wide: cut the line at the width
            extras = extras[: max(room - 1, 0)] + "…"
    head = f"{printable(level):<7}"
    if color:
        head = f"{_COLORS.get(level, '')}{head}\x1b[0m"
    return f"{prefix}{printable(clock)} {head} {text}" + (f"  {extras}" if extras else "")
