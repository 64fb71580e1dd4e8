"""Consumer metrics history: samples of the consumers clients asked about, kept in memory.

The upstream answers a history request with one sample whatever is asked. Here every consumer
whose details, health or history is requested joins a watch list (the 100 most recently asked
about); a sampler records each one's metrics every minute, keeping the last 60 samples, and a
history request answers with up to `samples` of them plus one taken now.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Final

from nats_pubsub.errors import NatsError
from nats_pubsub.gateway.admin_models import ConsumerSample

__all__ = ["ConsumerHistory"]

MAX_CONSUMERS: Final = 100
MAX_SAMPLES: Final = 60
SAMPLE_EVERY: Final = 60.0

Key = tuple[str, str]
Sampler = Callable[[str, str], Awaitable[ConsumerSample]]


class ConsumerHistory:
    """Bounded samples per watched consumer (at most 100 consumers, 60 samples each)."""

    def __init__(self, max_consumers: int = MAX_CONSUMERS, max_samples: int = MAX_SAMPLES) -> None:
        self._samples: OrderedDict[Key, deque[ConsumerSample]] = OrderedDict()
        self._max_consumers = max_consumers
        self._max_samples = max_samples

    def watch(self, stream: str, consumer: str) -> None:
        """Keep sampling this consumer (the one asked about least recently drops out)."""
        key = (stream, consumer)
        if key in self._samples:
            self._samples.move_to_end(key)
            return
        self._samples[key] = deque(maxlen=self._max_samples)
        while len(self._samples) > self._max_consumers:
            self._samples.popitem(last=False)

    def forget(self, stream: str, consumer: str) -> None:
        """Stop sampling a consumer (deleted or reset)."""
        self._samples.pop((stream, consumer), None)

    def record(self, stream: str, consumer: str, sample: ConsumerSample) -> None:
        """Add a sample of a watched consumer."""
        samples = self._samples.get((stream, consumer))
        if samples is not None:
            samples.append(sample)

    def recent(self, stream: str, consumer: str, count: int) -> list[ConsumerSample]:
        """Up to `count` most recent samples, oldest first."""
        samples = self._samples.get((stream, consumer))
        return list(samples)[-count:] if samples and count > 0 else []

    def watched(self) -> list[Key]:
        """The consumers being sampled."""
        return list(self._samples)

    async def run(self, take: Sampler, stop: asyncio.Event, every: float = SAMPLE_EVERY) -> None:
        """Sample every watched consumer each `every` seconds until `stop`."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            for stream, consumer in self.watched():
                try:
                    self.record(stream, consumer, await take(stream, consumer))
                except NatsError:
                    continue  # gone, or NATS down: try again next time
