"""The classic HTTP-to-JetStream handler, for comparison: FastAPI, a pydantic body model, and one
awaited `js.publish` per request (each request waits its own round trip to the stream).

Run by `bench gateway --mode classic` under the same uvicorn settings as our gateway
(`uvicorn nats_pubsub.bench.classic_gateway:app`, httptools, uvloop, one worker). NATS_URL says
where NATS is. Only the bench package uses it; it needs FastAPI (a dev dependency).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import nats
from fastapi import FastAPI
from pydantic import BaseModel

__all__ = ["app"]

_state: dict[str, Any] = {}


class PublishBody(BaseModel):
    """The request body."""

    message_id: str | None = None
    data: Any = None
    source: str = "http-gateway"


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    _state["js"] = nc.jetstream()
    yield
    await nc.drain()


app = FastAPI(lifespan=_lifespan)


@app.post("/api/messages/{subject}")
async def publish(subject: str, body: PublishBody) -> dict[str, Any]:
    """Publish the envelope and wait for its ack."""
    message_id = body.message_id or str(uuid.uuid4())
    timestamp = datetime.now(UTC).isoformat()
    envelope = {"message_id": message_id, "timestamp": timestamp, "source": body.source}
    envelope["data"] = body.data
    ack = await _state["js"].publish(
        subject, json.dumps(envelope).encode(), headers={"Nats-Msg-Id": message_id}
    )
    return {
        "published": True,
        "subject": subject,
        "stream": ack.stream,
        "sequence": ack.seq,
        "timestamp": timestamp,
    }
