"""NATS subject rules: validation for publishing and subscribing, and subject templates."""

from __future__ import annotations

import string

__all__ = [
    "SubjectTemplate",
    "is_internal",
    "subject_matches",
    "validate_publish_subject",
    "validate_subscribe_subject",
]

_FORBIDDEN = frozenset(" \t\r\n\f\v")


def _check_tokens(subject: str, *, wildcards: bool) -> str | None:
    """Return why `subject` is malformed, or None when it is well formed."""
    if not subject:
        return "subject is empty"
    if any(ch in _FORBIDDEN for ch in subject):
        return "subject contains white space"
    tokens = subject.split(".")
    for index, token in enumerate(tokens):
        if not token:
            return "subject has an empty token (leading, trailing or double '.')"
        if token in ("*", ">"):
            if not wildcards:
                return f"wildcard '{token}' is not allowed when publishing"
            if token == ">" and index != len(tokens) - 1:
                return "'>' may only be the last token"
        elif ("*" in token or ">" in token) and wildcards:
            return f"wildcard must be a whole token, not part of '{token}'"
    return None


def validate_publish_subject(subject: str) -> str:
    """Return `subject` if a message may be published to it, else raise ValueError."""
    problem = _check_tokens(subject, wildcards=False)
    if problem:
        raise ValueError(f"{problem}: {subject!r}")
    return subject


def validate_subscribe_subject(subject: str) -> str:
    """Return `subject` if it may be subscribed to (wildcards allowed), else raise ValueError."""
    problem = _check_tokens(subject, wildcards=True)
    if problem:
        raise ValueError(f"{problem}: {subject!r}")
    return subject


def subject_matches(pattern: str, subject: str) -> bool:
    """Return True when `subject` is matched by the subscription `pattern`."""
    p_tokens = pattern.split(".")
    s_tokens = subject.split(".")
    for index, p in enumerate(p_tokens):
        if p == ">":
            return len(s_tokens) > index
        if index >= len(s_tokens):
            return False
        if p != "*" and p != s_tokens[index]:
            return False
    return len(p_tokens) == len(s_tokens)


def is_internal(subject: str) -> bool:
    """Return True for subjects NATS uses for its own plumbing (inboxes, JetStream API)."""
    return subject.startswith(("_INBOX.", "$JS.", "$SYS.", "_R_."))


class SubjectTemplate:
    """A publish subject that may name message fields, e.g. ``events.{event_type}``."""

    __slots__ = ("_fields", "_render_cache", "template")

    def __init__(self, template: str, allowed_fields: frozenset[str]) -> None:
        self.template = template
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        unknown = sorted(set(fields) - allowed_fields)
        if unknown:
            raise ValueError(
                f"subject template {template!r} names unknown field(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed_fields))}"
            )
        self._fields = tuple(fields)
        self._render_cache: dict[tuple[str, ...], str] = {}
        if not self._fields:
            self.template = template.format_map({})  # unescape {{ and }}
            validate_publish_subject(self.template)
        else:
            # Fail now, not on every message: render with a sample value for each field.
            validate_publish_subject(template.format_map(dict.fromkeys(self._fields, "x")))

    @property
    def is_static(self) -> bool:
        """True when the template names no field, so every message goes to one subject."""
        return not self._fields

    def render(self, values: dict[str, str]) -> str:
        """Fill the template and check the result is a valid publish subject."""
        if not self._fields:
            return self.template
        key = tuple(values[name] for name in self._fields)
        cached = self._render_cache.get(key)
        if cached is None:
            cached = validate_publish_subject(self.template.format_map(values))
            if len(self._render_cache) < 1024:
                self._render_cache[key] = cached
        return cached
