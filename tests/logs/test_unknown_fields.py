"""Unknown field warnings: each name once, one record per message, bounded memory."""

from __future__ import annotations

from nats_pubsub.logs.bounds import CUT_MARK
from nats_pubsub.logs.unknown_fields import FreshFields, UnknownFieldNames


def test_each_name_is_new_once() -> None:
    """A name warned about is not new again; a message of old names gives nothing."""
    names = UnknownFieldNames()
    assert names.fresh(("a", "b")) == FreshFields(["a", "b"], 2)
    assert names.fresh(("b", "c")) == FreshFields(["c"], 1)
    assert names.fresh(("a", "b", "c")) is None


def test_a_message_with_70000_unknown_keys_is_one_short_warning() -> None:
    """70,000 new names in one message: one answer listing 10, and at most 1,024 remembered."""
    names = UnknownFieldNames(max_remembered=1024, per_record=10)
    fresh = names.fresh(tuple(f"key{n}" for n in range(70_000)))
    assert fresh is not None
    assert fresh.names == [f"key{n}" for n in range(10)]
    assert fresh.new == 1024
    assert len(names) == 1024


def test_memory_stays_bounded_and_the_oldest_is_forgotten() -> None:
    """200,000 names one by one: 100 remembered; the first one is new again."""
    names = UnknownFieldNames(max_remembered=100)
    for n in range(200_000):
        assert names.fresh((f"f{n}",)) is not None
    assert len(names) == 100
    assert names.fresh(("f0",)) is not None
    assert names.fresh(("f199999",)) is None


def test_long_names_are_kept_and_shown_cut() -> None:
    """A 480 KB field name is remembered and listed as its first characters."""
    names = UnknownFieldNames(name_chars=20)
    long = "n" * 480_000
    fresh = names.fresh((long,))
    assert fresh is not None
    assert fresh.names == ["n" * 20 + CUT_MARK]
    assert names.fresh((long,)) is None
