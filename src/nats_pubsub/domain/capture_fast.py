"""The message logger's hot path: the common message captured in one typed pass.

`capture()` handles any bytes (text, binary, huge, deep, broken JSON) and renders the payload by
decoding it into Python objects, which the log encoder then encodes again. Most traffic is small,
one-line JSON objects whose known fields are scalars; for those, `capture_fast` decodes only the
fields it extracts (a msgspec TypedDict: the rest of the payload is syntax-checked and
skipped) and embeds the payload bytes verbatim (`msgspec.Raw`). It returns None for anything
else, and the caller falls back to `capture()`. The logged record is the same JSON value either
way (tests/domain/test_capture_fast.py checks that on generated and hostile payloads).
`capture_values` is the same result as the values of a record of `CAPTURED_FIELDS`, for
`Logger.record_emitter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, TypedDict

import msgspec
from msgspec import UNSET
from msgspec.structs import astuple

from nats_pubsub.domain.capture import ERROR_STATUSES, EXTRACTED_FIELDS, MAX_RENDER_DEPTH, Capture

__all__ = ["CAPTURED_FIELDS", "capture_fast", "capture_values", "subject_is_error"]

# The fields of a `Message captured` record made here, in order.
CAPTURED_FIELDS: Final = (
    "subject",
    "reply_to",
    "size_bytes",
    "headers",
    *EXTRACTED_FIELDS,
    "payload",
)
_STATUS: Final = CAPTURED_FIELDS.index("status")
_MAX_FIELD_CHARS: Final = 200
_MAX_CACHED_SUBJECTS: Final = 10_000
# A longer text fails the decode, leaving the message to capture() (which then looks under
# `data`): rare, and cheaper than a length check per field here.
_Scalar = Annotated[str, msgspec.Meta(max_length=_MAX_FIELD_CHARS)] | int | float | bool | None


class _Known(TypedDict, total=False):
    """The extracted fields (see capture.EXTRACTED_FIELDS) found under `data`."""

    transaction_id: _Scalar
    status: _Scalar
    decline_reason: _Scalar
    amount: _Scalar
    card_type: _Scalar
    event_type: _Scalar
    message_id: _Scalar


class _Peek(_Known, total=False):
    """The extracted fields found at the top level, and the `data` object holding more of them."""

    data: _Known | None


class _Picked(msgspec.Struct):
    """The extracted fields picked, in order; UNSET where none was."""

    transaction_id: Any = UNSET
    status: Any = UNSET
    decline_reason: Any = UNSET
    amount: Any = UNSET
    card_type: Any = UNSET
    event_type: Any = UNSET
    message_id: Any = UNSET


# A TypedDict decodes to a plain dict of the keys found, which is how it is used here.
_peek: Callable[[bytes], dict[str, Any]] = msgspec.json.Decoder(_Peek).decode  # type: ignore[assignment]
_DECODE_ERRORS = (msgspec.MsgspecError, RecursionError, UnicodeDecodeError)
_error_subjects: dict[str, bool] = {}
# Numbers msgspec would refuse to decode (out of range) but skips unchecked in fields it does not
# decode have a positive 3-digit exponent or a long digit run. With every digit mapped to "0" and
# "E" and "+" to "e", both are plain substring searches (a regex costs ~20x more). Matches inside
# strings only send a payload to capture(): never wrong, rarely slower. The same pass maps "[" to
# "{" and "\r" to "\n", for one count of containers and one search for line breaks.
_SHAPES: Final = bytes.maketrans(b"0123456789E+[\r", b"0000000000ee{\n")
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


def capture_values(
    subject: str, reply: str, data: bytes, headers: dict[str, str] | None, max_bytes: int
) -> tuple[str, list[Any]] | None:
    """The level and `CAPTURED_FIELDS` values (`msgspec.UNSET` for a field left out) of the
    `capture()` result for a small, one-line, UTF-8 JSON object with scalar known fields (its
    payload embedded verbatim); None when `capture()` must decide. Every value is fresh or
    immutable, so the record may be encoded later."""
    if len(data) > max_bytes or data[:1] != b"{" or not (data.isascii() or _is_utf8(data)):
        return None
    shapes = data.translate(_SHAPES)
    if (
        10 in shapes  # a line break ("\r" is mapped to "\n"): one record must stay one line
        or shapes.count(b"{") > MAX_RENDER_DEPTH  # "[" is mapped to "{"
        or shapes.find(_BIG_EXPONENT) >= 0  # find(), as `in` first tries the needle as an int
        or shapes.find(_LONG_DIGITS) >= 0
    ):
        return None
    try:
        top = _peek(data)
    except _DECODE_ERRORS:
        return None
    nested = top.pop("data", None)
    known = {**nested, **top} if nested else top
    if None in known.values():  # a null counts as absent, as in capture(), at either level
        known = {
            name: value
            for found in (nested or {}, top)
            for name, value in found.items()
            if value is not None
        }
    values: list[Any] = [
        subject,
        reply or None,
        len(data),
        dict(headers) if headers else UNSET,
        *astuple(_Picked(**known)),
        msgspec.Raw(data),
    ]
    status = values[_STATUS]
    error = subject_is_error(subject) or (
        status.__class__ is str and status.lower() in ERROR_STATUSES
    )
    return "ERROR" if error else "INFO", values


def capture_fast(
    subject: str, reply: str, data: bytes, headers: dict[str, str] | None, max_bytes: int
) -> Capture | None:
    """`capture_values` as the `capture()` result itself; None when `capture()` must decide."""
    captured = capture_values(subject, reply, data, headers, max_bytes)
    if captured is None:
        return None
    level, values = captured
    fields = {
        name: value
        for name, value in zip(CAPTURED_FIELDS, values, strict=True)
        if value is not UNSET
    }
    return Capture(level, fields)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
