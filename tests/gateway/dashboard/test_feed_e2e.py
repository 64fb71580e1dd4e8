"""The dashboard's data end to end: a real gateway on a real nats-server, real publishers; its
Server-Sent Events checked against what was really published."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import RunningGateway, add_stream, js_publish, nats_call, start_gateway
from tests.helpers.fixtures import CliFactory, publish_raw
from tests.helpers.sse import SseEvent, SseReader, last_tick

pytestmark = pytest.mark.e2e

Sse = Callable[..., SseReader]


def _total(subject: str, count: int) -> Callable[[list[SseEvent]], bool]:
    def ready(events: list[SseEvent]) -> bool:
        tick = last_tick(events)
        return tick is not None and tick["totals"].get(subject, 0) >= count

    return ready


def test_the_page_and_its_files_are_served(gateway: RunningGateway) -> None:
    """`/` and `/dashboard` are the page; its files come from the gateway; nothing else."""
    for path in ("/", "/dashboard"):
        page = gateway.http.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<script src="/dashboard/dashboard.js"' in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "http://" not in page.text
        assert "https://" not in page.text
    for name, kind in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        asset = gateway.http.get(f"/dashboard/{name}")
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(kind)
        assert "https://" not in asset.text
    missing = gateway.http.get("/dashboard/..%2Fservice.py")
    assert missing.status_code == 404
    assert "error" in missing.json()
    assert gateway.http.get("/api").json()["name"] == "NATS HTTP Gateway"


def test_the_feed_counts_what_was_published_once(
    gateway: RunningGateway, nats_server: EmbeddedServer, subject: str, sse: Sse
) -> None:
    """Per-second counts add up to what was published: NATS's own traffic is left out, and a
    stream delivering stored messages to a consumer is not counted again."""
    feed = sse(f"{gateway.url}/api/dashboard/feed")
    first = feed.wait_until(lambda e: bool(e), "the snapshot")[0]
    assert first.name == "snapshot"
    assert first.data["version"]
    publish_raw(nats_server.url, subject, [b'{"n": %d}' % n for n in range(50)])
    publish_raw(nats_server.url, "_INBOX.abc", [b"reply"])
    add_stream(nats_server.url, "JSDEMO", ["jsdemo.>"])
    js_publish(nats_server.url, "jsdemo.a", [b"1", b"2", b"3"])

    async def consume(nc: Any) -> int:
        sub = await nc.jetstream().pull_subscribe("jsdemo.>", "reader")
        got = await sub.fetch(3, timeout=5)
        for msg in got:
            await msg.ack()
        return len(got)

    assert nats_call(nats_server.url, consume) == 3
    feed.wait_until(_total(subject, 50), f"50 messages on {subject}")
    events = feed.wait_until(_total("jsdemo.a", 3), "3 messages on jsdemo.a")
    publish_raw(nats_server.url, subject, [b"one more"])
    events = feed.wait_until(_total(subject, 51), "the 51st message")
    tick = last_tick(events)
    assert tick["totals"][subject] == 51
    assert tick["totals"]["jsdemo.a"] == 3  # the consumer's deliveries are not new messages
    assert not [s for s in tick["totals"] if s.startswith(("_INBOX", "$"))]
    ticks = [e.data for e in events if e.name == "tick"]
    assert sum(t["second"]["subjects"].get(subject, 0) for t in ticks) == 51
    seconds = [t["second"]["t"] for t in ticks]
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds)))  # every second, once


def test_the_declines_shown_are_the_ones_the_payment_publisher_logged(
    gateway: RunningGateway, nats_server: EmbeddedServer, run_cli: CliFactory, sse: Sse
) -> None:
    feed = sse(f"{gateway.url}/api/dashboard/feed")
    feed.wait_until(lambda e: bool(e), "the snapshot")
    payments = run_cli(
        "payments", "--count", "300", "--interval", "0", "--seed", "3", url=nats_server.url
    )
    assert payments.wait() == 0
    logged = payments.logs.where("Credit card declined")
    accepted = len(payments.logs.where("Credit card accepted"))
    assert logged
    assert accepted + len(logged) == 300

    def settled(events: list[SseEvent]) -> bool:
        tick = last_tick(events)
        return (
            tick is not None
            and tick["payment_totals"]["accepted"] + tick["payment_totals"]["declined"] >= 300
        )

    events = feed.wait_until(settled, "300 payments")
    totals = last_tick(events)["payment_totals"]
    assert (totals["accepted"], totals["declined"]) == (accepted, len(logged))
    assert totals["decline_rate"] == round(len(logged) / 300, 4)
    shown = [d for e in events if e.name == "tick" for d in e.data["declines"]]
    assert [d["transaction_id"] for d in shown] == [r["transaction_id"] for r in logged]
    by_id = {r["transaction_id"]: r for r in logged}
    for decline in shown:
        record = by_id[decline["transaction_id"]]
        assert decline["reason"] == record["decline_reason"]
        assert decline["code"] == record["decline_code"]
        assert decline["amount"] == record["amount"]
        assert decline["level"] == "ERROR"
    late = sse(f"{gateway.url}/api/dashboard/feed").wait_until(bool, "a late page's snapshot")
    snapshot = late[0].data
    assert [d["transaction_id"] for d in snapshot["declines"]] == [
        r["transaction_id"] for r in logged[-20:]
    ]
    assert sum(p["declined"] for p in snapshot["payments"]) == len(logged)


def test_the_tail_samples_a_flood_and_keeps_a_rare_subject(
    gateway: RunningGateway, nats_server: EmbeddedServer, subject: str, sse: Sse
) -> None:
    """A tail on `>` gets a bounded share of a flood and counts the rest; a tail on a quiet
    subject gets its one message, headers and all."""
    everything = sse(f"{gateway.url}/api/dashboard/tail", {"subject": ">"})
    rare = sse(f"{gateway.url}/api/dashboard/tail", {"subject": f"{subject}.rare.*"})
    for reader in (everything, rare):
        reader.wait_until(lambda e: bool(e), "the tail to subscribe")
        assert reader.events[0].name == "subscribed"
    publish_raw(nats_server.url, f"{subject}.rare.one", [b'{"rare": true}'], {"X-Trace": "t1"})
    publish_raw(nats_server.url, f"{subject}.flood", [b'{"n": %d}' % n for n in range(5000)])

    def accounted(events: list[SseEvent]) -> bool:
        batches = [e.data for e in events if e.name == "messages"]
        return sum(len(b["messages"]) + b["skipped"] for b in batches) >= 5001

    events = everything.wait_until(accounted, "5,001 messages shown or counted as skipped")
    batches = [e.data for e in events if e.name == "messages"]
    shown = [m for b in batches for m in b["messages"]]
    assert all(len(b["messages"]) <= 10 for b in batches)
    assert sum(len(b["messages"]) + b["skipped"] for b in batches) == 5001
    assert len(shown) < 200  # sampled: the page never gets the flood
    numbers = [m["n"] for m in shown]
    assert numbers == sorted(numbers)
    last = shown[-1]
    assert last["subject"] == f"{subject}.flood"
    assert last["data"] == {"n": 4999}  # the newest is always shown
    assert last["encoding"] == "json"
    assert last["size_bytes"] == len(b'{"n": 4999}')
    found = rare.wait_until(lambda e: any(x.name == "messages" for x in e), "the rare message")
    (batch,) = [e.data for e in found if e.name == "messages"]
    assert batch["skipped"] == 0
    (message,) = batch["messages"]
    assert message["subject"] == f"{subject}.rare.one"
    assert message["data"] == {"rare": True}
    assert message["headers"] == {"X-Trace": "t1"}


def test_a_bad_tail_filter_is_a_400(gateway: RunningGateway) -> None:
    answer = gateway.http.get("/api/dashboard/tail", params={"subject": "a.>.b"})
    assert answer.status_code == 400
    assert "'>' may only be the last token" in answer.json()["error"]


def test_the_gateway_answers_the_service_api(
    gateway: RunningGateway, nats_server: EmbeddedServer, sse: Sse
) -> None:
    """$SRV.PING, INFO and STATS with a plain NATS request; the dashboard lists it."""

    async def ask(nc: Any) -> list[dict[str, Any]]:
        answers = []
        for subject in ("$SRV.PING", "$SRV.INFO.nats-pubsub-gateway", "$SRV.STATS"):
            reply = await nc.request(subject, b"", timeout=5)
            answers.append(msgspec.json.decode(reply.data))
        return answers

    gateway.http.get("/api/streams")
    ping, info, stats = nats_call(nats_server.url, ask)
    assert ping["type"] == "io.nats.micro.v1.ping_response"
    assert ping["name"] == "nats-pubsub-gateway"
    assert ping["version"] == gateway.http.get("/api").json()["version"]
    assert ping["metadata"]["url"] == gateway.url
    assert info["id"] == ping["id"] == stats["id"]
    assert [e["name"] for e in info["endpoints"]] == ["status"]
    counters = stats["endpoints"][0]["data"]
    assert counters["requests"] >= 1  # the GET above
    feed = sse(f"{gateway.url}/api/dashboard/feed")

    def listed(events: list[SseEvent]) -> bool:  # with its counters as of a later poll
        tick = last_tick(events)
        rows = [] if tick is None else [s for s in tick["services"] if s["id"] == ping["id"]]
        return bool(rows) and rows[0]["stats"]["requests"] >= 2  # /api/streams and /api

    events = feed.wait_until(listed, "the gateway in the services panel")
    (row,) = [s for s in last_tick(events)["services"] if s["id"] == ping["id"]]
    assert (row["status"], row["hostname"], row["version"]) == ("up", "gateway", ping["version"])
    assert row["uptime_seconds"] >= 0


def test_replay_reads_a_stream_from_a_sequence_or_a_time(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    add_stream(nats_server.url, "RP", ["rp.>"])
    js_publish(nats_server.url, "rp.a", [b'{"n": %d}' % n for n in range(1, 21)])
    js_publish(nats_server.url, "rp.b", [b"plain text"])
    page = gateway.http.get("/api/replay/RP", params={"limit": "5"}).json()
    assert [m["sequence"] for m in page["messages"]] == [1, 2, 3, 4, 5]
    assert page["messages"][0]["data"] == {"n": 1}
    assert (page["start"], page["count"], page["next_sequence"]) == ("seq:1", 5, 6)
    tail = gateway.http.get("/api/replay/RP", params={"start": "seq:19"}).json()
    assert [(m["sequence"], m["data"]) for m in tail["messages"]] == [
        (19, {"n": 19}),
        (20, {"n": 20}),
        (21, "plain text"),
    ]
    assert tail["next_sequence"] is None
    only_b = gateway.http.get("/api/replay/RP", params={"subject": "rp.b"}).json()
    assert [m["sequence"] for m in only_b["messages"]] == [21]
    stamp = tail["messages"][1]["timestamp"]  # stored time of sequence 20
    by_time = gateway.http.get("/api/replay/RP", params={"start": f"since:{stamp}"}).json()
    assert [m["sequence"] for m in by_time["messages"]] == [20, 21]
    recent = gateway.http.get("/api/replay/RP", params={"start": "since:1h", "limit": "2"})
    assert [m["sequence"] for m in recent.json()["messages"]] == [1, 2]
    bad = gateway.http.get("/api/replay/RP", params={"start": "yesterday"})
    assert bad.status_code == 400
    assert "start must be" in bad.json()["error"]
    missing = gateway.http.get("/api/replay/NOPE")
    assert missing.status_code == 404


def test_with_a_token_the_page_opens_and_its_data_needs_the_token(
    run_cli: CliFactory, nats_server: EmbeddedServer, sse: Sse
) -> None:
    gw = start_gateway(run_cli, nats_server.url, env={"GATEWAY_TOKEN": "t0ken"})
    assert gw.http.get("/").status_code == 200
    assert gw.http.get("/dashboard/dashboard.js").status_code == 200
    assert gw.http.get("/api/dashboard/feed").status_code == 401
    assert gw.http.get("/api/dashboard/tail").status_code == 401
    feed = sse(f"{gw.url}/api/dashboard/feed", {"access_token": "t0ken"})
    events = feed.wait_until(lambda e: bool(e), "the snapshot")
    assert feed.status == 200
    assert events[0].name == "snapshot"
    assert "t0ken" not in gw.proc.output()


def test_the_dashboard_waits_for_nats_with_a_503(
    run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    """While NATS is down the page still loads and the feed says why it cannot start."""
    from tests.helpers.fixtures import free_port

    gw = start_gateway(run_cli, f"nats://127.0.0.1:{free_port()}", connected=False)
    assert gw.http.get("/").status_code == 200
    answer = gw.http.get("/api/dashboard/feed")
    assert answer.status_code == 503
    assert "not connected to NATS" in answer.json()["error"]


def _no_responders(gw: RunningGateway) -> int:
    return gw.http.post("/api/request/svc.nobody", content=b"?", params={"timeout": 1}).status_code


def test_on_demand_the_bus_is_counted_only_while_a_page_is_open(
    run_cli: CliFactory, nats_server: EmbeddedServer, sse: Sse
) -> None:
    """The `>` subscription is interest in every subject: held only while a page is open (and
    a moment after), so otherwise a request nobody serves fails at once with no responders."""
    gw = start_gateway(run_cli, nats_server.url, env={"GATEWAY_DASHBOARD_LINGER": "0.2"})
    assert _no_responders(gw) == 503
    assert not gw.proc.logs.where("Subscribed")
    feed = sse(f"{gw.url}/api/dashboard/feed")
    snapshot = feed.wait_until(bool, "the snapshot")[0].data
    assert snapshot["mode"] == "on-demand"
    assert snapshot["counting_since"]
    (subscribed,) = gw.proc.logs.wait_for("Subscribed")
    assert subscribed["subjects"] == [">"]
    assert _no_responders(gw) == 504  # the dashboard's interest: the request waits it out
    feed.close()
    gw.proc.logs.wait_for("Unsubscribed")
    assert _no_responders(gw) == 503
    again = sse(f"{gw.url}/api/dashboard/feed").wait_until(bool, "a new snapshot")[0].data
    assert again["counting_since"] > snapshot["counting_since"]  # counts start afresh
    gw.proc.logs.wait_for(
        lambda r: r.get("purpose") == "dashboard" and r["message"] == "Subscribed", 2
    )


def test_always_counts_from_the_start(
    run_cli: CliFactory, nats_server: EmbeddedServer, subject: str, sse: Sse
) -> None:
    """`--dashboard always` (what `up` runs): a page opened later sees what came before it."""
    gw = start_gateway(run_cli, nats_server.url, "--dashboard", "always")
    gw.proc.logs.wait_for(lambda r: r.get("purpose") == "dashboard")
    publish_raw(nats_server.url, subject, [b"early"] * 10)
    feed = sse(f"{gw.url}/api/dashboard/feed")
    events = feed.wait_until(_total(subject, 10), "the ten early messages")
    assert last_tick(events)["totals"][subject] == 10
    assert events[0].data["mode"] == "always"


def test_off_means_no_dashboard_and_no_subscription(
    run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    gw = start_gateway(run_cli, nats_server.url, env={"GATEWAY_DASHBOARD": "off"})
    for path in ("/", "/api/dashboard/feed", "/api/dashboard/tail"):
        answer = gw.http.get(path)
        assert answer.status_code == 404
        assert "GATEWAY_DASHBOARD=off" in answer.json()["error"]
    assert _no_responders(gw) == 503
    assert not gw.proc.logs.where("Subscribed")
