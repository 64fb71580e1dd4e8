"""Tests for nats_pubsub.domain.subjects: subject validation, matching and templates."""

from __future__ import annotations

import pytest

from nats_pubsub.domain.subjects import (
    SubjectTemplate,
    is_internal,
    subject_matches,
    validate_publish_subject,
    validate_subscribe_subject,
)

FIELDS = frozenset({"event_type", "source"})

BAD_FOR_BOTH = [
    pytest.param("", "empty", id="empty"),
    pytest.param(".events", "empty token", id="leading-dot"),
    pytest.param("events.", "empty token", id="trailing-dot"),
    pytest.param("events..test", "empty token", id="double-dot"),
    pytest.param("events test", "white space", id="space"),
    pytest.param("events.\ttest", "white space", id="tab"),
    pytest.param("events.test\n", "white space", id="newline"),
    pytest.param("events.\rtest", "white space", id="carriage-return"),
]


@pytest.mark.parametrize(
    "subject", ["events.test", "events", "a.b.c.d", "payments.card.visa", "_INBOX.x", "a-b_c.D9"]
)
def test_publish_accepts(subject: str) -> None:
    """Literal subjects are valid publish subjects and returned unchanged."""
    assert validate_publish_subject(subject) == subject


@pytest.mark.parametrize(("subject", "problem"), BAD_FOR_BOTH)
def test_publish_rejects_malformed(subject: str, problem: str) -> None:
    """Empty subjects, empty tokens and white space are refused for publishing."""
    with pytest.raises(ValueError, match=problem):
        validate_publish_subject(subject)


@pytest.mark.parametrize("subject", ["events.*", "*", "events.>", ">", "a.*.c"])
def test_publish_rejects_wildcards(subject: str) -> None:
    """Whole-token wildcards are not allowed when publishing."""
    with pytest.raises(ValueError, match="not allowed when publishing"):
        validate_publish_subject(subject)


@pytest.mark.parametrize(
    "subject",
    ["events.test", "events.*", "events.>", "*", ">", "*.*", "a.*.c", "a.*.>", "_INBOX.>"],
)
def test_subscribe_accepts(subject: str) -> None:
    """Literal subjects and whole-token wildcards are valid subscriptions."""
    assert validate_subscribe_subject(subject) == subject


@pytest.mark.parametrize(("subject", "problem"), BAD_FOR_BOTH)
def test_subscribe_rejects_malformed(subject: str, problem: str) -> None:
    """Empty subjects, empty tokens and white space are refused for subscribing."""
    with pytest.raises(ValueError, match=problem):
        validate_subscribe_subject(subject)


@pytest.mark.parametrize("subject", ["events.>.test", ">.a", "a.>.>"])
def test_subscribe_rejects_gt_not_last(subject: str) -> None:
    """'>' is only allowed as the last token."""
    with pytest.raises(ValueError, match="last token"):
        validate_subscribe_subject(subject)


@pytest.mark.parametrize("subject", ["events.te*", "events.*x", "a>", "events.>>", "**"])
def test_subscribe_rejects_partial_token_wildcards(subject: str) -> None:
    """A wildcard must be a whole token when subscribing."""
    with pytest.raises(ValueError, match="whole token"):
        validate_subscribe_subject(subject)


def test_validation_error_quotes_subject() -> None:
    """The error message quotes the offending subject."""
    with pytest.raises(ValueError, match=r"'a\.\.b'"):
        validate_subscribe_subject("a..b")


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("events.test", "events.test", True),
        ("events.test", "events.other", False),
        ("events.test", "events.test.more", False),
        ("events.test.more", "events.test", False),
        ("events.*", "events.test", True),
        ("events.*", "events", False),
        ("events.*", "events.a.b", False),
        ("*.test", "events.test", True),
        ("*", "events", True),
        ("*", "events.test", False),
        ("events.>", "events.test", True),
        ("events.>", "events.a.b.c", True),
        ("events.>", "events", False),
        (">", "anything", True),
        (">", "a.b.c", True),
        ("a.*.>", "a.b.c", True),
        ("a.*.>", "a.b", False),
        ("a.*.c", "a.b.c", True),
        ("a.*.c", "a.b.d", False),
    ],
)
def test_subject_matches(pattern: str, subject: str, expected: bool) -> None:
    """Tokens match literally, '*' matches one token and '>' one or more."""
    assert subject_matches(pattern, subject) is expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("_INBOX.abc", True),
        ("$JS.API.INFO", True),
        ("$SYS.REQ.SERVER.PING", True),
        ("_R_.abc.def", True),
        ("events.test", False),
        ("_INBOX", False),
        ("my._INBOX.x", False),
        ("JS.API", False),
    ],
)
def test_is_internal(subject: str, expected: bool) -> None:
    """Inbox, JetStream and system subjects are internal; ordinary subjects are not."""
    assert is_internal(subject) is expected


def test_static_template_renders_itself() -> None:
    """A template without fields is static and always renders to itself."""
    template = SubjectTemplate("events.test", FIELDS)
    assert template.is_static
    assert template.render({"event_type": "user.login"}) == "events.test"


def test_static_template_is_validated() -> None:
    """A static template must be a valid publish subject."""
    with pytest.raises(ValueError, match="not allowed when publishing"):
        SubjectTemplate("events.*", FIELDS)


def test_templated_subject_renders_fields() -> None:
    """Named fields are filled in from the message's values."""
    template = SubjectTemplate("events.{source}.{event_type}", FIELDS)
    assert not template.is_static
    values = {"event_type": "user.login", "source": "pub"}
    assert template.render(values) == "events.pub.user.login"


def test_templated_subject_render_is_repeatable() -> None:
    """Rendering the same values twice (cached) gives the same subject."""
    template = SubjectTemplate("events.{event_type}", FIELDS)
    first = template.render({"event_type": "order.created"})
    assert template.render({"event_type": "order.created"}) == first == "events.order.created"
    assert template.render({"event_type": "user.logout"}) == "events.user.logout"


@pytest.mark.parametrize("value", ["has space", "", "a..b", "*"])
def test_templated_subject_rejects_invalid_render(value: str) -> None:
    """A rendered subject that is not a valid publish subject raises ValueError."""
    template = SubjectTemplate("events.{event_type}", FIELDS)
    with pytest.raises(ValueError, match="'events"):
        template.render({"event_type": value})


def test_template_unknown_field_is_error() -> None:
    """A template naming a field outside the allowed set is refused, listing allowed ones."""
    with pytest.raises(ValueError, match=r"unknown field\(s\) colour; allowed: event_type, source"):
        SubjectTemplate("events.{colour}", FIELDS)
