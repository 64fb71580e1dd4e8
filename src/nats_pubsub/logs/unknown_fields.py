"""Which unknown field names a subscriber warns about: each new name once, in at most one record
per message listing the first few, with bounded memory whatever peers send."""

from __future__ import annotations

from collections import deque
from typing import Final, NamedTuple

from nats_pubsub.logs.bounds import cut_text

__all__ = ["FreshFields", "UnknownFieldNames"]

MAX_REMEMBERED: Final = 1024  # names warned about and remembered; then the oldest is forgotten
PER_RECORD: Final = 10  # names listed in one record
NAME_CHARS: Final = 128  # characters of a name kept and shown


class FreshFields(NamedTuple):
    """What to warn about for one message: the first new names (cut) and how many were new."""

    names: list[str]
    new: int


class UnknownFieldNames:
    """The unknown field names warned about so far: at most `max_remembered`, oldest forgotten.

    A message's names are looked at up to `max_remembered` of them (a message with 70,000
    unknown keys costs no more than one with a thousand), and names are kept cut to
    `name_chars` characters, so memory stays under about `max_remembered * name_chars`.
    """

    __slots__ = ("_order", "_warned", "max_remembered", "name_chars", "per_record")

    def __init__(
        self,
        max_remembered: int = MAX_REMEMBERED,
        per_record: int = PER_RECORD,
        name_chars: int = NAME_CHARS,
    ) -> None:
        self.max_remembered = max_remembered
        self.per_record = per_record
        self.name_chars = name_chars
        self._warned: set[str] = set()
        self._order: deque[str] = deque()

    def fresh(self, names: tuple[str, ...] | list[str]) -> FreshFields | None:
        """Remember the names not warned about yet; None when every name was seen before."""
        listed: list[str] = []
        new = 0
        warned, order = self._warned, self._order
        for name in names[: self.max_remembered]:
            key = cut_text(name, self.name_chars)
            if key in warned:
                continue
            new += 1
            warned.add(key)
            order.append(key)
            if len(order) > self.max_remembered:
                warned.discard(order.popleft())
            if len(listed) < self.per_record:
                listed.append(key)
        return FreshFields(listed, new) if new else None

    def __len__(self) -> int:
        return len(self._warned)
