"""Records stay bounded whatever a peer sends: long strings in a record's fields are cut.

A subject, a source, a field name or an error text can be as long as a message allows (1 MiB by
default). A record carries at most `MAX_FIELD_CHARS` characters of any string, at any depth
(keys too), the cut ones ending in `…`. `Logger` applies `bound_fields` to every record it builds
from a dict; hot paths that queue records as values call `bound_values` when a value may be long.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["CUT_MARK", "MAX_FIELD_CHARS", "bound", "bound_fields", "bound_values", "cut_text"]

MAX_FIELD_CHARS: Final = 1024
CUT_MARK: Final = "…"
# Deeper than this, containers are left as they are: nothing nests deeper in a record (the
# monitor renders JSON nested deeper than 32 as text).
_MAX_DEPTH: Final = 40


def cut_text(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """`text`, or its first `limit` characters and `…` when it is longer."""
    return text if len(text) <= limit else text[:limit] + CUT_MARK


def _too_long(value: Any, limit: int, depth: int) -> bool:
    """True when a string in `value` (a key, or at any depth) is longer than `limit`."""
    cls = value.__class__
    if cls is str:
        return len(value) > limit
    if depth >= _MAX_DEPTH:
        return False
    if cls is dict:
        return any(
            (key.__class__ is str and len(key) > limit) or _too_long(item, limit, depth + 1)
            for key, item in value.items()
        )
    if cls is list or cls is tuple:
        return any(_too_long(item, limit, depth + 1) for item in value)
    return False


def _cut(value: Any, limit: int, depth: int) -> Any:
    cls = value.__class__
    if cls is str:
        return cut_text(value, limit)
    if depth >= _MAX_DEPTH:
        return value
    if cls is dict:
        return {
            (cut_text(key, limit) if key.__class__ is str else key): _cut(item, limit, depth + 1)
            for key, item in value.items()
        }
    if cls is list or cls is tuple:
        return [_cut(item, limit, depth + 1) for item in value]
    return value


def bound(value: Any, limit: int = MAX_FIELD_CHARS) -> Any:
    """`value` itself when no string in it is longer than `limit`, else a copy with them cut."""
    return _cut(value, limit, 0) if _too_long(value, limit, 0) else value


def bound_fields(fields: Mapping[str, Any], limit: int = MAX_FIELD_CHARS) -> Mapping[str, Any]:
    """A record's fields with every long string cut (the same mapping when none is long)."""
    if not _too_long_fields(fields.values(), limit):
        return fields
    return {key: bound(value, limit) for key, value in fields.items()}


def bound_values(values: Iterable[Any], limit: int = MAX_FIELD_CHARS) -> list[Any]:
    """A record's values (as for `Logger.record_emitter`) with every long string cut."""
    return [bound(value, limit) for value in values]


def _too_long_fields(values: Iterable[Any], limit: int) -> bool:
    for value in values:
        cls = value.__class__
        if cls is str:
            if len(value) > limit:
                return True
        elif (cls is dict or cls is list or cls is tuple) and _too_long(value, limit, 0):
            return True
    return False
