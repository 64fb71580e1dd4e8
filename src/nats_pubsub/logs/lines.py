"""JSON log lines as bytes %-formats, for hot paths that write many records of one shape.

`line_format` renders a record once, with a hole (`Fill`) wherever a value varies; each line is
then one `%` with the varying values, byte for byte the line `Logger` writes for the same record
(msgspec's compact JSON, fields in order). Constant text is escaped for JSON and for `%` here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec

__all__ = [
    "DIGITS",
    "HEAD",
    "INT",
    "STAMP",
    "Fill",
    "check_fields",
    "fallback",
    "line_format",
    "record_type",
]

# The fields every record starts with, in this order; then the record's own fields.
HEAD: Final = ("timestamp", "level", "logger", "message", "module", "function")
_HEAD_FIELDS: Final = frozenset(HEAD)


def fallback(obj: Any) -> Any:
    """Render values JSON has no type for (exceptions, paths) as text; bytes stay base64."""
    return str(obj)


_encode = msgspec.json.Encoder(enc_hook=fallback).encode


def _escaped(value: Any) -> bytes:
    return _encode(value).replace(b"%", b"%%")


class Fill:
    """A hole in a line format: `spec` is the JSON value's text, with %-placeholders."""

    __slots__ = ("spec",)

    def __init__(self, spec: bytes) -> None:
        self.spec = spec

    @classmethod
    def text(cls, prefix: str, spec: bytes = b"%d") -> Fill:
        """A JSON string: the constant `prefix`, then what fills `spec` (it must need no escape,
        as a number does): `Fill.text("web-1-")` holds "web-1-42" for 42 (with `spec` b"%b",
        for b"42")."""
        return cls(_escaped(prefix)[:-1] + spec + b'"')


INT: Final = Fill(b"%d")
# A number given as its decimal digits, already bytes (b"%d" % n made once for several formats).
DIGITS: Final = Fill(b"%b")
# A record's timestamp (`timeutil.format_ns`), filled with the two parts of `stamp_parts`.
STAMP: Final = Fill(b'"%b%06dZ"')


def line_format(fields: dict[str, Any]) -> bytes:
    """The JSON line of `fields` (newline included), with its `Fill` values as holes."""
    parts = [
        _escaped(key) + b":" + (value.spec if isinstance(value, Fill) else _escaped(value))
        for key, value in fields.items()
    ]
    return b"{" + b",".join(parts) + b"}\n"


def check_fields(names: Iterable[str]) -> None:
    """Raise ValueError if a record field would replace one of the head's."""
    clash = _HEAD_FIELDS.intersection(names)
    if clash:
        raise ValueError(f"record fields {sorted(clash)} would replace the record head")


_RECORD_TYPES: dict[tuple[str, ...], type[msgspec.Struct]] = {}


def record_type(names: tuple[str, ...]) -> type[msgspec.Struct]:
    """A struct whose fields are the record head and then `names`, in that order."""
    check_fields(names)
    cached = _RECORD_TYPES.get(names)
    if cached is None:
        fields = [(key, Any) for key in (*HEAD, *names)]
        cached = _RECORD_TYPES[names] = msgspec.defstruct("Record", fields)
    return cached
