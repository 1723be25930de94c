"""A store an older ingestd made, with rows in it, opens on the newest schema and reads the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ingestd.store import postgres, sqlite
from ingestd.store.records import WriteBatch

from .conftest import make_store
from .test_store import alert, at, episode, first_batch, incident

SCHEMA_3 = 3
"""The schema before episodes lost their index by fingerprint."""


def later_batch() -> WriteBatch:
    """Updates on top of :func:`first_batch`: a re-send, an ending, a second incident."""
    b = WriteBatch()
    b.seen_only["aaaa"] = (2, at(4))
    b.episode_ends["aaaa@0"] = at(6)
    b.alerts["cccc"] = alert("cccc", 3)
    b.episodes["cccc@3"] = episode("cccc@3", "inc-2", 3, ci="redis")
    b.incidents["inc-2"] = incident("inc-2", 3, cis=["redis"])
    return b


async def what_it_reads(store: Any) -> dict[str, Any]:
    """Everything a reader gets back about alerts and episodes, in a comparable form."""
    alerts = sorted(await store.load_alerts(), key=lambda a: a.fingerprint)
    episodes = await store.episodes_for(["inc-1", "inc-2"])
    return {"alerts": alerts, "episodes": episodes, "counts": await store.counts(),
            "timeline": await store.incident_timeline("inc-1")}


async def open_at_schema_3(kind: str, tmp_path: Path, url: str | None,
                           monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Make a store with the first three migrations only, fill it; what it read before closing."""
    module: Any = sqlite if kind == "sqlite" else postgres
    with monkeypatch.context() as m:
        m.setattr(module, "MIGRATIONS", module.MIGRATIONS[:SCHEMA_3])
        old = make_store(kind, tmp_path, url)
        await old.open()
        try:
            await old.apply(first_batch())
            await old.apply(later_batch())
            return await what_it_reads(old)
        finally:
            await old.close()


async def test_a_schema_3_store_migrates_and_reads_the_same(
        store_kind: str, store_url: str | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    before = await open_at_schema_3(store_kind, tmp_path, store_url, monkeypatch)
    assert before["counts"]["episodes"] == 3

    store = make_store(store_kind, tmp_path, store_url)
    await store.open()
    try:
        assert await what_it_reads(store) == before
        more = WriteBatch()  # and it takes new writes on the new schema
        more.episodes["dddd@9"] = episode("dddd@9", "inc-2", 9)
        more.episode_ends["cccc@3"] = at(10)
        await store.apply(more)
        eps = {e.key: e for e in (await store.episodes_for(["inc-2"]))["inc-2"]}
        assert sorted(eps) == ["cccc@3", "dddd@9"] and eps["cccc@3"].ends_at == at(10)
    finally:
        await store.close()

    version, indexes = (_sqlite_schema(tmp_path / "ingestd.db") if store_kind == "sqlite"
                        else await _postgres_schema(store_url or ""))
    assert version == len(sqlite.MIGRATIONS if store_kind == "sqlite" else postgres.MIGRATIONS)
    assert "episodes_fingerprint" not in indexes
    assert "episodes_incident" in indexes


def _sqlite_schema(path: Path) -> tuple[int, set[str]]:
    db = sqlite3.connect(path)
    try:
        version = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        return version, indexes
    finally:
        db.close()


async def _postgres_schema(url: str) -> tuple[int, set[str]]:
    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval("SELECT MAX(version) FROM schema_version")
        rows = await conn.fetch("SELECT indexname FROM pg_indexes"
                                " WHERE schemaname = current_schema()")
        return version, {r[0] for r in rows}
    finally:
        await conn.close()


async def test_every_episode_and_alert_read_uses_an_index(tmp_path: Path) -> None:
    """The indexes that stay are the ones the reads need: no full scan of a big table."""
    store = sqlite.SqliteStore(tmp_path / "ingestd.db")
    await store.open()
    await store.close()
    db = sqlite3.connect(tmp_path / "ingestd.db")
    try:
        reads = {
            "episodes by incident": "SELECT key FROM episodes WHERE incident_id IN (?, ?)",
            "an episode's ending": "UPDATE episodes SET ends_at = ? WHERE key = ?",
            "a merge": "UPDATE episodes SET incident_id = ? WHERE incident_id = ?",
            "alerts by fingerprint": "SELECT seen FROM alerts WHERE fingerprint IN (?, ?)",
            "a re-send": "UPDATE alerts SET seen = seen + ? WHERE fingerprint = ?",
            "a timeline": "SELECT kind FROM timeline WHERE incident_id = ? ORDER BY id",
        }
        for what, sql in reads.items():
            plan = " ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                        (1,) * sql.count("?")))
            assert "USING" in plan and not plan.startswith("SCAN"), (what, plan)
    finally:
        db.close()
