"""The embedded store: SQLite in WAL mode through aiosqlite.

One connection writes (batches, in ``BEGIN IMMEDIATE`` transactions with
``synchronous=FULL``), another reads, so API reads never wait for a commit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from ingestd.notify.outbox import OutboxItem
from ingestd.store.base import StoreError, StoreFull
from ingestd.store.codec import (
    change_from_row,
    dumps,
    incident_doc,
    incident_from_doc,
    loads,
    parse_ts,
    problem_doc,
    problem_from_doc,
    ts,
)
from ingestd.store.records import (
    AlertRecord,
    ChangeRecord,
    DueTimer,
    EpisodeRecord,
    IncidentQuery,
    IncidentRecord,
    ProblemRecord,
    TimelineRecord,
    WriteBatch,
)

MIGRATIONS = ["sqlite_0001_initial.sql", "sqlite_0002_context.sql",
              "sqlite_0003_maintenance.sql"]


def _wrap(e: Exception) -> StoreError:
    text = str(e).lower()
    if "full" in text or "disk i/o" in text or "no space" in text:
        return StoreFull(f"SQLite: {e}")
    return StoreError(f"SQLite: {e}")


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._w: aiosqlite.Connection | None = None
        self._r: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        """One transaction at a time on the writer connection (batches, outbox, timers)."""

    @property
    def w(self) -> aiosqlite.Connection:
        assert self._w is not None, "store not open"
        return self._w

    @property
    def r(self) -> aiosqlite.Connection:
        assert self._r is not None, "store not open"
        return self._r

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._w = await aiosqlite.connect(self.path, isolation_level=None)
        await self.w.execute("PRAGMA journal_mode=WAL")
        await self.w.execute("PRAGMA synchronous=FULL")
        await self.w.execute("PRAGMA busy_timeout=5000")
        await self._migrate()
        # One process owns an SQLite store: leases of a previous (crashed) run are void.
        await self.w.execute("UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
                             " WHERE state = 'pending' AND lease_owner IS NOT NULL")
        self._r = await aiosqlite.connect(self.path, isolation_level=None)
        await self.r.execute("PRAGMA busy_timeout=5000")
        await self.r.execute("PRAGMA query_only=1")

    async def close(self) -> None:
        for conn in (self._r, self._w):
            if conn is not None:
                await conn.close()
        self._r = self._w = None

    async def _migrate(self) -> None:
        await self.w.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with self.w.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        current = (row[0] if row else None) or 0
        pkg = resources.files("ingestd.store.migrations")
        for version, name in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            script = pkg.joinpath(name).read_text(encoding="utf-8")
            await self.w.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nINSERT INTO schema_version VALUES ({version});\nCOMMIT;"
            )

    # -- writes -----------------------------------------------------------------------

    async def apply(self, batch: WriteBatch) -> None:
        if not batch:
            return
        async with self._write_lock:
            await self._apply(batch)

    async def _apply(self, batch: WriteBatch) -> None:
        try:
            await self.w.execute("BEGIN IMMEDIATE")
            try:
                await self._write(batch)
                await self.w.execute("COMMIT")
            except BaseException:
                if self.w.in_transaction:  # SQLite rolls back by itself on SQLITE_FULL
                    await self.w.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise _wrap(e) from e

    async def _write(self, b: WriteBatch) -> None:
        w = self.w
        if b.alerts:
            await w.executemany(
                "INSERT INTO alerts (fingerprint, source, labels, annotations, status, starts_at,"
                " ends_at, episode, last_seen, seen, generator_url) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (fingerprint) DO UPDATE SET source=excluded.source,"
                " labels=excluded.labels, annotations=excluded.annotations, status=excluded.status,"
                " starts_at=excluded.starts_at, ends_at=excluded.ends_at, episode=excluded.episode,"
                " last_seen=excluded.last_seen, seen=excluded.seen,"
                " generator_url=excluded.generator_url",
                [
                    (a.fingerprint, a.source, dumps(a.labels), dumps(a.annotations), a.status,
                     ts(a.starts_at), ts(a.ends_at), a.episode, ts(a.last_seen), a.seen,
                     a.generator_url)
                    for a in b.alerts.values()
                ],
            )
        if b.seen_only:
            await w.executemany(
                "UPDATE alerts SET seen = seen + ?, last_seen = MAX(last_seen, ?) WHERE fingerprint = ?",
                [(n, ts(at), fp) for fp, (n, at) in b.seen_only.items() if fp not in b.alerts],
            )
        if b.episodes:
            await w.executemany(
                "INSERT INTO episodes (key, fingerprint, incident_id, starts_at, ends_at, ci,"
                " alertname, severity, labels) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (key) DO UPDATE SET incident_id=excluded.incident_id,"
                " ends_at=excluded.ends_at",
                [
                    (e.key, e.fingerprint, e.incident_id, ts(e.starts_at), ts(e.ends_at), e.ci,
                     e.alertname, e.severity, dumps(e.labels))
                    for e in b.episodes.values()
                ],
            )
        if b.episode_ends:
            await w.executemany(
                "UPDATE episodes SET ends_at = ? WHERE key = ?",
                [(ts(at), key) for key, at in b.episode_ends.items()],
            )
        if b.moves:
            await w.executemany(
                "UPDATE episodes SET incident_id = ? WHERE incident_id = ?",
                [(target, source) for source, target in b.moves],
            )
            await w.executemany(
                "INSERT OR IGNORE INTO incident_cis (incident_id, ci)"
                " SELECT ?, ci FROM incident_cis WHERE incident_id = ?",
                [(target, source) for source, target in b.moves],
            )
        if b.incidents:
            await w.executemany(
                "INSERT INTO incidents (id, status, opened_at, updated_at, doc, priority, team,"
                " root_ci, resolved_at, merged_into) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (id) DO UPDATE SET status=excluded.status,"
                " updated_at=excluded.updated_at, doc=excluded.doc, priority=excluded.priority,"
                " team=excluded.team, root_ci=excluded.root_ci, resolved_at=excluded.resolved_at,"
                " merged_into=excluded.merged_into",
                [
                    (i.id, i.status.value, ts(i.opened_at), ts(i.updated_at), incident_doc(i),
                     i.priority.value, i.team, i.root_ci, ts(i.resolved_at), i.merged_into)
                    for i in b.incidents.values()
                ],
            )
            await w.executemany(
                "INSERT OR IGNORE INTO incident_cis (incident_id, ci) VALUES (?, ?)",
                [(i.id, ci) for i in b.incidents.values() for ci in i.cis],
            )
        if b.timeline:
            await w.executemany(
                "INSERT INTO timeline (incident_id, at, kind, actor, detail) VALUES (?,?,?,?,?)",
                [(t.incident_id, ts(t.at), t.kind, t.actor, dumps(t.detail)) for t in b.timeline],
            )
        if b.outbox:
            await w.executemany(
                "INSERT OR IGNORE INTO outbox (receiver, idempotency_key, incident_id, event,"
                " payload, next_attempt_at, created_at) VALUES (?,?,?,?,?,?,?)",
                [
                    (o.receiver, o.idempotency_key, o.incident_id, o.event, dumps(o.payload),
                     ts(o.created_at), ts(o.created_at))
                    for o in b.outbox
                ],
            )
        if b.cancel_timers:
            await w.executemany(
                "UPDATE timers SET state = 'cancelled' WHERE incident_id = ? AND state = 'pending'"
                " AND (kind = ? OR ? = '*')",
                [(i, kind, kind) for i, kind in b.cancel_timers],
            )
        if b.timers:
            await w.executemany(
                "INSERT INTO timers (incident_id, kind, level, due_at, target) VALUES (?,?,?,?,?)"
                " ON CONFLICT (incident_id, kind, level) DO UPDATE SET due_at=excluded.due_at,"
                " target=excluded.target, state='pending', fired_at=NULL"
                " WHERE timers.state != 'fired'",
                [(t.incident_id, t.kind, t.level, ts(t.due_at), t.target) for t in b.timers],
            )
        if b.changes:
            await w.executemany(
                "INSERT INTO changes (ci, summary, author, kind, started_at, ended_at, link,"
                " created_at) VALUES (?,?,?,?,?,?,?,?)",
                [(c.ci, c.summary, c.author, c.kind, ts(c.started_at), ts(c.ended_at), c.link,
                  ts(c.created_at or c.started_at)) for c in b.changes],
            )
        if b.problems:
            await w.executemany(
                "INSERT INTO problems (id, status, root_ci, signature, team, opened_at, closed_at,"
                " doc) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
                " status=excluded.status, team=excluded.team, closed_at=excluded.closed_at,"
                " doc=excluded.doc",
                [(p.id, p.status, p.root_ci, p.signature, p.team, ts(p.opened_at),
                  ts(p.closed_at), problem_doc(p)) for p in b.problems.values()],
            )
        if b.windows:
            await w.executemany(
                "DELETE FROM maintenance_windows WHERE name = ?",
                [(name,) for name, doc in b.windows.items() if not doc])
            await w.executemany(
                "INSERT INTO maintenance_windows (name, doc, ends_at) VALUES (?,?,?)"
                " ON CONFLICT (name) DO UPDATE SET doc=excluded.doc, ends_at=excluded.ends_at",
                [(name, dumps(doc), doc["end"]) for name, doc in b.windows.items() if doc])
        if b.fired_timers:
            await w.executemany(
                "UPDATE timers SET state = 'fired', fired_at = ? WHERE id = ?",
                [(ts(datetime.now().astimezone()), i) for i in b.fired_timers],
            )

    # -- loading state ----------------------------------------------------------------

    async def load_alerts(self) -> Sequence[AlertRecord]:
        out = []
        async with self.r.execute(
            "SELECT fingerprint, source, status, starts_at, ends_at, episode, last_seen, seen"
            " FROM alerts"
        ) as cur:
            async for row in cur:
                out.append(AlertRecord(
                    fingerprint=row[0], source=row[1], labels={}, annotations={}, status=row[2],
                    starts_at=parse_ts(row[3]), ends_at=parse_ts(row[4]),  # type: ignore[arg-type]
                    episode=row[5], last_seen=parse_ts(row[6]), seen=row[7],  # type: ignore[arg-type]
                ))
        return out

    async def load_active_incidents(self, resolved_since: datetime) -> Sequence[IncidentRecord]:
        async with self.r.execute(
            "SELECT doc FROM incidents WHERE status IN ('open', 'acknowledged')"
            " OR (status = 'resolved' AND resolved_at >= ?)",
            (ts(resolved_since),),
        ) as cur:
            return [incident_from_doc(row[0]) async for row in cur]

    async def load_episodes(self, incident_ids: Sequence[str]) -> Sequence[EpisodeRecord]:
        out: list[EpisodeRecord] = []
        ids = list(incident_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            async with self.r.execute(
                f"SELECT key, fingerprint, incident_id, starts_at, ends_at, ci, alertname,"
                f" severity, labels FROM episodes WHERE incident_id IN ({marks})",
                chunk,
            ) as cur:
                out.extend([_episode(row) async for row in cur])
        return out

    # -- API reads --------------------------------------------------------------------

    async def get_incident(self, incident_id: str) -> IncidentRecord | None:
        async with self.r.execute("SELECT doc FROM incidents WHERE id = ?", (incident_id,)) as cur:
            row = await cur.fetchone()
        return incident_from_doc(row[0]) if row else None

    async def list_incidents(self, query: IncidentQuery) -> list[IncidentRecord]:
        where: list[str] = ["i.merged_into IS NULL"]
        args: list[object] = []
        if query.status:
            where.append(f"i.status IN ({','.join('?' * len(query.status))})")
            args.extend(s.value for s in query.status)
        if query.priority:
            where.append(f"i.priority IN ({','.join('?' * len(query.priority))})")
            args.extend(query.priority)
        if query.team:
            where.append("i.team = ?")
            args.append(query.team)
        if query.ci:
            where.append("i.id IN (SELECT incident_id FROM incident_cis WHERE ci = ?)")
            args.append(query.ci)
        if query.since:
            where.append("i.opened_at >= ?")
            args.append(ts(query.since))
        if query.cursor:
            where.append("(i.opened_at < ? OR (i.opened_at = ? AND i.id < ?))")
            c_at = ts(query.cursor[0])
            args.extend([c_at, c_at, query.cursor[1]])
        sql = "SELECT i.doc FROM incidents i WHERE " + " AND ".join(where)
        sql += " ORDER BY i.opened_at DESC, i.id DESC LIMIT ?"
        args.append(query.limit)
        async with self.r.execute(sql, args) as cur:
            return [incident_from_doc(row[0]) async for row in cur]

    async def incident_episodes(self, incident_id: str) -> list[EpisodeRecord]:
        return list(await self.load_episodes([incident_id]))

    async def episodes_for(self, incident_ids: Sequence[str]) -> dict[str, list[EpisodeRecord]]:
        out: dict[str, list[EpisodeRecord]] = {i: [] for i in incident_ids}
        for e in await self.load_episodes(incident_ids):
            out[e.incident_id].append(e)
        for eps in out.values():
            eps.sort(key=lambda e: (e.starts_at, e.key))
        return out

    async def incident_timeline(self, incident_id: str) -> list[TimelineRecord]:
        async with self.r.execute(
            "SELECT incident_id, at, kind, actor, detail FROM timeline WHERE incident_id = ?"
            " ORDER BY id",
            (incident_id,),
        ) as cur:
            return [
                TimelineRecord(row[0], parse_ts(row[1]), row[2], row[3], loads(row[4]))  # type: ignore[arg-type]
                async for row in cur
            ]

    async def counts(self) -> dict[str, int]:
        out = {}
        for table in ("alerts", "episodes", "incidents", "timeline", "outbox", "timers"):
            async with self.r.execute(f"SELECT COUNT(*) FROM {table}") as cur:
                row = await cur.fetchone()
                out[table] = row[0] if row else 0
        return out

    # -- timers -----------------------------------------------------------------------

    async def due_timers(self, now: datetime, limit: int = 100) -> list[DueTimer]:
        async with self.r.execute(
            "SELECT id, incident_id, kind, level, due_at, target FROM timers"
            " WHERE state = 'pending' AND due_at <= ? ORDER BY due_at LIMIT ?",
            (ts(now), limit),
        ) as cur:
            return [
                DueTimer(row[0], row[1], row[2], row[3], parse_ts(row[4]), row[5])  # type: ignore[arg-type]
                async for row in cur
            ]

    # -- outbox (ingestd.notify.outbox.OutboxStore) -----------------------------------

    async def claim_due(self, now: datetime, limit: int, lease_owner: str,
                        lease_for: timedelta) -> list[OutboxItem]:
        async with self._write_lock:
            return await self._claim_due(now, limit, lease_owner, lease_for)

    async def _claim_due(self, now: datetime, limit: int, lease_owner: str,
                         lease_for: timedelta) -> list[OutboxItem]:
        try:
            await self.w.execute("BEGIN IMMEDIATE")
            try:
                async with self.w.execute(
                    "SELECT id, receiver, idempotency_key, incident_id, event, payload, attempts,"
                    " created_at FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?"
                    " AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?",
                    (ts(now), ts(now), limit),
                ) as cur:
                    rows = await cur.fetchall()
                await self.w.executemany(
                    "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?",
                    [(lease_owner, ts(now + lease_for), r[0]) for r in rows],
                )
                await self.w.execute("COMMIT")
            except BaseException:
                if self.w.in_transaction:  # SQLite rolls back by itself on SQLITE_FULL
                    await self.w.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise _wrap(e) from e
        return [OutboxItem(id=r[0], receiver=r[1], idempotency_key=r[2], payload=loads(r[5]),
                           attempts=r[6], created_at=parse_ts(r[7]))  # type: ignore[arg-type]
                for r in rows]

    async def _outbox_update(self, sql: str, args: tuple[Any, ...]) -> None:
        try:
            async with self._write_lock:
                await self.w.execute(sql, args)
        except sqlite3.Error as e:
            raise _wrap(e) from e

    async def mark_delivered(self, item_id: int, at: datetime) -> None:
        await self._outbox_update(
            "UPDATE outbox SET state = 'delivered', done_at = ?, attempts = attempts + 1,"
            " lease_owner = NULL, lease_until = NULL WHERE id = ?", (ts(at), item_id))

    async def mark_retry(self, item_id: int, next_at: datetime, error: str, attempts: int) -> None:
        await self._outbox_update(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ?, attempts = ?,"
            " lease_owner = NULL, lease_until = NULL WHERE id = ?",
            (ts(next_at), error[:2000], attempts, item_id))

    async def mark_dead(self, item_id: int, at: datetime, error: str) -> None:
        await self._outbox_update(
            "UPDATE outbox SET state = 'dead', done_at = ?, last_error = ?, attempts = attempts + 1,"
            " lease_owner = NULL, lease_until = NULL WHERE id = ?", (ts(at), error[:2000], item_id))

    async def outbox_rows(self, state: str | None, limit: int = 100) -> list[dict[str, Any]]:
        sql = ("SELECT id, receiver, idempotency_key, incident_id, event, state, attempts,"
               " last_error, created_at, done_at FROM outbox")
        args: list[Any] = []
        if state:
            sql += " WHERE state = ?"
            args.append(state)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        async with self.r.execute(sql, args) as cur:
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, row, strict=True)) async for row in cur]

    # -- context: changes, problems, knowledge ----------------------------------------

    async def list_changes(self, ci: str | None, since: datetime | None,
                           limit: int = 100) -> list[ChangeRecord]:
        sql = ("SELECT id, ci, summary, author, kind, started_at, ended_at, link, created_at"
               " FROM changes WHERE 1=1")
        args: list[Any] = []
        if ci:
            sql += " AND ci = ?"
            args.append(ci)
        if since:
            sql += " AND started_at >= ?"
            args.append(ts(since))
        sql += " ORDER BY started_at DESC LIMIT ?"
        args.append(limit)
        async with self.r.execute(sql, args) as cur:
            return [change_from_row(row) async for row in cur]

    async def list_problems(self, status: str | None, limit: int = 100) -> list[ProblemRecord]:
        sql, args = "SELECT doc FROM problems", []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        sql += " ORDER BY opened_at DESC LIMIT ?"
        args.append(limit)  # type: ignore[arg-type]
        async with self.r.execute(sql, args) as cur:
            return [problem_from_doc(row[0]) async for row in cur]

    async def get_problem(self, problem_id: str) -> ProblemRecord | None:
        async with self.r.execute("SELECT doc FROM problems WHERE id = ?", (problem_id,)) as cur:
            row = await cur.fetchone()
        return problem_from_doc(row[0]) if row else None

    async def resolved_with_roots(self, roots: list[str], limit: int) -> list[IncidentRecord]:
        """Resolved incidents whose root is one of ``roots``, newest first."""
        out: list[IncidentRecord] = []
        for i in range(0, len(roots), 500):
            chunk = roots[i:i + 500]
            async with self.r.execute(
                f"SELECT doc FROM incidents WHERE status IN ('resolved', 'closed')"
                f" AND merged_into IS NULL AND root_ci IN ({','.join('?' * len(chunk))})"
                f" ORDER BY opened_at DESC LIMIT ?", [*chunk, limit],
            ) as cur:
                out.extend([incident_from_doc(row[0]) async for row in cur])
        out.sort(key=lambda r: r.opened_at, reverse=True)
        return out[:limit]

    async def all_incidents(self) -> list[IncidentRecord]:
        async with self.r.execute("SELECT doc FROM incidents WHERE merged_into IS NULL") as cur:
            return [incident_from_doc(row[0]) async for row in cur]

    async def list_windows(self) -> list[dict[str, Any]]:
        async with self.r.execute("SELECT doc FROM maintenance_windows ORDER BY ends_at") as cur:
            return [loads(row[0]) async for row in cur]

    async def integrity_check(self) -> str:
        async with self.r.execute("PRAGMA integrity_check") as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else "no answer"

    async def backup(self, dest: str | Path) -> None:
        """A consistent online copy of the database (SQLite's backup API)."""
        target = await aiosqlite.connect(str(dest))
        try:
            await self.w.backup(target)
        finally:
            await target.close()


def _episode(row: Any) -> EpisodeRecord:
    return EpisodeRecord(
        key=row[0], fingerprint=row[1], incident_id=row[2], starts_at=parse_ts(row[3]),  # type: ignore[arg-type]
        ends_at=parse_ts(row[4]), ci=row[5], alertname=row[6], severity=row[7],
        labels=loads(row[8]),
    )
