"""What the dashboard's Server-Sent Events carry: a snapshot when a page connects, a tick every
second, and batches of sampled tail messages (msgspec structs, encoded once per event)."""

from __future__ import annotations

from typing import Any

import msgspec

from nats_pubsub.domain.service_api import ServiceRow
from nats_pubsub.gateway.dashboard.payments import Decline, PaymentSecond, PaymentTotals
from nats_pubsub.gateway.dashboard.streams_view import StreamRow
from nats_pubsub.gateway.dashboard.traffic import Second

__all__ = ["Snapshot", "StreamsPanel", "TailBatch", "TailMessage", "Tick"]


class StreamsPanel(msgspec.Struct, frozen=True):
    """The streams panel: rows, or why there are none (`error`: JetStream not answering)."""

    streams: list[StreamRow]
    error: str | None = None


class Tick(msgspec.Struct, frozen=True):
    """One second, as every open page gets it."""

    second: Second
    payments: PaymentSecond
    payment_totals: PaymentTotals
    declines: list[Decline]  # new in this second
    totals: dict[str, int]
    total_messages: int
    total_bytes: int
    services: list[ServiceRow]
    streams: StreamsPanel | None


class Snapshot(msgspec.Struct, frozen=True):
    """Everything a page needs to draw itself when it connects (the last five minutes)."""

    version: str
    mode: str  # on-demand or always (GATEWAY_DASHBOARD)
    counting_since: str  # when the counts below began
    history: list[Second]
    payments: list[PaymentSecond]
    payment_totals: PaymentTotals
    declines: list[Decline]  # the last ones, oldest first
    totals: dict[str, int]
    total_messages: int
    total_bytes: int
    services: list[ServiceRow]
    streams: StreamsPanel | None


class TailMessage(msgspec.Struct, frozen=True):
    """A sampled message: `data` is its JSON, else its text (or base64), up to 8 KiB."""

    n: int
    subject: str
    received: str
    size_bytes: int
    encoding: str  # json, text or base64
    data: Any
    truncated: bool
    headers: dict[str, str] | None


class TailBatch(msgspec.Struct, frozen=True):
    """What a tail gets every half second: some messages, and how many others matched."""

    messages: list[TailMessage]
    skipped: int
