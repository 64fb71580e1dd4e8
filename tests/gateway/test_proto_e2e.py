"""End to end: the protobuf routes, `application/x-protobuf` in and out."""

from __future__ import annotations

import base64
import json

import pytest

from nats_pubsub.gateway.proto import message_pb2 as pb
from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import RunningGateway, add_stream, js_publish, stream_messages

pytestmark = pytest.mark.e2e

PROTO = {"content-type": "application/x-protobuf"}
BASE = "/api/proto/protobufmessages"


def test_publish_message_in_publish_ack_out(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """data bytes are stored base64, as the upstream's JSON serializer wrote them."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    body = pb.PublishMessage(message_id="p-1", data=b"\x00\x01raw").SerializeToString()
    answer = gateway.http.post(f"{BASE}/events.proto", content=body, headers=PROTO)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-protobuf"
    assert answer.headers["x-content-type-options"] == "nosniff"
    ack = pb.PublishAck.FromString(answer.content)
    assert (ack.published, ack.stream, ack.sequence, ack.subject) == (
        True,
        "EVENTS",
        1,
        "events.proto",
    )
    assert ack.timestamp.seconds > 0
    [(_, data)] = stream_messages(nats_server.url, "EVENTS")
    stored = json.loads(data)
    assert (stored["message_id"], stored["source"]) == ("p-1", "protobuf-gateway")
    assert base64.b64decode(stored["data"]) == b"\x00\x01raw"


def test_fetch_response(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """Each message's data is the stored payload; `stream` is set on every message."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    seqs = js_publish(nats_server.url, "events.p", [b'{"n":1}', b'{"n":2}'])
    answer = gateway.http.get(f"{BASE}/events.p", params={"limit": 10})
    assert answer.status_code == 200
    fetched = pb.FetchResponse.FromString(answer.content)
    assert (fetched.count, fetched.stream, fetched.subject) == (2, "EVENTS", "events.p")
    assert [m.sequence for m in fetched.messages] == seqs
    assert [m.data for m in fetched.messages] == [b'{"n":1}', b'{"n":2}']
    assert {m.stream for m in fetched.messages} == {"EVENTS"}
    assert gateway.http.get(f"{BASE}/events.p", params={"limit": 0}).status_code == 400


def test_user_and_payment_events_are_stored_as_json(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Sources user-service and payment-service; a payment's transaction id is its message id."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    user = pb.UserEvent(user_id="u1", event_type="created", email="a@b.c")
    user.occurred_at.seconds = 1_700_000_000
    payment = pb.PaymentEvent(transaction_id="tx-9", status="approved", amount=9.5, currency="EUR")
    for kind, message in (("user-event", user), ("payment-event", payment)):
        answer = gateway.http.post(
            f"{BASE}/events.{kind}/{kind}", content=message.SerializeToString(), headers=PROTO
        )
        assert answer.status_code == 200, answer.text
        assert pb.PublishAck.FromString(answer.content).published
    stored = [json.loads(data) for _, data in stream_messages(nats_server.url, "EVENTS")]
    assert stored[0]["source"] == "user-service"
    assert stored[0]["data"] == {
        "user_id": "u1",
        "event_type": "created",
        "email": "a@b.c",
        "occurred_at": "2023-11-14T22:13:20Z",
    }
    assert (stored[1]["source"], stored[1]["message_id"]) == ("payment-service", "tx-9")
    assert stored[1]["data"]["amount"] == 9.5


@pytest.mark.parametrize(
    "path", ["events.bad", "events.bad/user-event", "events.bad/payment-event"]
)
def test_malformed_and_empty_bodies_are_400(gateway: RunningGateway, path: str) -> None:
    """The upstream's texts; user and payment events too (the upstream answered 500)."""
    bad = gateway.http.post(f"{BASE}/{path}", content=b"\xff\xff\xff", headers=PROTO)
    assert bad.status_code == 400
    assert bad.json()["error"] == "Invalid protobuf format"
    assert bad.json()["details"]
    empty = gateway.http.post(f"{BASE}/{path}", content=b"", headers=PROTO)
    assert (empty.status_code, empty.json()) == (400, {"error": "Request body is empty"})
