"""`nats-pubsub bench`: throughput, latency and memory of our services' real code paths.

Each measurement runs worker processes that use our services' own functions (the subscriber's
and monitor's handlers, the publisher, the JetStream outbox, replay) or, for comparison, bare
nats-py and the classic stdlib pattern. This package is the one place outside the connection
layer that imports `nats` directly: the baselines need the bare client.
"""

from nats_pubsub.bench.commands import bench

__all__ = ["bench"]
