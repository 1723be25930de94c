"""The committer processes the next batch while one is written, and answers it only after.

A batch processed on top of one whose write then fails is refused with it, and the state
is rebuilt from the store: nothing either batch held is believed stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestd.correlate.per_ci import PerCiCorrelator
from ingestd.domain import Alert, AlertStatus, frozen_labels
from ingestd.ids import new_incident_id
from ingestd.intake.errors import Overloaded
from ingestd.intake.fingerprint import fingerprint
from ingestd.pipeline.committer import Committer
from ingestd.pipeline.dispatch import CmdbDispatcher
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.sla import DefaultSla
from ingestd.pipeline.work import Intake, Result
from ingestd.store.base import StoreError
from ingestd.store.records import WriteBatch
from ingestd.store.sqlite import SqliteStore

from .test_processor import CMDB


def processor() -> Processor:
    return Processor(CMDB, PerCiCorrelator(new_incident_id), CmdbDispatcher(), DefaultSla(),
                     lambda: datetime.now(UTC))


def alert(name: str, starts: datetime | None = None, ends: datetime | None = None) -> Alert:
    labels = {"alertname": name, "instance": "node-1:9100", "severity": "critical"}
    return Alert(fingerprint(labels), AlertStatus.RESOLVED if ends else AlertStatus.FIRING,
                 frozen_labels(labels), frozen_labels({}), starts or datetime.now(UTC), ends)


class GatedStore(SqliteStore):
    """Holds each write until the test opens the gate; can fail one instead of writing it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = asyncio.Event()
        self.writing = asyncio.Event()
        self.fail_next = False

    async def apply(self, batch: WriteBatch) -> None:
        if batch:
            self.writing.set()
            await self.gate.wait()
            if self.fail_next:
                self.fail_next = False
                raise StoreError("SQLite: disk I/O error (injected)")
        await super().apply(batch)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[GatedStore]:
    s = GatedStore(tmp_path / "c.db")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def committer(store: GatedStore) -> AsyncIterator[Committer]:
    c = Committer(processor, store)
    await c.start()
    yield c
    store.gate.set()
    await c.drain()


async def two_batches(c: Committer, store: GatedStore, first: Alert, second: Alert
                      ) -> tuple[asyncio.Task[Result], asyncio.Task[Result]]:
    """Submit ``first``; once it is being written, ``second``; wait until that is processed."""
    one = asyncio.create_task(c.submit(Intake([first])))
    await asyncio.wait_for(store.writing.wait(), 5)
    two = asyncio.create_task(c.submit(Intake([second])))
    for _ in range(500):
        if c.processor.tracker.get(second.fingerprint) is not None:
            break
        await asyncio.sleep(0.001)
    assert c.processor.tracker.get(second.fingerprint) is not None, "not processed meanwhile"
    return one, two


async def test_the_next_batch_is_processed_during_a_write_and_answered_after_it(
        committer: Committer, store: GatedStore) -> None:
    a, b = alert("A"), alert("B")
    one, two = await two_batches(committer, store, a, b)
    await asyncio.sleep(0.01)
    assert not one.done() and not two.done()  # neither is stored yet
    store.gate.set()
    assert (await one).new == 1 and (await two).new == 1
    stored = {k.fingerprint for k in await store.lookup_alerts([a.fingerprint, b.fingerprint])}
    assert stored == {a.fingerprint, b.fingerprint}


async def test_a_failed_write_refuses_the_batch_processed_on_top_of_it_too(
        committer: Committer, store: GatedStore) -> None:
    a, b = alert("A"), alert("B")
    one, two = await two_batches(committer, store, a, b)
    store.fail_next = True
    store.gate.set()
    for task in (one, two):
        with pytest.raises(Overloaded, match="store error"):
            await task
    assert await store.lookup_alerts([a.fingerprint, b.fingerprint]) == []
    # the state was rebuilt from the store: neither alert is known, so both come back new
    assert committer.processor.tracker.get(a.fingerprint) is None
    assert committer.processor.tracker.get(b.fingerprint) is None
    await asyncio.sleep(1.0)  # a failing store refuses bodies for a second
    again = await committer.submit(Intake([b, a]))
    assert (again.new, again.repeats) == (2, 0)
    stored = {k.fingerprint for k in await store.lookup_alerts([a.fingerprint, b.fingerprint])}
    assert stored == {a.fingerprint, b.fingerprint}


async def test_a_failed_write_with_nothing_behind_it_is_rebuilt_before_the_next_batch(
        committer: Committer, store: GatedStore) -> None:
    a = alert("A")
    one = asyncio.create_task(committer.submit(Intake([a])))
    await asyncio.wait_for(store.writing.wait(), 5)
    store.fail_next = True
    store.gate.set()
    with pytest.raises(Overloaded):
        await one
    await asyncio.sleep(1.0)
    assert (await committer.submit(Intake([a]))).new == 1  # not taken for a re-send


async def test_a_resend_of_an_alert_resolved_days_ago_is_no_new_alert_after_a_restart(
        tmp_path: Path) -> None:
    """Memory holds the last two days; older alerts are looked up in the store."""
    now = datetime.now(UTC)
    old = alert("DiskFull", now - timedelta(days=10), now - timedelta(days=9))
    store = SqliteStore(tmp_path / "i.db")
    await store.open()
    c = Committer(processor, store)
    await c.start()
    assert (await c.submit(Intake([old]))).new == 1
    await c.drain()
    await store.close()

    store = SqliteStore(tmp_path / "i.db")  # a restart
    await store.open()
    c = Committer(processor, store)
    await c.start()
    try:
        assert c.processor.tracker.get(old.fingerprint) is None
        fresh = alert("NodeDown")
        res = await c.submit(Intake([old, fresh]))
        assert (res.new, res.repeats) == (1, 1), "the old alert came back as new"
    finally:
        await c.drain()
        await store.close()
