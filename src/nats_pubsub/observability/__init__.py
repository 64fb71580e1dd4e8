"""The observability layer: Prometheus metrics, the collector that reads the services' counters
at scrape time, and the `/metrics`, `/healthz`, `/readyz` endpoint with its `health` client.

May import `nats_pubsub.logs.logger`, `nats_pubsub.domain` (the counters it reads) and
`nats_pubsub.errors`; it reads a connection through a protocol, never through the connection
layer.
"""

__all__: list[str] = []
