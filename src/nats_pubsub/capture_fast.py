"""The message logger's hot path: the common message captured in one typed pass.

`capture()` handles any bytes (text, binary, huge, deep, broken JSON) and renders the payload by
decoding it into Python objects, which the log encoder then encodes again. Most traffic is small,
one-line JSON objects whose known fields are scalars; for those, `capture_fast` decodes only the
fields it extracts (a typed msgspec struct: the rest of the payload is syntax-checked and
skipped) and embeds the payload bytes verbatim (`msgspec.Raw`). It returns None for anything
else, and the caller falls back to `capture()`. The logged record is the same JSON value either
way (tests/test_capture_fast.py checks that on generated and hostile payloads).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from msgspec.structs import astuple

from nats_pubsub.capture import ERROR_STATUSES, MAX_RENDER_DEPTH, Capture

__all__ = ["capture_fast", "subject_is_error"]

_Scalar = str | int | float | bool | None
_MAX_FIELD_CHARS: Final = 200
_MAX_CACHED_SUBJECTS: Final = 10_000


class _Known(msgspec.Struct):
    """The extracted fields (see capture.EXTRACTED_FIELDS) under `data`."""

    transaction_id: _Scalar = None
    status: _Scalar = None
    decline_reason: _Scalar = None
    amount: _Scalar = None
    card_type: _Scalar = None
    event_type: _Scalar = None
    message_id: _Scalar = None


class _Peek(_Known):
    """The extracted fields at the top level, and the `data` object holding more of them."""

    data: _Known | None = None


_peek = msgspec.json.Decoder(_Peek).decode
_NAMES: Final = _Known.__struct_fields__
_NONE: Final = (None,) * len(_NAMES)
_DECODE_ERRORS = (msgspec.MsgspecError, RecursionError, UnicodeDecodeError)
_error_subjects: dict[str, bool] = {}
# Numbers msgspec would refuse to decode (out of range) but skips unchecked in fields the struct
# does not hold have a positive 3-digit exponent or a long digit run. With every digit mapped to
# "0", "E" to "e" and "+" removed, both are plain substring searches (a regex costs ~20x more).
# Matches inside strings only send a payload to capture(): never wrong, rarely slower.
_NUMBER_SHAPES: Final = bytes.maketrans(b"0123456789E", b"0000000000e")
_BIG_EXPONENT: Final = b"e000"
_LONG_DIGITS: Final = b"0" * 300


def subject_is_error(subject: str) -> bool:
    """True when a token of `subject` is an error status (cached per subject, bounded)."""
    cached = _error_subjects.get(subject)
    if cached is None:
        if len(_error_subjects) >= _MAX_CACHED_SUBJECTS:
            _error_subjects.clear()
        cached = _error_subjects[subject] = any(
            token.lower() in ERROR_STATUSES for token in subject.split(".")
        )
    return cached


def capture_fast(
    subject: str, reply: str, data: bytes, headers: dict[str, str] | None, max_bytes: int
) -> Capture | None:
    """The `capture()` result for a small, one-line, UTF-8 JSON object with scalar known fields
    (its payload embedded verbatim); None when `capture()` must decide."""
    if (
        len(data) > max_bytes
        or data[:1] != b"{"
        or b"\n" in data
        or b"\r" in data
        or data.count(b"{") + data.count(b"[") > MAX_RENDER_DEPTH
        or not (data.isascii() or _is_utf8(data))
    ):
        return None
    shapes = data.translate(_NUMBER_SHAPES, b"+")
    if _BIG_EXPONENT in shapes or _LONG_DIGITS in shapes:
        return None
    try:
        peek = _peek(data)
    except _DECODE_ERRORS:
        return None
    fields: dict[str, Any] = {
        "subject": subject,
        "reply_to": reply or None,
        "size_bytes": len(data),
    }
    if headers:
        fields["headers"] = dict(headers)
    values = astuple(peek)
    nested = values[-1]
    for name, value, fallback in zip(
        _NAMES, values, _NONE if nested is None else astuple(nested), strict=False
    ):
        if value is None or (value.__class__ is str and len(value) > _MAX_FIELD_CHARS):
            value = fallback
            if value is None or (value.__class__ is str and len(value) > _MAX_FIELD_CHARS):
                continue
        fields[name] = value
    status = fields.get("status")
    fields["payload"] = msgspec.Raw(data)
    error = subject_is_error(subject) or (
        isinstance(status, str) and status.lower() in ERROR_STATUSES
    )
    return Capture("ERROR" if error else "INFO", fields)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
