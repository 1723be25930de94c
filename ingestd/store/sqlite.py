"""The embedded store: SQLite in WAL mode.

Writes go through one ``sqlite3`` connection owned by one worker thread: each
transaction (a whole batch, in ``BEGIN IMMEDIATE`` with ``synchronous=FULL``) is
one call on that thread, so a batch costs one hop between threads, not one per
statement, and transactions can never interleave. Reads use an aiosqlite
connection of their own, so API reads never wait for a commit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ingestd.notify.outbox import OutboxItem
from ingestd.store.base import StoreError, StoreFull
from ingestd.store.codec import (
    MapsJson,
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
    KnownAlert,
    ProblemRecord,
    TimelineRecord,
    WriteBatch,
)
from ingestd.store.stored_fingerprints import StoredFingerprints

T = TypeVar("T")

MIGRATIONS = ["sqlite_0001_initial.sql", "sqlite_0002_context.sql",
              "sqlite_0003_maintenance.sql", "sqlite_0004_episode_indexes.sql"]

# New alerts land at random places in the b-trees keyed by fingerprint, so in a big
# store each commit dirties about one page per new alert and index, and the WAL grows
# fast. Checkpointing every 10,000 pages (~40 MiB of WAL) rather than SQLite's 1,000
# copies a page that several commits changed back once, and pays a checkpoint's fsync
# and bookkeeping a tenth as often: at 200,000 alerts, 27% fewer bytes written and ~18%
# less CPU per new alert (at 20,000, little changes). The price: up to ~40 MiB more
# disk for the WAL; checkpoint pauses (on the writer thread, so intake waits) ten times
# rarer but longer (the slowest commit went from 95-125 ms to 85-150 ms on a VM disk);
# more WAL to replay when a store is opened after a crash. The size limit hands back the disk a WAL grew beyond that
# (while a long read held checkpoints back) when the WAL is next reset.
WAL_AUTOCHECKPOINT_PAGES = 10_000
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
# The writer's page cache: 16 MiB rather than 2 MiB keeps the upper levels of those
# b-trees in memory, so a third as many pages are read back from the OS (~3 µs less
# system CPU per new alert at 200,000 alerts). Larger bought nothing measurable, and
# every MiB counts against the daemon's RSS.
WRITER_CACHE_KIB = 16 * 1024


def _wrap(e: Exception) -> StoreError:
    text = str(e).lower()
    if "full" in text or "disk i/o" in text or "no space" in text:
        return StoreFull(f"SQLite: {e}")
    return StoreError(f"SQLite: {e}")


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._w: sqlite3.Connection | None = None
        self._r: aiosqlite.Connection | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        """The only thread that touches the writer connection: one transaction at a time."""
        self._stored: StoredFingerprints | None = None
        """Every fingerprint of the alerts table, as a Bloom filter (also those of a batch
        whose commit failed: a wasted lookup, no more). Read and added to on the event loop's
        thread only."""

    @property
    def w(self) -> sqlite3.Connection:
        assert self._w is not None, "store not open"
        return self._w

    async def _on_writer(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the writer thread; SQLite errors become StoreError."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)
        except sqlite3.Error as e:
            raise _wrap(e) from e

    def _transaction(self, fn: Callable[..., T], *args: Any) -> T:
        w = self.w
        w.execute("BEGIN IMMEDIATE")
        try:
            result = fn(w, *args)
            w.execute("COMMIT")
            return result
        except BaseException:
            if w.in_transaction:  # SQLite rolls back by itself on SQLITE_FULL
                w.execute("ROLLBACK")
            raise

    @property
    def r(self) -> aiosqlite.Connection:
        assert self._r is not None, "store not open"
        return self._r

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        await self._on_writer(self._open_writer)
        self._r = await aiosqlite.connect(self.path, isolation_level=None)
        await self.r.execute("PRAGMA busy_timeout=5000")
        await self.r.execute("PRAGMA query_only=1")

    def _open_writer(self) -> None:
        w = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._w = w
        w.execute("PRAGMA journal_mode=WAL")
        w.execute("PRAGMA synchronous=FULL")
        w.execute("PRAGMA busy_timeout=5000")
        w.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        w.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        w.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        self._migrate(w)
        self._stored = self._load_stored(w)
        # One process owns an SQLite store: leases of a previous (crashed) run are void.
        w.execute("UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
                  " WHERE state = 'pending' AND lease_owner IS NOT NULL")

    async def close(self) -> None:
        if self._r is not None:
            await self._r.close()
        if self._w is not None:
            await asyncio.get_running_loop().run_in_executor(self._writer, self._w.close)
        self._r = self._w = None

    @staticmethod
    def _migrate(w: sqlite3.Connection) -> None:
        w.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = w.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = (row[0] if row else None) or 0
        pkg = resources.files("ingestd.store.migrations")
        for version, name in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            script = pkg.joinpath(name).read_text(encoding="utf-8")
            w.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nINSERT INTO schema_version VALUES ({version});\nCOMMIT;"
            )

    # -- writes -----------------------------------------------------------------------

    async def apply(self, batch: WriteBatch) -> None:
        if not batch:
            return
        stored = self._stored
        assert stored is not None, "store not open"
        stored.add(batch.alerts)  # before the commit: it must never miss a stored alert
        await self._on_writer(self._transaction, self._write, batch)
        if stored.full:  # (writes are not concurrent: the committer awaits each one)
            self._stored = await self._on_writer(self._load_stored, self.w)

    @staticmethod
    def _load_stored(w: sqlite3.Connection) -> StoredFingerprints:
        (count,) = w.execute("SELECT COUNT(*) FROM alerts").fetchone()
        rows = w.execute("SELECT fingerprint FROM alerts")
        return StoredFingerprints((fp for (fp,) in rows), count)

    @staticmethod
    def _write(w: sqlite3.Connection, b: WriteBatch) -> None:
        labels_json = MapsJson()
        if b.alerts:
            w.executemany(
                "INSERT INTO alerts (fingerprint, source, labels, annotations, status, starts_at,"
                " ends_at, episode, last_seen, seen, generator_url) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (fingerprint) DO UPDATE SET source=excluded.source,"
                " labels=excluded.labels, annotations=excluded.annotations, status=excluded.status,"
                " starts_at=excluded.starts_at, ends_at=excluded.ends_at, episode=excluded.episode,"
                " last_seen=excluded.last_seen, seen=excluded.seen,"
                " generator_url=excluded.generator_url",
                [
                    (a.fingerprint, a.source, labels_json(a.labels), dumps(a.annotations), a.status,
                     ts(a.starts_at), ts(a.ends_at), a.episode, ts(a.last_seen), a.seen,
                     a.generator_url)
                    for a in b.alerts.values()
                ],
            )
        if b.seen_only:
            w.executemany(
                "UPDATE alerts SET seen = seen + ?, last_seen = MAX(last_seen, ?) WHERE fingerprint = ?",
                [(n, ts(at), fp) for fp, (n, at) in b.seen_only.items() if fp not in b.alerts],
            )
        if b.episodes:
            w.executemany(
                "INSERT INTO episodes (key, fingerprint, incident_id, starts_at, ends_at, ci,"
                " alertname, severity, labels) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (key) DO UPDATE SET incident_id=excluded.incident_id,"
                " ends_at=excluded.ends_at",
                [
                    (e.key, e.fingerprint, e.incident_id, ts(e.starts_at), ts(e.ends_at), e.ci,
                     e.alertname, e.severity, labels_json(e.labels))
                    for e in b.episodes.values()
                ],
            )
        if b.episode_ends:
            w.executemany(
                "UPDATE episodes SET ends_at = ? WHERE key = ?",
                [(ts(at), key) for key, at in b.episode_ends.items()],
            )
        if b.moves:
            w.executemany(
                "UPDATE episodes SET incident_id = ? WHERE incident_id = ?",
                [(target, source) for source, target in b.moves],
            )
            w.executemany(
                "INSERT OR IGNORE INTO incident_cis (incident_id, ci)"
                " SELECT ?, ci FROM incident_cis WHERE incident_id = ?",
                [(target, source) for source, target in b.moves],
            )
        if b.incidents:
            w.executemany(
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
            w.executemany(
                "INSERT OR IGNORE INTO incident_cis (incident_id, ci) VALUES (?, ?)",
                [(i.id, ci) for i in b.incidents.values() for ci in i.cis],
            )
        if b.timeline:
            w.executemany(
                "INSERT INTO timeline (incident_id, at, kind, actor, detail) VALUES (?,?,?,?,?)",
                [(t.incident_id, ts(t.at), t.kind, t.actor, dumps(t.detail)) for t in b.timeline],
            )
        if b.outbox:
            w.executemany(
                "INSERT OR IGNORE INTO outbox (receiver, idempotency_key, incident_id, event,"
                " payload, next_attempt_at, created_at) VALUES (?,?,?,?,?,?,?)",
                [
                    (o.receiver, o.idempotency_key, o.incident_id, o.event, dumps(o.payload),
                     ts(o.created_at), ts(o.created_at))
                    for o in b.outbox
                ],
            )
        if b.cancel_timers:
            w.executemany(
                "UPDATE timers SET state = 'cancelled' WHERE incident_id = ? AND state = 'pending'"
                " AND (kind = ? OR ? = '*')",
                [(i, kind, kind) for i, kind in b.cancel_timers],
            )
        if b.timers:
            w.executemany(
                "INSERT INTO timers (incident_id, kind, level, due_at, target) VALUES (?,?,?,?,?)"
                " ON CONFLICT (incident_id, kind, level) DO UPDATE SET due_at=excluded.due_at,"
                " target=excluded.target, state='pending', fired_at=NULL"
                " WHERE timers.state != 'fired'",
                [(t.incident_id, t.kind, t.level, ts(t.due_at), t.target) for t in b.timers],
            )
        if b.changes:
            w.executemany(
                "INSERT INTO changes (ci, summary, author, kind, started_at, ended_at, link,"
                " created_at) VALUES (?,?,?,?,?,?,?,?)",
                [(c.ci, c.summary, c.author, c.kind, ts(c.started_at), ts(c.ended_at), c.link,
                  ts(c.created_at or c.started_at)) for c in b.changes],
            )
        if b.problems:
            w.executemany(
                "INSERT INTO problems (id, status, root_ci, signature, team, opened_at, closed_at,"
                " doc) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET"
                " status=excluded.status, team=excluded.team, closed_at=excluded.closed_at,"
                " doc=excluded.doc",
                [(p.id, p.status, p.root_ci, p.signature, p.team, ts(p.opened_at),
                  ts(p.closed_at), problem_doc(p)) for p in b.problems.values()],
            )
        if b.windows:
            w.executemany(
                "DELETE FROM maintenance_windows WHERE name = ?",
                [(name,) for name, doc in b.windows.items() if not doc])
            w.executemany(
                "INSERT INTO maintenance_windows (name, doc, ends_at) VALUES (?,?,?)"
                " ON CONFLICT (name) DO UPDATE SET doc=excluded.doc, ends_at=excluded.ends_at",
                [(name, dumps(doc), doc["end"]) for name, doc in b.windows.items() if doc])
        if b.fired_timers:
            w.executemany(
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

    async def recent_alerts(self, resolved_since: datetime) -> list[KnownAlert]:
        """Alerts firing, or resolved at or after ``resolved_since``: what dedup keeps in memory."""
        async with self.r.execute(
            "SELECT fingerprint, episode, starts_at, ends_at, seen FROM alerts"
            " WHERE ends_at IS NULL OR ends_at >= ?", (ts(resolved_since),),
        ) as cur:
            return [_known(row) async for row in cur]

    async def lookup_alerts(self, fingerprints: Sequence[str]) -> list[KnownAlert]:
        """The stored state of these fingerprints (those the store has).

        Fingerprints the store never held are answered from memory: in a storm of new
        alerts, nearly all of them (:mod:`ingestd.store.stored_fingerprints`)."""
        out: list[KnownAlert] = []
        stored = self._stored
        fps = [fp for fp in fingerprints if stored is None or fp in stored]
        for i in range(0, len(fps), 500):
            chunk = fps[i:i + 500]
            rows = await self.r.execute_fetchall(  # one hop to the reader thread, not one per row
                "SELECT fingerprint, episode, starts_at, ends_at, seen FROM alerts"
                f" WHERE fingerprint IN ({','.join('?' * len(chunk))})", chunk)
            out.extend([_known(row) for row in rows])
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
            rows = await self.r.execute_fetchall(
                f"SELECT key, fingerprint, incident_id, starts_at, ends_at, ci, alertname,"
                f" severity, labels FROM episodes WHERE incident_id IN ({marks})",
                chunk,
            )
            out.extend([_episode(row) for row in rows])
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

    async def episode_summaries(self, incident_ids: Sequence[str]
                                ) -> dict[str, list[EpisodeRecord]]:
        """:meth:`episodes_for` without the labels (left empty): what an incident list shows."""
        out: dict[str, list[EpisodeRecord]] = {i: [] for i in incident_ids}
        ids = list(incident_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = await self.r.execute_fetchall(
                "SELECT key, fingerprint, incident_id, starts_at, ends_at, ci, alertname, severity"
                f" FROM episodes WHERE incident_id IN ({','.join('?' * len(chunk))})", chunk)
            for row in rows:
                out[row[2]].append(EpisodeRecord(
                    row[0], row[1], row[2], parse_ts(row[3]), parse_ts(row[4]),  # type: ignore[arg-type]
                    row[5], row[6], row[7], {}))
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
        def claim(w: sqlite3.Connection) -> list[Any]:
            rows = w.execute(
                "SELECT id, receiver, idempotency_key, incident_id, event, payload, attempts,"
                " created_at FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?"
                " AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?",
                (ts(now), ts(now), limit),
            ).fetchall()
            w.executemany(
                "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?",
                [(lease_owner, ts(now + lease_for), r[0]) for r in rows],
            )
            return rows

        rows = await self._on_writer(self._transaction, claim)
        return [OutboxItem(id=r[0], receiver=r[1], idempotency_key=r[2], payload=loads(r[5]),
                           attempts=r[6], created_at=parse_ts(r[7]))  # type: ignore[arg-type]
                for r in rows]

    async def _outbox_update(self, sql: str, args: tuple[Any, ...]) -> None:
        await self._on_writer(self.w.execute, sql, args)

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

    async def export_episodes(self) -> list[tuple[EpisodeRecord, dict[str, str], str, str]]:
        """Every episode with its alert's annotations, source and generator URL, oldest first."""
        async with self.r.execute(
            "SELECT e.key, e.fingerprint, e.incident_id, e.starts_at, e.ends_at, e.ci,"
            " e.alertname, e.severity, e.labels, a.annotations, a.source, a.generator_url"
            " FROM episodes e LEFT JOIN alerts a ON a.fingerprint = e.fingerprint"
            " ORDER BY e.starts_at, e.key"
        ) as cur:
            return [(_episode(row), loads(row[9] or "{}"), row[10] or "", row[11] or "")
                    async for row in cur]

    async def list_windows(self) -> list[dict[str, Any]]:
        async with self.r.execute("SELECT doc FROM maintenance_windows ORDER BY ends_at") as cur:
            return [loads(row[0]) async for row in cur]

    async def integrity_check(self) -> str:
        async with self.r.execute("PRAGMA integrity_check") as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else "no answer"

    async def backup(self, dest: str | Path) -> None:
        """A consistent online copy of the database (SQLite's backup API)."""
        def copy() -> None:
            target = sqlite3.connect(str(dest))
            try:
                self.w.backup(target)
            finally:
                target.close()

        await self._on_writer(copy)


def _known(row: Any) -> KnownAlert:
    return KnownAlert(row[0], row[1], parse_ts(row[2]), parse_ts(row[3]), row[4])  # type: ignore[arg-type]


def _episode(row: Any) -> EpisodeRecord:
    return EpisodeRecord(
        key=row[0], fingerprint=row[1], incident_id=row[2], starts_at=parse_ts(row[3]),  # type: ignore[arg-type]
        ends_at=parse_ts(row[4]), ci=row[5], alertname=row[6], severity=row[7],
        labels=loads(row[8]),
    )
