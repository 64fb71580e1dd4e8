"""The live dashboard the gateway serves at `/` (docs/dashboard.md).

Pure aggregation (`traffic`, `payments`, `tail`, `streams_view`), the feed that fills it from one
`>` subscription and the polls of the service API and JetStream (`feed`), its Server-Sent Event
streams and routes (`api`), and the page itself (`static/`: HTML, CSS and JavaScript, no build).
"""

__all__: list[str] = []
