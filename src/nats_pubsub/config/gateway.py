"""`nats-pubsub gateway`: where it listens, who may call it, and its limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from nats_pubsub.config.base import CommonSettings

__all__ = ["GatewaySettings"]

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


class GatewaySettings(CommonSettings):
    """The HTTP gateway: NATS over HTTP, WebSocket and Server-Sent Events."""

    hostname: str = "gateway"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8080, ge=0, le=65535)
    # Bearer token required on every route but health; off when neither is given.
    gateway_token: SecretStr | None = None
    gateway_token_file: Path | None = None
    # Origins a browser may call from (CORS); none: CORS off. "*" allows any.
    gateway_cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Open WebSocket and Server-Sent Event streams, all clients together.
    gateway_max_streams: int = Field(default=100, ge=1)
    # Messages queued for one live client before it is sent a lag notice instead.
    gateway_client_queue: int = Field(default=1000, ge=1)
    gateway_tls_cert: Path | None = None
    gateway_tls_key: Path | None = None
    # The dashboard's `>` subscription: while a page is open (on-demand), from the start (always:
    # a page opened later shows the last five minutes), or no dashboard at all (off).
    gateway_dashboard: Literal["on-demand", "always", "off"] = "on-demand"
    # on-demand: seconds the dashboard goes on counting after its last page closed.
    gateway_dashboard_linger: float = Field(default=60.0, ge=0)
    # Publishes awaiting their JetStream ack, all requests together; seconds before a retry.
    js_window: int = Field(default=256, ge=1)
    js_ack_timeout: float = Field(default=5.0, gt=0)

    @field_validator("gateway_cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @field_validator("gateway_cors_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: use scheme://host[:port] "
                    "(e.g. https://app.example.com), or * for any"
                )
        return value

    @field_validator("gateway_token_file", "gateway_tls_cert", "gateway_tls_key")
    @classmethod
    def _gateway_file_exists(cls, value: Path | None) -> Path | None:  # not `_readable`: the
        # security settings' validator of that name must not be overridden
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _gateway_consistent(self) -> Self:
        if self.gateway_token is not None and self.gateway_token_file is not None:
            raise ValueError(
                "GATEWAY_TOKEN and GATEWAY_TOKEN_FILE / --bearer-token-file cannot be combined: "
                "choose one"
            )
        if self.gateway_token is not None and not self.gateway_token.get_secret_value():
            raise ValueError("GATEWAY_TOKEN is empty")
        if self.gateway_token_file is not None:
            token = self.gateway_token_file.read_text().strip()
            if not token:
                raise ValueError(
                    f"GATEWAY_TOKEN_FILE / --bearer-token-file: {self.gateway_token_file} is empty"
                )
            object.__setattr__(self, "gateway_token", SecretStr(token))
        if (self.gateway_tls_cert is None) != (self.gateway_tls_key is None):
            raise ValueError(
                "GATEWAY_TLS_CERT / --tls-cert and GATEWAY_TLS_KEY / --tls-key go together: "
                "give both or neither"
            )
        return self
