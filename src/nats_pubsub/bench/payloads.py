"""Benchmark payloads: our real events, padded so the encoded event is about `--size` bytes."""

from __future__ import annotations

from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.schema import encode
from nats_pubsub.domain.timeutil import now_timestamp

__all__ = ["PaddedEventFactory", "natural_size", "prebuilt_payloads"]


class PaddedEventFactory(EventFactory):
    """Our publisher's event factory with each description padded to reach `size` bytes."""

    def __init__(
        self,
        source: str,
        event_types: tuple[str, ...],
        seed: int | None = None,
        size: int = 0,
    ) -> None:
        super().__init__(source, event_types, seed)
        if size <= 0:
            return
        sample = super().next(now_timestamp())
        self.sequence = 0
        missing = size - len(encode(sample)) - 1
        descriptions = getattr(self, "_descriptions", None)
        if missing > 0 and isinstance(descriptions, dict):
            # Padding the per-type description text costs nothing per message.
            for name, text in descriptions.items():
                descriptions[name] = f"{text} {'x' * missing}"


def natural_size() -> int:
    """Bytes of an unpadded event as our publisher sends it."""
    return len(encode(EventFactory("bench", ("user.login",)).next(now_timestamp())))


def prebuilt_payloads(count: int, size: int, source: str = "bench") -> list[bytes]:
    """`count` distinct valid events (sequences 1..count), built before any clock starts."""
    factory = PaddedEventFactory(source, ("user.login", "order.created"), seed=1, size=size)
    stamp = now_timestamp()
    return [encode(factory.next(stamp)) for _ in range(count)]
