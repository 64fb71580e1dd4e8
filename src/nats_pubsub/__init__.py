"""nats-pubsub: NATS publish/subscribe services with structured JSON logs."""

from nats_pubsub.errors import NatsPubsubError

__all__ = ["NatsPubsubError"]
