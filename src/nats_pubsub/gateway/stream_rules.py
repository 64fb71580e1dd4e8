"""Streams as the gateway resolves and shows them, pure: which stream a subject uses, views.

Resolution fixes the upstream's: a subject already stored by a stream (`events.test` under
`EVENTS` on `events.>`) uses that stream, whatever its name; only a publish on a subject no
stream stores creates one (named after the first token, as the upstream does); a read never does.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from nats_pubsub.domain.stream_rules import subjects_overlap
from nats_pubsub.domain.subjects import subject_matches
from nats_pubsub.gateway.admin_models import (
    StreamConfiguration,
    StreamState,
    StreamSubject,
    StreamSubjects,
    StreamSummary,
)
from nats_pubsub.gateway.consumer_views import policy_name
from nats_pubsub.gateway.timespans import format_time, timespan

__all__ = [
    "AUTO_STREAM_MAX_AGE_NS",
    "NO_SUBJECT_STATS",
    "Resolution",
    "StreamSubjectsOf",
    "auto_stream_config",
    "resolve_filter",
    "resolve_publish",
    "stream_subjects",
    "stream_summary",
]

AUTO_STREAM_MAX_AGE_NS: Final = 24 * 3600 * 1_000_000_000
AUTO_STREAM_MAX_BYTES: Final = 104_857_600
AUTO_STREAM_MAX_MSGS: Final = 10_000
NO_SUBJECT_STATS: Final = "No subject-level statistics available for this stream"


class StreamSubjectsOf(NamedTuple):
    """A stream's name and the subjects it stores."""

    name: str
    subjects: tuple[str, ...]


class Resolution(NamedTuple):
    """The stream a subject or filter reads from, or why there is none (`problem`)."""

    stream: str | None
    problem: str | None = None


def resolve_publish(subject: str, streams: list[StreamSubjectsOf]) -> str | None:
    """The stream that stores messages published on `subject`, if any."""
    for stream in streams:
        if any(subject_matches(pattern, subject) for pattern in stream.subjects):
            return stream.name
    return None


def resolve_filter(subject: str, streams: list[StreamSubjectsOf]) -> Resolution:
    """The one stream holding messages on `subject` (a filter, wildcards allowed)."""
    found = [s.name for s in streams if any(subjects_overlap(p, subject) for p in s.subjects)]
    if not found:
        return Resolution(None, f"No stream stores messages on '{subject}'")
    if len(found) > 1:
        return Resolution(
            None,
            f"'{subject}' spans streams {', '.join(sorted(found))}: "
            "use a filter that falls in one of them",
        )
    return Resolution(found[0])


def auto_stream_config(subject: str) -> dict[str, Any]:
    """The stream a publish on an unstored subject creates: `<first token>` on `<token>.>`,
    with the upstream's limits (24 h, 100 MiB, 10,000 messages, file storage, 1 replica)."""
    token = subject.split(".", 1)[0]
    return {
        "name": token,
        "subjects": [f"{token}.>"],
        "description": f"Auto-created stream for {token}.>",
        "retention": "limits",
        "storage": "file",
        "max_age": AUTO_STREAM_MAX_AGE_NS,
        "max_bytes": AUTO_STREAM_MAX_BYTES,
        "max_msgs": AUTO_STREAM_MAX_MSGS,
        "num_replicas": 1,
        "discard": "old",
        "duplicate_window": 120 * 1_000_000_000,
    }


def _configuration(cfg: dict[str, Any]) -> StreamConfiguration:
    return StreamConfiguration(
        description=cfg.get("description"),
        replicas=int(cfg.get("num_replicas") or 1),
        storage=policy_name(cfg.get("storage") or "file"),
        retention=policy_name(cfg.get("retention") or "limits"),
        discard=policy_name(cfg.get("discard") or "old"),
        no_ack=bool(cfg.get("no_ack")),
        max_age=timespan(cfg.get("max_age")) or "00:00:00",
        max_bytes=int(cfg.get("max_bytes") or -1),
        max_msg_size=int(cfg.get("max_msg_size") or -1),
        max_msgs=int(cfg.get("max_msgs") or -1),
        max_consumers=int(cfg.get("max_consumers") or -1),
        max_msgs_per_subject=int(cfg.get("max_msgs_per_subject") or -1),
        duplicate_window=timespan(cfg.get("duplicate_window")) or "00:00:00",
        allow_rollup=bool(cfg.get("allow_rollup_hdrs")),
        deny_delete=bool(cfg.get("deny_delete")),
        deny_purge=bool(cfg.get("deny_purge")),
        sealed=bool(cfg.get("sealed")),
    )


def stream_summary(info: dict[str, Any]) -> StreamSummary:
    """A stream's summary (list and detail) from the server's stream info."""
    cfg = info.get("config") or {}
    st = info.get("state") or {}
    state = StreamState(
        messages=int(st.get("messages") or 0),
        bytes=int(st.get("bytes") or 0),
        first_seq=int(st.get("first_seq") or 0),
        last_seq=int(st.get("last_seq") or 0),
        first_time=format_time(st.get("first_ts")),
        last_time=format_time(st.get("last_ts")),
        consumer_count=int(st.get("consumer_count") or 0),
        num_subjects=int(st.get("num_subjects") or 0),
        num_deleted=int(st.get("num_deleted") or 0),
    )
    return StreamSummary(
        name=str(cfg.get("name", "")),
        subjects=list(cfg.get("subjects") or []),
        messages=state.messages,
        bytes=state.bytes,
        first_seq=state.first_seq,
        last_seq=state.last_seq,
        consumers=state.consumer_count,
        configuration=_configuration(cfg),
        state=state,
    )


def stream_subjects(name: str, counts: dict[str, int]) -> StreamSubjects:
    """A stream's subjects with their message counts, most messages first."""
    subjects = [
        StreamSubject(subject, int(n))
        for subject, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return StreamSubjects(
        stream_name=name,
        count=len(subjects),
        subjects=subjects,
        note=None if subjects else NO_SUBJECT_STATS,
    )
