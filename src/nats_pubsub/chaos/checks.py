"""The guarantees a chaos run checks, each a pure function of the facts read back (pure).

- every message a publisher logged as acked is in its stream exactly once;
- no message is stored twice (two messages with one Nats-Msg-Id);
- every `--count` run that was not killed had all of its messages acked;
- every stored message was processed by a consumer at least once;
- every delivery after a message's first was reported as a redelivery or duplicate, and no
  consumer counted a message twice;
- in core NATS, for each source, distinct received + reported lost = sent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from nats_pubsub.chaos.facts import ConsumerRun, CoreReceipts, Delivery, PublisherRun, Stored

__all__ = [
    "Check",
    "DuplicateCount",
    "acked_in_stream",
    "core_balance",
    "count_duplicates",
    "counted_once",
    "runs_complete",
    "stored_once",
    "stored_processed",
]

_SHOWN = 5  # examples named in a failed check's detail


class Check(NamedTuple):
    """One guarantee: its name, whether it held, and what was seen."""

    name: str
    ok: bool
    detail: str


def _some(items: Iterable[object]) -> str:
    listed = list(items)
    more = f" (+{len(listed) - _SHOWN} more)" if len(listed) > _SHOWN else ""
    return ", ".join(str(item) for item in listed[:_SHOWN]) + more


def acked_in_stream(runs: Iterable[PublisherRun], stored: Iterable[Stored]) -> Check:
    """Every acked Nats-Msg-Id is stored (exactly once is `stored_once`)."""
    ids = {message.msg_id for message in stored}
    acked = [ack.msg_id for run in runs for ack in run.acks]
    missing = [msg_id for msg_id in acked if msg_id not in ids]
    if missing:
        return Check("acked messages stored", False, f"{len(missing)} missing: {_some(missing)}")
    return Check("acked messages stored", True, f"all {len(acked)} acked messages are stored")


def stored_once(stored: Iterable[Stored]) -> Check:
    """No two stored messages share a Nats-Msg-Id."""
    counts = Counter(message.msg_id for message in stored if message.msg_id)
    twice = {msg_id: n for msg_id, n in counts.items() if n > 1}
    if twice:
        extra = sum(n - 1 for n in twice.values())
        return Check("stored once", False, f"{extra} extra copies: {_some(twice)}")
    return Check("stored once", True, f"{sum(counts.values())} messages, no id twice")


def runs_complete(runs: Iterable[PublisherRun]) -> Check:
    """Each `--count` run that ended by itself (not killed) had every message acked."""
    short = []
    finished = 0
    for run in runs:
        if not run.finished or run.requested is None:
            continue
        finished += 1
        if len(run.acks) < run.requested or run.failed:
            first = f"; first error: {run.failures[0]}" if run.failures else ""
            short.append(
                f"{run.service} run {run.run_id}: {len(run.acks)} of {run.requested} acked, "
                f"{run.failed} failed{first}"
            )
    if short:
        return Check("every --count run fully acked", False, "; ".join(short[:_SHOWN]))
    return Check("every --count run fully acked", True, f"{finished} runs, 100% acked")


def stored_processed(
    stream: str, stored: Iterable[Stored], deliveries: Iterable[Delivery]
) -> Check:
    """Every message stored in `stream` was processed by some consumer at least once."""
    seen = {delivery.seq for delivery in deliveries if delivery.stream == stream}
    sequences = [message.seq for message in stored]
    missing = [seq for seq in sequences if seq not in seen]
    name = f"{stream} messages processed"
    if missing:
        return Check(
            name, False, f"{len(missing)} of {len(sequences)} never processed: {_some(missing)}"
        )
    return Check(name, True, f"all {len(sequences)} processed")


class DuplicateCount(NamedTuple):
    """Deliveries after a message's first, and those not reported as such."""

    duplicates: int
    unreported: int
    examples: tuple[str, ...]


def count_duplicates(deliveries: Iterable[Delivery]) -> DuplicateCount:
    """Deliveries of a message after its first (by time, across every consumer process); each
    must say it is one: a redelivery count above 1, or marked as a duplicate."""
    by_message: defaultdict[tuple[str, int], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_message[delivery.stream, delivery.seq].append(delivery)
    duplicates = unreported = 0
    examples: list[str] = []
    for (stream, seq), seen in by_message.items():
        later = sorted(seen, key=lambda d: d.at)[1:]
        duplicates += len(later)
        for delivery in later:
            if delivery.delivered <= 1 and not delivery.duplicate:
                unreported += 1
                if len(examples) < _SHOWN:
                    examples.append(f"{stream}:{seq} again in {delivery.service}")
    return DuplicateCount(duplicates, unreported, tuple(examples))


def counted_once(runs: Iterable[ConsumerRun]) -> Check:
    """Each consumer process that ended by itself counted each message it processed once: its
    final count equals the distinct messages it processed, duplicates not counted again."""
    wrong = []
    finished = 0
    for run in runs:
        if run.counted is None:
            continue
        finished += 1
        distinct = len({(d.stream, d.seq) for d in run.deliveries if not d.duplicate})
        if run.counted != distinct:
            wrong.append(f"{run.service} #{run.number} counted {run.counted}, processed {distinct}")
    if wrong:
        return Check("duplicates not counted twice", False, "; ".join(wrong[:_SHOWN]))
    return Check("duplicates not counted twice", True, f"{finished} consumer processes")


def core_balance(sent: Iterable[int], receipts: CoreReceipts) -> Check:
    """Core NATS: distinct sequences received + loss the subscriber reported = sequences sent."""
    sent_set = set(sent)
    received = set(receipts.sequences) & sent_set
    total = len(received) + receipts.reported_lost
    detail = (
        f"sent {len(sent_set)}, received {len(received)}, reported lost {receipts.reported_lost}"
    )
    if not receipts.finished:
        return Check("core loss reported", False, f"{detail}; no final metrics record")
    return Check("core loss reported", total == len(sent_set), detail)
