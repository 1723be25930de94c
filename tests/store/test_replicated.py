"""Several replicas in one process on one PostgreSQL schema: one pipeline, the same incidents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ingestd.cmdb import Cmdb, load_cmdb
from ingestd.correlate.base import CorrelationSettings
from ingestd.correlate.per_ci import PerCiCorrelator
from ingestd.ids import new_incident_id
from ingestd.intake import alertmanager
from ingestd.intake.errors import Overloaded
from ingestd.pipeline.committer import Committer
from ingestd.pipeline.dispatch import CmdbDispatcher
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.replicated import NotLeader, ReplicatedCommitter
from ingestd.pipeline.sla import DefaultSla
from ingestd.pipeline.work import Action, Intake, Tick
from ingestd.store.codec import ts
from ingestd.store.postgres import PostgresStore
from ingestd.store.records import IncidentQuery
from ingestd.store.sqlite import SqliteStore

from .harness import SCENARIOS, evaluate, load_stream, summary, wait_processed

pytestmark = pytest.mark.postgres

SCENARIO = SCENARIOS / "s0001-boutique"


def processor_factory(cmdb: Cmdb) -> Callable[[], Processor]:
    def make() -> Processor:
        return Processor(cmdb, PerCiCorrelator(new_incident_id, CorrelationSettings()),
                         CmdbDispatcher(), DefaultSla(), lambda: datetime.now(UTC))
    return make


async def incidents_of(store: Any) -> list[dict[str, Any]]:
    from ingestd.domain import IncidentStatus

    rows = await store.list_incidents(IncidentQuery(status=tuple(IncidentStatus), limit=10_000))
    eps = await store.episodes_for([r.id for r in rows])
    return [{"id": r.id, "root_ci": r.root_ci,
             "alerts": [{"fingerprint": e.fingerprint, "starts_at": ts(e.starts_at)}
                        for e in eps[r.id]]} for r in rows]


@pytest.fixture
def bodies() -> list[Intake]:
    return [Intake(alertmanager.parse_body(b)) for b in load_stream(SCENARIO)]


@pytest.fixture
def cmdb() -> Cmdb:
    return load_cmdb(SCENARIO / "cmdb.yaml")


class Replicas:
    def __init__(self, url: str, cmdb: Cmdb) -> None:
        self.url = url
        self.cmdb = cmdb
        self.stores: list[PostgresStore] = []
        self.committers: list[ReplicatedCommitter] = []

    async def add(self, name: str) -> ReplicatedCommitter:
        store = PostgresStore(self.url, pool_min=1, pool_max=4)
        await store.open()
        c = ReplicatedCommitter(processor_factory(self.cmdb), store, holder=name,
                                poll=0.05, elect_every=0.05, action_timeout=10)
        await c.start()
        self.stores.append(store)
        self.committers.append(c)
        return c

    async def leader(self) -> ReplicatedCommitter:
        for _ in range(200):
            for c in self.committers:
                if c.leading:
                    return c
            await asyncio.sleep(0.02)
        raise AssertionError("no replica leads")

    async def close(self) -> None:
        for c in self.committers:
            await c.drain()
        for s in self.stores:
            await s.close()


@pytest.fixture
async def replicas(pg_url: str, cmdb: Cmdb) -> AsyncIterator[Replicas]:
    r = Replicas(pg_url, cmdb)
    yield r
    await r.close()


async def one_process(tmp_path: Path, cmdb: Cmdb, bodies: list[Intake]) -> dict[str, Any]:
    store = SqliteStore(tmp_path / "one.db")
    await store.open()
    c = Committer(processor_factory(cmdb), store)
    await c.start()
    for b in bodies:
        await c.submit(b)
    result = evaluate(SCENARIO, await incidents_of(store))
    await c.drain()
    await store.close()
    return summary(result)


async def test_bodies_spread_over_replicas_make_the_incidents_of_one_process(
        replicas: Replicas, tmp_path: Path, cmdb: Cmdb, bodies: list[Intake]) -> None:
    a, b, c = [await replicas.add(n) for n in ("a", "b", "c")]
    for i, body in enumerate(bodies):
        await (a, b, c)[(i * 7) % 3].submit(body)
    await wait_processed(replicas.url)

    got = summary(evaluate(SCENARIO, await incidents_of(replicas.stores[0])))
    assert got["lost"] == 0
    assert got == await one_process(tmp_path, cmdb, bodies)
    assert sum(x.leading for x in (a, b, c)) == 1


async def test_a_new_leader_takes_over_where_the_last_one_stopped(
        replicas: Replicas, tmp_path: Path, cmdb: Cmdb, bodies: list[Intake]) -> None:
    first = await replicas.add("first")
    assert await replicas.leader() is first
    second = await replicas.add("second")
    half = len(bodies) // 2
    for i, body in enumerate(bodies[:half]):
        await (first, second)[i % 2].submit(body)
    await wait_processed(replicas.url)
    await first.drain()  # the leader leaves: the follower leads on, from the store
    assert await replicas.leader() is second
    for body in bodies[half:]:
        await second.submit(body)
    await wait_processed(replicas.url)

    got = summary(evaluate(SCENARIO, await incidents_of(replicas.stores[1])))
    assert got == await one_process(tmp_path, cmdb, bodies)


async def test_actions_taken_by_a_follower_are_applied_by_the_leader(
        replicas: Replicas, bodies: list[Intake]) -> None:
    leader = await replicas.add("leader")
    await replicas.leader()
    follower = await replicas.add("follower")
    for body in bodies[:20]:
        await follower.submit(body)
    await wait_processed(replicas.url)
    inc = (await incidents_of(replicas.stores[1]))[0]["id"]

    res = await follower.submit(Action(inc, "acknowledge", "alice", "looking"))
    assert res.error is None
    rec = await replicas.stores[1].get_incident(inc)
    assert rec is not None and rec.status.value == "acknowledged"
    assert rec.acknowledged_by == "alice"
    again = await follower.submit(Action(inc, "acknowledge", "bob"))
    assert again.error is not None and again.error.status == 409
    missing = await follower.submit(Action("inc-nope", "resolve", "bob"))
    assert missing.error is not None and missing.error.status == 404

    with pytest.raises(NotLeader):
        await follower.submit(Tick(datetime.now(UTC)))
    await leader.submit(Tick(datetime.now(UTC)))


async def test_a_leader_whose_session_is_cut_loses_the_lease_and_nothing_is_lost(
        replicas: Replicas, tmp_path: Path, cmdb: Cmdb, bodies: list[Intake]) -> None:
    a = await replicas.add("a")
    await replicas.leader()
    b = await replicas.add("b")
    for i, body in enumerate(bodies):
        if i == len(bodies) // 3:
            # The database ends the leader's session (as a failover or an admin would).
            lease = (await replicas.leader())._lease
            assert lease is not None
            conn = await asyncpg.connect(replicas.url)
            await conn.execute("SELECT pg_terminate_backend($1)", lease.conn.get_server_pid())
            await conn.close()
        await (a, b)[i % 2].submit(body)
    await wait_processed(replicas.url)

    got = summary(evaluate(SCENARIO, await incidents_of(replicas.stores[0])))
    assert got == await one_process(tmp_path, cmdb, bodies)
    lead = await replicas.stores[0].leader()
    assert lead["epoch"] >= 2, "the lease changed hands"


async def test_intake_answers_503_when_the_store_is_gone(pg_url: str, cmdb: Cmdb,
                                                         bodies: list[Intake]) -> None:
    store = PostgresStore(pg_url.replace("127.0.0.1:5432", "127.0.0.1:1"), connect_timeout=1)
    c = ReplicatedCommitter(processor_factory(cmdb), store, elect_every=0.05)
    await c.start()
    with pytest.raises(Overloaded):
        await c.submit(bodies[0])
    with pytest.raises(Overloaded):  # failing fast while the store fails
        await c.submit(bodies[1])
    await c.drain()


def test_every_kind_of_work_comes_out_of_the_inbox_as_it_went_in(
        bodies: list[Intake]) -> None:
    from ingestd.pipeline.replicated import decode_work, encode_work
    from ingestd.pipeline.work import ProblemAction, ReportChange, SetWindow
    from ingestd.store.records import ChangeRecord

    change = ChangeRecord("cart", "deploy v2", datetime(2026, 1, 5, 8, tzinfo=UTC),
                          author="ci", link="http://ci/1",
                          created_at=datetime(2026, 1, 5, 8, 1, tzinfo=UTC))
    for work in [bodies[0], Action("inc-1", "assign", "bob", "yours", "carol"),
                 ReportChange(change), ProblemAction("prb-1", "note", "bob", "see KB-7"),
                 SetWindow({"name": "patching", "end": "2026-01-05T10:00:00Z"}, False)]:
        assert decode_work(*encode_work(work)) == work
