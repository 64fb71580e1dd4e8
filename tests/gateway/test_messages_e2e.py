"""End to end: publish and fetch through a real gateway process against a real nats-server,
including the upstream gateway's own component-test cases."""

from __future__ import annotations

import json
import uuid

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import RunningGateway, add_stream, js_publish, stream_messages

pytestmark = pytest.mark.e2e


def test_publish_into_a_precreated_stream_and_read_it_back_directly(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """events.test goes to EVENTS (events.>), the existing stream, with the upstream envelope."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    body = {"message_id": "m-1", "source": "tester", "data": {"order": 42, "ok": True}}
    answer = gateway.http.post("/api/messages/events.test", json=body)
    assert answer.status_code == 200, answer.text
    ack = answer.json()
    assert ack["published"] is True
    assert (ack["subject"], ack["stream"], ack["sequence"]) == ("events.test", "EVENTS", 1)
    [(subject, data)] = stream_messages(nats_server.url, "EVENTS")
    stored = json.loads(data)
    assert subject == "events.test"
    assert stored["message_id"] == "m-1"
    assert stored["source"] == "tester"
    assert stored["data"] == {"order": 42, "ok": True}
    assert stored["timestamp"] == ack["timestamp"]


def test_a_retried_post_with_the_same_message_id_is_stored_once(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Nats-Msg-Id comes from message_id: the second POST is acknowledged as a duplicate."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    body = {"message_id": "same-id", "data": 1}
    first = gateway.http.post("/api/messages/events.retry", json=body).json()
    second = gateway.http.post("/api/messages/events.retry", json=body).json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert first["sequence"] == second["sequence"]
    assert len(stream_messages(nats_server.url, "EVENTS")) == 1


def test_publish_without_message_id_works(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """A missing message_id becomes a new UUID; source defaults to http-gateway."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    ack = gateway.http.post("/api/messages/events.test", json={"data": "x"}).json()
    uuid.UUID(ack["message_id"])
    [(_, data)] = stream_messages(nats_server.url, "EVENTS")
    assert json.loads(data)["source"] == "http-gateway"
    empty = gateway.http.post("/api/messages/events.test", content=b"")
    assert empty.status_code == 200, empty.text


def test_fetch_three_published_directly(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Messages published straight to JetStream come back, oldest first, JSON parsed."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    seqs = js_publish(nats_server.url, "events.test", [b'{"n":%d}' % i for i in range(3)])
    got = gateway.http.get("/api/messages/events.test", params={"limit": 10}).json()
    assert (got["count"], got["stream"], got["subject"]) == (3, "EVENTS", "events.test")
    assert [m["sequence"] for m in got["messages"]] == seqs
    assert [m["data"] for m in got["messages"]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(m["size_bytes"] == 7 and m["timestamp"].endswith("Z") for m in got["messages"])


def test_limit_five_of_ten(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """The last five of ten."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    seqs = js_publish(nats_server.url, "events.test", [b'{"n":%d}' % i for i in range(10)])
    got = gateway.http.get("/api/messages/events.test", params={"limit": 5}).json()
    assert [m["sequence"] for m in got["messages"]] == seqs[-5:]


def test_a_wildcard_filter_returns_three(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """events.* matches the three events subjects and nothing else."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    for subject in ("events.a", "events.b", "events.c", "events.deep.x"):
        js_publish(nats_server.url, subject, [b"{}"])
    got = gateway.http.get("/api/messages/events.*").json()
    assert got["count"] == 3
    assert sorted(m["subject"] for m in got["messages"]) == ["events.a", "events.b", "events.c"]


def test_the_last_matching_messages_are_found_behind_others(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Ten on events.a, then fifty on events.b: the last five of events.a are still found
    (the upstream looks only at the last `limit` sequences and returns none)."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    wanted = js_publish(nats_server.url, "events.a", [b'"a"'] * 10)
    js_publish(nats_server.url, "events.b", [b'"b"'] * 50)
    got = gateway.http.get("/api/messages/events.a", params={"limit": 5}).json()
    assert [m["sequence"] for m in got["messages"]] == wanted[-5:]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ({"limit": 0}, "Limit must be between 1 and 100"),
        ({"limit": 101}, "Limit must be between 1 and 100"),
        ({"limit": "many"}, "Limit must be between 1 and 100"),
        ({"timeout": 0}, "Timeout must be between 1 and 30 seconds"),
        ({"timeout": 31}, "Timeout must be between 1 and 30 seconds"),
    ],
)
def test_out_of_range_limits_and_timeouts_are_400(
    gateway: RunningGateway, nats_server: EmbeddedServer, query: dict[str, object], text: str
) -> None:
    """The upstream's validation texts."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    answer = gateway.http.get("/api/messages/events.test", params=query)
    assert answer.status_code == 400
    assert answer.json() == {"error": text}


def test_an_empty_stream_with_timeout_one_returns_count_zero(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """No messages: count 0, not an error."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    got = gateway.http.get("/api/messages/events.test", params={"timeout": 1})
    assert got.status_code == 200
    assert (got.json()["count"], got.json()["messages"]) == (0, [])


def test_reading_an_unknown_subject_is_404_and_creates_nothing(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """The upstream created a stream on a read; a read here never does."""
    answer = gateway.http.get("/api/messages/nothing.here")
    assert answer.status_code == 404
    assert "nothing.here" in answer.json()["error"]
    assert gateway.http.get("/api/streams").json()["count"] == 0


def test_publishing_on_an_unstored_subject_creates_the_upstreams_stream(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """orders.new: stream `orders` on `orders.>` with the upstream's limits."""
    ack = gateway.http.post("/api/messages/orders.new", json={"data": 1}).json()
    assert ack["stream"] == "orders"
    detail = gateway.http.get("/api/streams/orders").json()
    assert detail["subjects"] == ["orders.>"]
    config = detail["configuration"]
    assert (config["maxAge"], config["maxBytes"], config["maxMsgs"]) == (
        "1.00:00:00",
        104857600,
        10000,
    )
    assert (config["storage"], config["retention"]) == ("File", "Limits")
    assert gateway.proc.logs.where("Stream created", stream="orders")


def test_fetch_from_a_durable_acknowledges_what_it_returns(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Two fetches of three from a durable: the second continues where the first ended."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    seqs = js_publish(nats_server.url, "events.test", [b'{"n":%d}' % i for i in range(6)])
    made = gateway.http.post("/api/consumers/EVENTS", json={"name": "worker"})
    assert made.status_code == 201, made.text
    path = "/api/messages/EVENTS/consumer/worker"
    first = gateway.http.get(path, params={"limit": 3, "timeout": 1}).json()
    second = gateway.http.get(path, params={"limit": 3, "timeout": 1}).json()
    assert [m["sequence"] for m in first["messages"]] == seqs[:3]
    assert [m["sequence"] for m in second["messages"]] == seqs[3:]
    assert first["subject"] == ""
    state = gateway.http.get("/api/consumers/EVENTS/worker").json()["state"]
    assert (state["ackPending"], state["numPending"]) == (0, 0)
    missing = gateway.http.get("/api/messages/EVENTS/consumer/nobody")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Consumer 'nobody' not found on stream 'EVENTS'"}
