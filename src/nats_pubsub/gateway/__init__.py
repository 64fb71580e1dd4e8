"""`nats-pubsub gateway`: NATS JetStream over HTTP, WebSocket and Server-Sent Events.

A thin ASGI application of our own (`app.py`, `routing.py`, `asgi.py`) run by uvicorn; handlers
in `api_*.py`, `ws.py` and `sse.py`; the decisions they rely on are pure modules (`validation`,
`stream_rules`, `consumer_rules`, `consumer_views`, `access`, `failures`, `live_formats`). Every
NATS operation goes through the connection layer (`connection.js_admin`, `js_reading`,
`ack_window`, `replay_feed`, `requesting`); nothing here imports `nats`. See docs/gateway.md.
"""

__all__: list[str] = []
