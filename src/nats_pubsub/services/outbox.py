"""Where a publisher's messages go: core NATS (fire and forget) or JetStream (acked, windowed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from nats_pubsub.acks import AckWindow, PubAckInfo
from nats_pubsub.config.services import ProducerSettings
from nats_pubsub.connection import Connection
from nats_pubsub.errors import NatsError
from nats_pubsub.jetstream import JetStream, provision
from nats_pubsub.logs import Logger
from nats_pubsub.streams import dedupe_id, new_run_id

__all__ = ["Outbox", "PubAckInfo", "js_fields"]

C = TypeVar("C")
SentCallback = Callable[[C, PubAckInfo | None], None]
FailedCallback = Callable[[C, str], None]


class Outbox(Generic[C]):
    """Publishes messages and reports each one as sent (with its ack in JetStream) or failed."""

    def __init__(
        self,
        conn: Connection,
        on_sent: SentCallback[C],
        on_failed: FailedCallback[C],
        window: AckWindow | None = None,
        run_id: str | None = None,
    ) -> None:
        self._conn = conn
        self._on_sent = on_sent
        self._on_failed = on_failed
        self._window = window
        self.run_id = run_id

    @classmethod
    async def open(
        cls,
        settings: ProducerSettings,
        conn: Connection,
        log: Logger,
        subject: str,
        on_sent: SentCallback[C],
        on_failed: FailedCallback[C],
    ) -> Outbox[C]:
        """Core NATS, or with --jetstream a provisioned stream and an ack window."""
        if not settings.jetstream:
            return cls(conn, on_sent, on_failed)
        js = JetStream(conn, log)
        spec = await provision(js, settings, subject)
        window = AckWindow(
            conn,
            window=settings.js_window,
            ack_timeout=settings.js_ack_timeout,
            retries=settings.js_retries,
            on_ack=lambda ctx, ack, _attempts: on_sent(ctx, ack),
            on_fail=on_failed,
            log=log,
        )
        await window.start()
        run_id = new_run_id()
        log.info(
            "JetStream publishing",
            stream=spec.name,
            window=settings.js_window,
            ack_timeout_seconds=settings.js_ack_timeout,
            run_id=run_id,
            dedupe_id_format="{message_id}@{run_id}",
        )
        return cls(conn, on_sent, on_failed, window, run_id)

    @property
    def retries(self) -> int:
        """Publishes sent again after an ack timeout (JetStream only)."""
        return self._window.retried if self._window is not None else 0

    async def send(self, subject: str, payload: bytes, msg_id: str, context: C) -> None:
        """Publish one message; its outcome arrives through the callbacks."""
        window = self._window
        if window is None:
            try:
                await self._conn.publish_with_id(subject, payload, msg_id)
            except NatsError as exc:
                self._on_failed(context, str(exc))
            else:
                self._on_sent(context, None)
            return
        assert self.run_id is not None
        await window.publish(subject, payload, dedupe_id(msg_id, self.run_id), context)

    async def close(self, log: Logger, timeout: float) -> None:
        """Wait for outstanding acks, flush, and drain the connection."""
        if self._window is not None and not await self._window.wait_all(timeout):
            log.warning("Acknowledgements still missing at exit", in_flight=self._window.in_flight)
        try:
            await self._conn.flush(timeout=timeout)
        except NatsError as exc:
            log.warning("Flush before exit did not complete", error=str(exc))
        await self._conn.drain()


def js_fields(ack: PubAckInfo | None) -> dict[str, Any]:
    """The JetStream fields of a published-message record (none in core mode)."""
    if ack is None:
        return {}
    return {"js_stream": ack.stream, "js_sequence": ack.sequence, "duplicate": ack.duplicate}
