"""The logging layer: structured records rendered as JSON or console lines, batched writes, the
bytes formats of hot-path lines, and the records that bound what a peer can put in them.

May import `nats_pubsub.domain` and `nats_pubsub.errors`; the connection, observability, server
and service layers log through it.
"""

__all__: list[str] = []
