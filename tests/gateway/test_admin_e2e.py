"""End to end: streams and consumers through a real gateway process against a real nats-server."""

from __future__ import annotations

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import RunningGateway, add_stream, js_publish

pytestmark = pytest.mark.e2e


def test_streams_list_detail_and_subjects(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """The upstream's field names; subjects by count, most first; 404 for a missing stream."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    js_publish(nats_server.url, "events.a", [b"{}"] * 3)
    js_publish(nats_server.url, "events.b", [b"{}"] * 5)
    listed = gateway.http.get("/api/streams").json()
    assert listed["count"] == 1
    summary = listed["streams"][0]
    assert (summary["name"], summary["messages"], summary["firstSeq"], summary["lastSeq"]) == (
        "EVENTS", 8, 1, 8,
    )  # fmt: skip
    detail = gateway.http.get("/api/streams/EVENTS").json()
    assert detail["state"]["numSubjects"] == 2
    assert detail["configuration"]["storage"] == "File"
    subjects = gateway.http.get("/api/streams/EVENTS/subjects").json()
    assert subjects == {
        "streamName": "EVENTS",
        "count": 2,
        "subjects": [
            {"subject": "events.b", "messages": 5},
            {"subject": "events.a", "messages": 3},
        ],
        "note": None,
    }
    missing = gateway.http.get("/api/streams/NOPE")
    assert (missing.status_code, missing.json()) == (404, {"error": "Stream 'NOPE' not found"})
    assert gateway.http.get("/api/streams/NOPE/subjects").status_code == 404


def test_an_empty_stream_says_it_has_no_subject_statistics(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """The upstream's note."""
    add_stream(nats_server.url, "EMPTY", ["empty.>"])
    body = gateway.http.get("/api/streams/EMPTY/subjects").json()
    assert body["note"] == "No subject-level statistics available for this stream"


def test_consumer_templates_are_the_six(gateway: RunningGateway) -> None:
    """Names and the fields of the durable processor."""
    body = gateway.http.get("/api/consumers/templates").json()
    names = [t["name"] for t in body["templates"]]
    assert body["count"] == 6
    assert names == [
        "real-time-processor", "batch-processor", "work-queue", "fire-and-forget",
        "latest-only", "durable-processor",
    ]  # fmt: skip
    durable = body["templates"][5]["template"]
    assert (durable["ackWait"], durable["inactiveThreshold"], durable["maxAckPending"]) == (
        "00:10:00", "1.00:00:00", 1000,
    )  # fmt: skip


def test_every_template_creates_a_consumer(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Each template's body is accepted as it is (201, with a Location)."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    for template in gateway.http.get("/api/consumers/templates").json()["templates"]:
        made = gateway.http.post("/api/consumers/EVENTS", json=template["template"])
        assert made.status_code == 201, made.text
        assert made.headers["location"] == f"/api/consumers/EVENTS/{template['name']}"
    listed = gateway.http.get("/api/consumers/EVENTS").json()
    assert listed["count"] == 6


def test_consumer_lifecycle(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """Create, get, health, list, delete; then 404 everywhere."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    js_publish(nats_server.url, "events.test", [b"{}"] * 4)
    body = {
        "name": "c1",
        "deliverPolicy": "by_start_sequence",
        "startSequence": 2,
        "ackPolicy": "explicit",
        "ackWait": "00:00:30",
        "filterSubject": "events.test",
    }
    made = gateway.http.post("/api/consumers/EVENTS", json=body).json()
    assert made["config"]["deliverPolicy"] == "ByStartSequence"
    assert (made["config"]["optStartSeq"], made["config"]["ackWait"]) == (2, "00:00:30")
    assert made["state"]["numPending"] == 3
    assert made["metrics"]["consumerLag"] == 3  # last 4, nothing delivered from 2 on: 4 - 1
    got = gateway.http.get("/api/consumers/EVENTS/c1").json()
    assert got["name"] == "c1"
    health = gateway.http.get("/api/consumers/EVENTS/c1/health").json()
    assert (health["status"], health["isHealthy"], health["pendingMessages"]) == (
        "Healthy",
        True,
        3,
    )
    gone = gateway.http.delete("/api/consumers/EVENTS/c1")
    assert gone.json() == {
        "success": True,
        "message": "Consumer 'c1' deleted successfully from stream 'EVENTS'",
    }
    for path in ("/api/consumers/EVENTS/c1", "/api/consumers/EVENTS/c1/health"):
        missing = gateway.http.get(path)
        assert missing.status_code == 404
        assert missing.json() == {"error": "Consumer 'c1' not found on stream 'EVENTS'"}
    assert gateway.http.delete("/api/consumers/EVENTS/c1").status_code == 404


def test_creating_on_a_missing_stream_is_404(gateway: RunningGateway) -> None:
    """The upstream answered 500."""
    made = gateway.http.post("/api/consumers/NOPE", json={"name": "x"})
    assert (made.status_code, made.json()) == (404, {"error": "Stream 'NOPE' not found"})


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({}, "Consumer name is required"),
        ({"name": "a.b"}, "Invalid consumer name"),
        ({"name": "x", "deliverPolicy": "sometimes"}, "deliverPolicy must be one of"),
        ({"name": "x", "ackPolicy": "maybe"}, "ackPolicy must be one of"),
        ({"name": "x", "ackWait": "soon"}, "is not a duration"),
        ({"name": "x", "deliverPolicy": "by_start_sequence"}, "needs startSequence"),
        ({"name": "x", "maxDeliver": "three"}, "Invalid request body"),
        ({"name": "x", "unknownField": 1}, "Invalid request body"),
    ],
)
def test_bad_consumer_requests_are_400(
    gateway: RunningGateway, nats_server: EmbeddedServer, body: dict[str, object], text: str
) -> None:
    """What is wrong, in one line."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    made = gateway.http.post("/api/consumers/EVENTS", json=body)
    assert made.status_code == 400, made.text
    assert text in made.json()["error"]


def test_a_duplicate_consumer_name_with_another_config_is_409(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """The server refuses to change a consumer by creating it again."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    assert gateway.http.post("/api/consumers/EVENTS", json={"name": "c"}).status_code == 201
    again = gateway.http.post("/api/consumers/EVENTS", json={"name": "c", "maxDeliver": 9})
    assert again.status_code == 409, again.text


def test_peek_never_moves_the_consumer(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Peeking twice shows the same messages; nothing is delivered, for both ack policies
    (the upstream advanced an ack-none consumer and left ack-explicit ones with pending acks)."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    seqs = js_publish(nats_server.url, "events.test", [b'{"text":"%s"}' % (b"x" * 150)] * 3)
    for name, ack in (("explicit-one", "explicit"), ("none-one", "none")):
        gateway.http.post("/api/consumers/EVENTS", json={"name": name, "ackPolicy": ack})
        path = f"/api/consumers/EVENTS/{name}/messages"
        first = gateway.http.get(path, params={"limit": 2}).json()
        second = gateway.http.get(path, params={"limit": 2}).json()
        assert first == second
        assert [m["sequence"] for m in first["messages"]] == seqs[:2]
        preview = first["messages"][0]["dataPreview"]
        assert len(preview) == 103
        assert preview.endswith("...")
        state = gateway.http.get(f"/api/consumers/EVENTS/{name}").json()["state"]
        assert (state["delivered"], state["ackPending"], state["numPending"]) == (0, 0, 3)


def test_reset_actions(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """reset starts over, replay_from_sequence starts there; the rest of the config is kept."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    seqs = js_publish(nats_server.url, "events.test", [b"{}"] * 5)
    body = {"name": "r", "filterSubject": "events.test", "maxDeliver": 7}
    gateway.http.post("/api/consumers/EVENTS", json=body)
    path = "/api/messages/EVENTS/consumer/r"
    gateway.http.get(path, params={"limit": 5, "timeout": 1})
    assert gateway.http.get("/api/consumers/EVENTS/r").json()["state"]["numPending"] == 0
    done = gateway.http.post("/api/consumers/EVENTS/r/reset", json={"action": "reset"}).json()
    assert done == {
        "success": True,
        "message": "Consumer 'r' reset successfully",
        "consumerName": "r",
    }
    after = gateway.http.get("/api/consumers/EVENTS/r").json()
    assert after["state"]["numPending"] == 5
    assert (after["config"]["filterSubject"], after["config"]["maxDeliver"]) == ("events.test", 7)
    replay = {"action": "replay_from_sequence", "sequence": seqs[3]}
    assert gateway.http.post("/api/consumers/EVENTS/r/reset", json=replay).status_code == 200
    got = gateway.http.get(path, params={"limit": 5, "timeout": 1}).json()
    assert [m["sequence"] for m in got["messages"]] == seqs[3:]
    when = {"action": "replay_from_time", "time": "2000-01-01T00:00:00Z"}
    assert gateway.http.post("/api/consumers/EVENTS/r/reset", json=when).status_code == 200
    assert gateway.http.get("/api/consumers/EVENTS/r").json()["state"]["numPending"] == 5
    bad = gateway.http.post("/api/consumers/EVENTS/r/reset", json={"action": "rewind"})
    assert bad.status_code == 400
    assert gateway.http.post("/api/consumers/EVENTS/gone/reset", json={}).status_code == 404


def test_metrics_history_keeps_samples(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """A history answers with a sample taken now (more accumulate, one a minute)."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    js_publish(nats_server.url, "events.test", [b"{}"] * 2)
    gateway.http.post("/api/consumers/EVENTS", json={"name": "h"})
    body = gateway.http.get("/api/consumers/EVENTS/h/metrics/history", params={"samples": 5}).json()
    assert (body["consumerName"], body["streamName"], body["count"]) == ("h", "EVENTS", 1)
    assert body["history"][0]["pendingMessages"] == 2
    bad = gateway.http.get("/api/consumers/EVENTS/h/metrics/history", params={"samples": 0})
    assert bad.status_code == 400
