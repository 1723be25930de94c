"""The store interface, the same on SQLite and PostgreSQL: what a batch writes is what reads see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingestd.domain import IncidentStatus, Priority
from ingestd.store.records import (
    AlertRecord,
    EpisodeRecord,
    IncidentQuery,
    IncidentRecord,
    OutboxRecord,
    TimelineRecord,
    TimerRecord,
    WriteBatch,
)

from .conftest import make_store

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def incident(iid: str, minute: float, *, status: IncidentStatus = IncidentStatus.OPEN,
             team: str | None = "infra", priority: Priority = Priority.P2,
             cis: list[str] | None = None, **kw: Any) -> IncidentRecord:
    return IncidentRecord(id=iid, status=status, opened_at=at(minute), updated_at=at(minute),
                          created_at=at(minute), title=f"NodeDown on {iid}", priority=priority,
                          root_ci=(cis or ["node-1"])[0], cis=cis or ["node-1"], team=team,
                          labels={"alertname": "NodeDown", "severity": "critical"}, **kw)


def episode(key: str, incident_id: str, minute: float, ci: str = "node-1") -> EpisodeRecord:
    return EpisodeRecord(key=key, fingerprint=key.split("@")[0], incident_id=incident_id,
                         starts_at=at(minute), ends_at=None, ci=ci, alertname="NodeDown",
                         severity="critical", labels={"instance": f"{ci}:9100"})


def alert(fp: str, minute: float) -> AlertRecord:
    return AlertRecord(fingerprint=fp, source="alertmanager",
                       labels={"alertname": "NodeDown", "instance": "node-1:9100"},
                       annotations={"summary": "node-1 is down ✓"}, status="firing",
                       starts_at=at(minute), ends_at=None, episode=f"{fp}@{minute}",
                       last_seen=at(minute), generator_url="http://prom/graph")


def first_batch() -> WriteBatch:
    b = WriteBatch()
    b.alerts["aaaa"] = alert("aaaa", 0)
    b.alerts["bbbb"] = alert("bbbb", 1)
    b.episodes["aaaa@0"] = episode("aaaa@0", "inc-1", 0)
    b.episodes["bbbb@1"] = episode("bbbb@1", "inc-1", 1, ci="cart")
    b.incidents["inc-1"] = incident("inc-1", 0, cis=["node-1", "cart"], alert_count=2)
    b.timeline.append(TimelineRecord("inc-1", at(0), "opened", "ingestd", {"why": "new"}))
    b.timeline.append(TimelineRecord("inc-1", at(1), "alert", "ingestd", {"fp": "bbbb"}))
    b.outbox.append(OutboxRecord("slack-infra", "inc-1:1:opened:slack-infra", "inc-1", "opened",
                                 {"event": "opened", "incident": {"id": "inc-1"}}, at(0)))
    b.timers.append(TimerRecord("inc-1", "sla_ack", 0, at(15), "infra"))
    return b


def item_id(item: Any) -> int:
    """Outbox claims are OutboxItem objects (PostgreSQL) or rows as dicts (SQLite)."""
    return int(item["id"] if isinstance(item, dict) else item.id)


async def test_a_batch_reads_back_through_every_read(store: Any) -> None:
    await store.apply(first_batch())

    rec = await store.get_incident("inc-1")
    assert rec is not None
    assert (rec.status, rec.priority, rec.root_ci, rec.cis, rec.team) == (
        IncidentStatus.OPEN, Priority.P2, "node-1", ["node-1", "cart"], "infra")
    assert rec.opened_at == T0 and rec.created_at == T0
    assert rec.labels == {"alertname": "NodeDown", "severity": "critical"}
    eps = await store.incident_episodes("inc-1")
    assert sorted((e.key, e.ci, e.starts_at) for e in eps) == [
        ("aaaa@0", "node-1", at(0)), ("bbbb@1", "cart", at(1))]
    timeline = await store.incident_timeline("inc-1")
    assert [(t.kind, t.detail, t.at) for t in timeline] == [
        ("opened", {"why": "new"}, at(0)), ("alert", {"fp": "bbbb"}, at(1))]
    assert await store.counts() == {"alerts": 2, "episodes": 2, "incidents": 1, "timeline": 2,
                                    "outbox": 1, "timers": 1}
    alerts = {a.fingerprint: a for a in await store.load_alerts()}
    assert alerts["aaaa"].starts_at == T0 and alerts["aaaa"].seen == 1
    assert (await store.get_incident("nope")) is None
    assert await store.integrity_check() == "ok"


async def test_repeats_endings_and_merges_update_rows(store: Any) -> None:
    await store.apply(first_batch())
    b = WriteBatch()
    b.seen_only["aaaa"] = (3, at(5))
    b.episode_ends["aaaa@0"] = at(6)
    b.incidents["inc-2"] = incident("inc-2", 2, cis=["redis"])
    b.episodes["cccc@2"] = episode("cccc@2", "inc-2", 2, ci="redis")
    await store.apply(b)
    merge = WriteBatch()
    merge.moves.append(("inc-2", "inc-1"))
    gone = incident("inc-2", 2, cis=["redis"], status=IncidentStatus.CLOSED, merged_into="inc-1")
    merge.incidents["inc-2"] = gone
    await store.apply(merge)

    alerts = {a.fingerprint: a for a in await store.load_alerts()}
    assert alerts["aaaa"].seen == 4 and alerts["aaaa"].last_seen == at(5)
    eps = {e.key: e for e in await store.incident_episodes("inc-1")}
    assert set(eps) == {"aaaa@0", "bbbb@1", "cccc@2"}
    assert eps["aaaa@0"].ends_at == at(6)
    assert await store.incident_episodes("inc-2") == []
    listed = await store.list_incidents(IncidentQuery(status=tuple(IncidentStatus)))
    assert [r.id for r in listed] == ["inc-1"], "a merged incident is not listed"
    by_ci = await store.list_incidents(IncidentQuery(ci="redis"))
    assert [r.id for r in by_ci] == ["inc-1"], "the merge carried the CIs over"


async def test_listing_filters_and_pages_newest_first(store: Any) -> None:
    b = WriteBatch()
    b.incidents["a"] = incident("a", 0, team="infra", priority=Priority.P1)
    b.incidents["b"] = incident("b", 5, team="shop", priority=Priority.P3, cis=["cart"])
    b.incidents["c"] = incident("c", 5, team="shop", priority=Priority.P3, cis=["cart"])
    b.incidents["d"] = incident("d", 9, status=IncidentStatus.RESOLVED, resolved_at=at(20))
    b.incidents["e"] = incident("e", 12, status=IncidentStatus.ACKNOWLEDGED, team="db",
                                priority=Priority.P0, cis=["pg"])
    await store.apply(b)

    def ids(rows: list[IncidentRecord]) -> list[str]:
        return [r.id for r in rows]

    assert ids(await store.list_incidents(IncidentQuery())) == ["e", "c", "b", "a"]
    every = IncidentQuery(status=tuple(IncidentStatus))
    assert ids(await store.list_incidents(every)) == ["e", "d", "c", "b", "a"]
    assert ids(await store.list_incidents(IncidentQuery(team="shop"))) == ["c", "b"]
    assert ids(await store.list_incidents(IncidentQuery(priority=("P0", "P1")))) == ["e", "a"]
    assert ids(await store.list_incidents(IncidentQuery(ci="cart"))) == ["c", "b"]
    assert ids(await store.list_incidents(IncidentQuery(since=at(5)))) == ["e", "c", "b"]
    pages: list[str] = []
    cursor = None
    while True:
        page = await store.list_incidents(IncidentQuery(status=tuple(IncidentStatus), limit=2,
                                                        cursor=cursor))
        pages += ids(page)
        if len(page) < 2:
            break
        cursor = (page[-1].opened_at, page[-1].id)
    assert pages == ["e", "d", "c", "b", "a"], "pages cover each incident once, ties by id"


async def test_state_survives_a_restart(store_kind: str, store_url: str | None,
                                        tmp_path: Path) -> None:
    first = make_store(store_kind, tmp_path, store_url)
    await first.open()
    b = first_batch()
    b.incidents["old"] = incident("old", -3000, status=IncidentStatus.RESOLVED,
                                  resolved_at=at(-2900))
    b.incidents["recent"] = incident("recent", 0, status=IncidentStatus.RESOLVED,
                                     resolved_at=at(30))
    await first.apply(b)
    await first.close()

    again = make_store(store_kind, tmp_path, store_url)
    await again.open()  # migrations already applied: nothing to do, nothing lost
    try:
        active = await again.load_active_incidents(at(-60))
        assert sorted(r.id for r in active) == ["inc-1", "recent"]
        eps = await again.load_episodes(["inc-1", "recent"])
        assert sorted(e.key for e in eps) == ["aaaa@0", "bbbb@1"]
        assert (await again.counts())["alerts"] == 2
    finally:
        await again.close()


async def test_timers_come_due_and_stop(store: Any) -> None:
    b = WriteBatch()
    b.incidents["inc-1"] = incident("inc-1", 0)
    b.incidents["inc-2"] = incident("inc-2", 0)
    b.timers += [TimerRecord("inc-1", "sla_ack", 0, at(5), "infra"),
                 TimerRecord("inc-1", "sla_resolve", 0, at(60), "infra"),
                 TimerRecord("inc-2", "sla_ack", 0, at(10), "shop")]
    await store.apply(b)

    assert [(t.incident_id, t.kind) for t in await store.due_timers(at(4), 10)] == []
    due = await store.due_timers(at(10), 10)
    assert [(t.incident_id, t.kind, t.due_at, t.target) for t in due] == [
        ("inc-1", "sla_ack", at(5), "infra"), ("inc-2", "sla_ack", at(10), "shop")]

    fired = WriteBatch()
    fired.fired_timers.append(due[0].id)
    fired.cancel_timers.add(("inc-2", "*"))
    await store.apply(fired)
    assert await store.due_timers(at(100), 10) == [
        t for t in await store.due_timers(at(100), 10) if t.kind == "sla_resolve"]
    assert [t.incident_id for t in await store.due_timers(at(100), 10)] == ["inc-1"]

    rearm = WriteBatch()  # arming again never re-fires a timer that fired
    rearm.timers.append(TimerRecord("inc-1", "sla_ack", 0, at(200), "infra"))
    rearm.timers.append(TimerRecord("inc-2", "sla_ack", 0, at(200), "shop"))
    await store.apply(rearm)
    assert sorted((t.incident_id, t.kind) for t in await store.due_timers(at(300), 10)) == [
        ("inc-1", "sla_resolve"), ("inc-2", "sla_ack")]


async def test_outbox_is_idempotent_and_leased(store: Any) -> None:
    b = first_batch()
    b.outbox.append(b.outbox[0])  # the same notification twice: one row
    b.outbox.append(OutboxRecord("mail-ops", "inc-1:1:opened:mail-ops", "inc-1", "opened",
                                 {"event": "opened"}, at(0)))
    await store.apply(b)
    assert (await store.counts())["outbox"] == 2

    now = at(1)
    mine = await store.claim_due(now, 10, "replica-a", timedelta(minutes=2))
    assert len(mine) == 2
    assert await store.claim_due(now, 10, "replica-b", timedelta(minutes=2)) == [], \
        "a leased item is not handed to another replica"
    await store.mark_delivered(item_id(mine[0]), now)
    # replica-a dies holding the other lease: when it runs out, replica-b takes the item
    later = now + timedelta(minutes=3)
    taken = await store.claim_due(later, 10, "replica-b", timedelta(minutes=2))
    assert [item_id(i) for i in taken] == [item_id(mine[1])]
    await store.mark_retry(item_id(taken[0]), later + timedelta(minutes=10), "502", 1)
    assert await store.claim_due(later + timedelta(minutes=5), 10, "c", timedelta(minutes=2)) == []
    again = await store.claim_due(later + timedelta(minutes=11), 10, "c", timedelta(minutes=2))
    assert [item_id(i) for i in again] == [item_id(mine[1])]
    await store.mark_dead(item_id(again[0]), later, "410 gone")
    rows = {r["id"]: r for r in await store.outbox_rows(None, 10)}
    assert rows[item_id(mine[0])]["state"] == "delivered"
    assert rows[item_id(mine[1])]["state"] == "dead"
    assert rows[item_id(mine[1])]["last_error"] == "410 gone"
    assert [r["id"] for r in await store.outbox_rows("dead", 10)] == [item_id(mine[1])]


async def test_changes_problems_and_windows_read_back(store: Any) -> None:
    from ingestd.store.records import ChangeRecord, ProblemRecord

    b = WriteBatch()
    b.changes += [ChangeRecord("cart", "deploy v2", at(-10), author="ci", created_at=at(-10)),
                  ChangeRecord("node-1", "kernel update", at(-5), kind="config",
                               created_at=at(-5))]
    b.problems["prb-1"] = ProblemRecord("prb-1", "open", "node-1", "NodeDown@node-1", at(0),
                                        team="infra", incidents=["inc-1", "inc-2"])
    b.windows["patching"] = {"name": "patching", "end": "2026-01-05T10:00:00Z", "cis": ["db"]}
    b.windows["old"] = {"name": "old", "end": "2026-01-05T09:00:00Z", "cis": []}
    b.incidents["inc-1"] = incident("inc-1", 0, status=IncidentStatus.RESOLVED,
                                    resolved_at=at(30))
    await store.apply(b)
    ended = WriteBatch()
    ended.windows["old"] = {}
    await store.apply(ended)

    assert [c.summary for c in await store.list_changes(None, None, 10)] == [
        "kernel update", "deploy v2"]
    assert [c.summary for c in await store.list_changes("cart", None, 10)] == ["deploy v2"]
    assert await store.list_changes(None, at(-6), 10) == [
        c for c in await store.list_changes(None, None, 10) if c.ci == "node-1"]
    problem = await store.get_problem("prb-1")
    assert problem is not None and problem.incidents == ["inc-1", "inc-2"]
    assert [p.id for p in await store.list_problems("open", 10)] == ["prb-1"]
    assert await store.list_problems("closed", 10) == []
    assert [r.id for r in await store.resolved_with_roots(["node-1"], 10)] == ["inc-1"]
    assert [w["name"] for w in await store.list_windows()] == ["patching"]
