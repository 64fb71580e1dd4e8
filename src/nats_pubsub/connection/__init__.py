"""The connection layer: the only package that imports `nats` (nats-py).

Connecting with retries, a live connection (publish, subscribe, flush, drain), direct delivery,
acked and fast-ingest JetStream publishing, streams, consumers and the replay feed; every nats-py
exception is mapped into `nats_pubsub.errors` here. Every use of nats-py's private internals is in
`_natspy.py`. May import `nats`, `nats_pubsub.logs.logger`, `nats_pubsub.domain` and
`nats_pubsub.errors`; services reach NATS only through it.
"""

__all__: list[str] = []
