"""Records stay bounded: long strings cut in every record, at any depth, whatever arrives."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.logs.bounds import CUT_MARK, bound, bound_fields, bound_values, cut_text
from nats_pubsub.logs.logger import Logger, LogSink

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=40), inner),
    max_leaves=20,
)


def _longest(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max([0, *(max(len(k), _longest(v)) for k, v in value.items())])
    if isinstance(value, list | tuple):
        return max([0, *(_longest(v) for v in value)])
    return 0


def test_cut_text_marks_what_it_cut() -> None:
    """Up to the limit a text is kept as it is; beyond, its head and the mark."""
    assert cut_text("abc", 3) == "abc"
    assert cut_text("abcd", 3) == "abc" + CUT_MARK


@given(_json)
def test_bound_leaves_no_long_string(value: Any) -> None:
    """Any JSON value: no string (key or value, at any depth) longer than limit + the mark."""
    assert _longest(bound(value, 10)) <= 10 + len(CUT_MARK)


@given(_json)
def test_bound_keeps_what_is_short(value: Any) -> None:
    """A value with nothing too long is returned as it is (no copy, no change)."""
    if _longest(value) <= 10:
        assert bound(value, 10) is value


def test_bound_fields_copies_only_when_needed() -> None:
    """The same mapping when nothing is long; a copy with the long field cut otherwise."""
    fields = {"a": "short", "n": 1, "nested": {"k": ["v"]}}
    assert bound_fields(fields, 10) is fields
    long = {"a": "x" * 50, "nested": {"k" * 50: "v"}}
    assert bound_fields(long, 10) == {
        "a": "x" * 10 + CUT_MARK,
        "nested": {"k" * 10 + CUT_MARK: "v"},
    }
    assert bound_values(["y" * 11, 5, None], 10) == ["y" * 10 + CUT_MARK, 5, None]


def test_every_logger_record_is_cut() -> None:
    """A 500 KB field, in a list and in a dict: the line stays a few KB."""
    stream = io.BytesIO()
    log = Logger("test", LogSink(stream), max_field_chars=100)
    huge = "z" * 500_000
    log.warning("Something odd", value=huge, names=[huge], nested={"k": huge})
    log.emitter("INFO", "Emitted")({"value": huge})
    log.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert all(len(line) < 1000 for line in lines)
    record = json.loads(lines[0])
    assert record["value"] == "z" * 100 + CUT_MARK
    assert record["names"] == ["z" * 100 + CUT_MARK]
