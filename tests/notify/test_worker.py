"""The outbox worker against real HTTP receivers, on a virtual clock."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from ingestd.notify.metrics import NotifyMetrics
from ingestd.notify.model import Event
from ingestd.notify.receivers import build_receivers
from ingestd.notify.worker import OutboxWorker

from .conftest import VirtualClock
from .factory import note, receivers
from .memstore import MemoryOutbox
from .recorder import HANG, Recorder, Request


def worker(store: MemoryOutbox, yaml_text: str, session: aiohttp.ClientSession,
           clock: VirtualClock, metrics: NotifyMetrics, **kw: object) -> OutboxWorker:
    rcv = build_receivers(receivers(yaml_text), session)
    return OutboxWorker(store, rcv, clock, metrics, rng=random.Random(7), **kw)  # type: ignore[arg-type]


def hook(rec: Recorder, name: str, **extra: object) -> str:
    lines = [f"  - name: {name}", "    type: webhook", f"    url: {rec.url('/' + name)}"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def value(registry: CollectorRegistry, metric: str, **labels: str) -> float:
    return registry.get_sample_value(metric, labels) or 0.0


async def test_500_three_times_then_200_is_retried_with_backoff_then_delivered(
        recorder: Recorder, session: aiohttp.ClientSession, clock: VirtualClock,
        metrics: NotifyMetrics, registry: CollectorRegistry) -> None:
    recorder.on("/ops", 500, 500, 500)
    store = MemoryOutbox()
    item = store.add(note("ops"), created_at=clock())
    w = worker(store, "receivers:\n" + hook(recorder, "ops", max_attempts=5), session, clock, metrics)
    delays = []
    for attempt in range(1, 5):
        assert await w.tick() == 1
        await w.drain()
        assert len(recorder.at("/ops")) == attempt  # exactly once more after each failure
        row = store.rows[item]
        if attempt < 4:
            assert row.state == "pending" and row.attempts == attempt and "HTTP 500" in row.error
            assert row.next_at is not None
            delays.append((row.next_at - clock()).total_seconds())
            assert await w.tick() == 0  # not due yet: nothing is sent early
            clock.t = row.next_at
    assert store.state(item) == "delivered"
    assert delays == sorted(delays) and delays[-1] > 2 * delays[0]  # exponential back-off
    keys = {r.headers["Idempotency-Key"] for r in recorder.at("/ops")}
    assert keys == {"INC-1:opened:1"}
    assert value(registry, "ingestd_notifications_sent_total", receiver="ops", integration="webhook") == 1
    assert value(registry, "ingestd_notifications_failed_total", receiver="ops", integration="webhook") == 3
    await w.close()


async def test_a_receiver_that_never_answers_is_dead_lettered_after_max_attempts(
        recorder: Recorder, session: aiohttp.ClientSession, clock: VirtualClock,
        metrics: NotifyMetrics, registry: CollectorRegistry) -> None:
    recorder.on("/mute", HANG, HANG, HANG)
    store = MemoryOutbox()
    item = store.add(note("mute"), created_at=clock())
    w = worker(store, "receivers:\n" + hook(recorder, "mute", max_attempts=3, timeout="100ms"),
               session, clock, metrics)
    for _ in range(3):
        await w.tick()
        await w.drain()
        clock.advance(3600)
    assert len(recorder.at("/mute")) == 3
    row = store.rows[item]
    assert row.state == "dead" and "gave up after 3 attempts" in row.error
    assert "no answer within 0.1s" in row.error
    assert await w.tick() == 0  # a dead item is never tried again
    assert value(registry, "ingestd_notifications_dead_lettered_total",
                 receiver="mute", integration="webhook") == 1
    await w.close()


async def test_a_refused_connection_is_retried_and_a_4xx_is_permanent(
        recorder: Recorder, session: aiohttp.ClientSession, clock: VirtualClock,
        metrics: NotifyMetrics) -> None:
    recorder.on("/bad", 400)
    closed = "http://127.0.0.1:1/nothing-listens-here"
    cfg = ("receivers:\n" + hook(recorder, "bad") +
           f"  - name: gone\n    type: webhook\n    url: {closed}\n")
    store = MemoryOutbox()
    bad = store.add(note("bad"), created_at=clock())
    gone = store.add(note("gone"), created_at=clock())
    w = worker(store, cfg, session, clock, metrics)
    await w.tick()
    await w.drain()
    assert store.state(bad) == "dead" and "permanent error: HTTP 400" in store.rows[bad].error
    assert len(recorder.at("/bad")) == 1
    assert store.state(gone) == "pending" and store.rows[gone].attempts == 1
    await w.close()


async def test_a_hanging_receiver_does_not_hold_up_another(
        recorder: Recorder, session: aiohttp.ClientSession, clock: VirtualClock,
        metrics: NotifyMetrics) -> None:
    recorder.on("/slow", HANG)
    store = MemoryOutbox()
    slow = store.add(note("slow", incident="INC-1"), created_at=clock())
    fast = store.add(note("fast", incident="INC-2"), created_at=clock())
    w = worker(store, "receivers:\n" + hook(recorder, "slow", timeout="1h") + hook(recorder, "fast"),
               session, clock, metrics)
    assert await w.tick() == 2  # tick hands out and returns: it never waits on a receiver
    await w.drain(["fast"])
    await recorder.wait_for("/slow", 1)
    assert store.state(fast) == "delivered"
    assert store.state(slow) == "pending"  # still hanging
    # More work for the fast receiver goes straight through while the slow one hangs.
    more = store.add(note("fast", Event.ACKNOWLEDGED, incident="INC-2", seq=2), created_at=clock())
    assert await w.tick() == 1
    await w.drain(["fast"])
    assert store.state(more) == "delivered" and store.state(slow) == "pending"
    await w.close()
    assert store.state(slow) == "pending"  # stopping loses nothing


async def test_after_a_crash_a_new_worker_delivers_what_was_pending(
        recorder: Recorder, session: aiohttp.ClientSession, clock: VirtualClock,
        metrics: NotifyMetrics) -> None:
    recorder.on("/ops", HANG)
    store = MemoryOutbox()
    first = store.add(note("ops", incident="INC-1"), created_at=clock())
    cfg = "receivers:\n" + hook(recorder, "ops", timeout="1h")
    w1 = worker(store, cfg, session, clock, metrics, lease_owner="a", lease_for=timedelta(seconds=60))
    await w1.tick()
    await recorder.wait_for("/ops", 1)
    for lane in w1._lanes.values():  # the process dies: no store update happens
        for t in lane.running.values():
            t.cancel()
    second = store.add(note("ops", incident="INC-2"), created_at=clock())
    w2 = worker(store, cfg, session, clock, NotifyMetrics(CollectorRegistry()), lease_owner="b",
                lease_for=timedelta(seconds=60))
    await w2.tick()
    await w2.drain()
    assert store.state(second) == "delivered"
    assert store.state(first) == "pending"  # still leased by the dead process
    clock.advance(61)
    await w2.tick()
    await w2.drain()
    assert store.state(first) == "delivered"
    assert [r.json()["incident"]["id"] for r in recorder.at("/ops")] == ["INC-1", "INC-2", "INC-1"]
    await w2.close()


async def test_events_of_one_incident_go_out_one_at_a_time_in_order(
        recorder: Recorder, session: aiohttp.ClientSession, clock: VirtualClock,
        metrics: NotifyMetrics) -> None:
    gate = asyncio.Event()

    async def gated(req: Request) -> web.StreamResponse:
        if req.json()["event"] == "opened" and req.json()["incident"]["id"] == "INC-1":
            await gate.wait()
        return web.json_response({})

    recorder.handlers["/ops"] = gated
    store = MemoryOutbox()
    opened = store.add(note("ops", incident="INC-1"), created_at=clock())
    acked = store.add(note("ops", Event.ACKNOWLEDGED, incident="INC-1", seq=2), created_at=clock())
    other = store.add(note("ops", incident="INC-2"), created_at=clock())
    w = worker(store, "receivers:\n" + hook(recorder, "ops", concurrency=4), session, clock, metrics)
    await w.tick()
    await recorder.wait_for("/ops", 2)
    await asyncio.sleep(0)  # let INC-2's completion be recorded
    seen = [(r.json()["incident"]["id"], r.json()["event"]) for r in recorder.at("/ops")]
    assert seen == [("INC-1", "opened"), ("INC-2", "opened")]
    assert store.state(acked) == "pending"
    gate.set()
    await w.drain()
    seen = [(r.json()["incident"]["id"], r.json()["event"]) for r in recorder.at("/ops")]
    assert seen[-1] == ("INC-1", "acknowledged")
    assert {store.state(i) for i in (opened, acked, other)} == {"delivered"}
    await w.close()


async def test_rate_limit_spaces_deliveries(
        recorder: Recorder, session: aiohttp.ClientSession, clock: VirtualClock,
        metrics: NotifyMetrics) -> None:
    waits: list[float] = []

    async def virtual_sleep(seconds: float) -> None:
        waits.append(seconds)

    store = MemoryOutbox()
    items = [store.add(note("chat", incident=f"INC-{i}"), created_at=clock()) for i in range(3)]
    w = worker(store, "receivers:\n" + hook(recorder, "chat", rate_limit="2/m"), session, clock,
               metrics, sleep=virtual_sleep)
    await w.tick()
    await w.drain()
    assert waits == [30.0]  # two go at once (the burst), the third waits its turn
    assert all(store.state(i) == "delivered" for i in items)
    await w.close()
