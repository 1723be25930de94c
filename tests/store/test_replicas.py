"""``ingestd serve`` replicas on one PostgreSQL: the guarantees of one process.

Real subprocesses, real HTTP, the scenario's bodies spread over the replicas
at random (each copy of an HA pair to a different replica).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    SCENARIOS,
    ReplicaSet,
    evaluate,
    fetch_incidents,
    load_stream,
    pg_fetch,
    post_spread,
    summary,
    wait_processed,
)

pytestmark = pytest.mark.postgres

SCENARIO = SCENARIOS / "s0001-boutique"


async def one_process(daemon_factory: Any, tmp_path: Path) -> dict[str, Any]:
    rules = tmp_path / "no-rules"
    rules.mkdir(exist_ok=True)
    one = daemon_factory(cmdb=SCENARIO / "cmdb.yaml", tmp=tmp_path, extra=["--rules", str(rules)])
    one.start()
    stats = await post_spread(load_stream(SCENARIO), [one.url])
    assert stats.ok == stats.posted
    result = summary(evaluate(SCENARIO, await fetch_incidents(one.url)))
    one.stop()
    return result


@pytest.fixture
async def replica_sets(pg_url: str, tmp_path: Path) -> Any:
    started: list[ReplicaSet] = []

    def make(count: int) -> ReplicaSet:
        rs = ReplicaSet(pg_url, SCENARIO / "cmdb.yaml", tmp_path, count)
        started.append(rs)
        rs.start()
        return rs

    yield make
    for rs in started:
        rs.stop()


async def test_two_and_three_replicas_score_as_one_process(
        replica_sets: Any, daemon_factory: Any, tmp_path: Path, pg_url: str) -> None:
    baseline = await one_process(daemon_factory, tmp_path)
    assert baseline["lost"] == 0

    rs = replica_sets(3)
    stream = load_stream(SCENARIO)
    two = await post_spread(stream, rs.urls[:2], seed=2)
    assert two.ok == len(stream)
    await wait_processed(pg_url)
    assert summary(evaluate(SCENARIO, await fetch_incidents(rs.urls[2]))) == baseline

    await pg_fetch(pg_url, "TRUNCATE alerts, episodes, incidents, incident_cis, timeline,"
                           " outbox, timers, inbox")
    for r in rs.replicas:  # the leader keeps state in memory: start the three afresh
        rs.kill(r)
    fresh = replica_sets(3)
    three = await post_spread(stream, fresh.urls, seed=3)
    assert three.ok == len(stream)
    await wait_processed(pg_url)
    assert summary(evaluate(SCENARIO, await fetch_incidents(fresh.urls[0]))) == baseline


async def test_a_killed_leader_is_replaced_and_its_timers_fire_once(
        replica_sets: Any, daemon_factory: Any, tmp_path: Path, pg_url: str) -> None:
    baseline = await one_process(daemon_factory, tmp_path)
    rs = replica_sets(3)
    stream = load_stream(SCENARIO)
    half = len(stream) // 2
    first = await post_spread(stream[:half], rs.urls, seed=5)
    assert first.ok == half
    await wait_processed(pg_url)

    # Every pending SLA timer comes due two seconds from now; then the leader dies.
    armed = await pg_fetch(pg_url, "UPDATE timers SET due_at = now() + interval '2 seconds'"
                                   " WHERE state = 'pending'"
                                   " RETURNING id, incident_id")
    assert armed, "the scenario's incidents armed SLA timers"
    leader = await rs.leader()
    rs.kill(leader)
    rest = await post_spread(stream[half:], rs.urls, seed=6)  # a dead replica is skipped
    assert rest.ok == len(stream) - half
    await wait_processed(pg_url)
    assert (await rs.leader()) is not leader

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pending = await pg_fetch(pg_url, "SELECT COUNT(*) FROM timers WHERE id = ANY($1)"
                                         " AND state = 'pending'", [r[0] for r in armed])
        if pending[0][0] == 0:
            break
        await asyncio.sleep(0.2)
    fired = await pg_fetch(
        pg_url, "SELECT incident_id, detail, COUNT(*) FROM timeline"
                " WHERE kind = 'sla_breached' GROUP BY incident_id, detail")
    counts = {(r[0], r[1]): r[2] for r in fired}
    states = await pg_fetch(pg_url, "SELECT state, incident_id FROM timers WHERE id = ANY($1)",
                            [r[0] for r in armed])
    assert all(state in ("fired", "cancelled") for state, _ in states), \
        "every armed timer was taken over"
    assert counts and set(counts.values()) == {1}, f"each breach told once: {counts}"

    live = next(r.url for r in rs.replicas if r.alive)
    assert summary(evaluate(SCENARIO, await fetch_incidents(live))) == baseline
