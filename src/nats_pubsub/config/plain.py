"""Validated settings as a plain object, and their JSON form for handing them to a new process.

The CLI validates settings with pydantic; `encode_settings` writes the result (secrets included:
it only ever travels through a pipe) and `decode_settings` rebuilds an object with the same fields,
the same computed properties (the model's mixins from `config.common`), `model_fields_set`, and
secrets that answer `get_secret_value()`, without importing pydantic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nats_pubsub.config.common import PROPERTY_MIXINS

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["PlainSettings", "Secret", "decode_settings", "encode_settings"]


class Secret:
    """A secret string that does not print (like pydantic's SecretStr)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class PlainSettings:
    """Settings already validated elsewhere: every field an attribute, read-only."""

    def __init__(self, fields: Mapping[str, Any], fields_set: Iterable[str]) -> None:
        self.__dict__.update(fields)
        self.__dict__["_fields_set"] = frozenset(fields_set)

    @property
    def model_fields_set(self) -> set[str]:
        """The fields given by a flag or the environment, as pydantic reports them."""
        fields_set: frozenset[str] = self.__dict__["_fields_set"]
        return set(fields_set)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are read-only: cannot set {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if k != "_fields_set")
        return f"{type(self).__name__}({shown})"

    if TYPE_CHECKING:  # fields are set per model, at run time

        def __getattr__(self, name: str) -> Any: ...


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path):
        return {"$path": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    if callable(getattr(value, "get_secret_value", None)):
        return {"$secret": value.get_secret_value()}
    raise TypeError(f"cannot hand a {type(value).__name__} setting to a service process")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        if tag == "$path":
            return Path(inner)
        if tag == "$tuple":
            return tuple(_decode(item) for item in inner)
        if tag == "$secret":
            return Secret(inner)
        raise ValueError(f"unknown setting encoding {tag!r}")
    return value


def encode_settings(settings: BaseModel) -> bytes:
    """Validated settings as JSON bytes: fields, the fields given, and the property mixins."""
    model = type(settings)
    mixins = [cls.__name__ for cls in model.__mro__ if PROPERTY_MIXINS.get(cls.__name__) is cls]
    document = {
        "model": model.__name__,
        "mixins": mixins,
        "fields": {name: _encode(getattr(settings, name)) for name in model.model_fields},
        "fields_set": sorted(settings.model_fields_set),
    }
    return json.dumps(document).encode()


def decode_settings(data: bytes) -> PlainSettings:
    """The plain settings object for bytes from `encode_settings`."""
    document = json.loads(data)
    bases = tuple(PROPERTY_MIXINS[name] for name in document["mixins"])
    plain = type(f"Plain{document['model']}", (*bases, PlainSettings), {})
    fields = {name: _decode(value) for name, value in document["fields"].items()}
    settings: PlainSettings = plain(fields, document["fields_set"])
    return settings
