"""The shared store: PostgreSQL through an asyncpg connection pool.

Several replicas share one database. Any replica appends accepted work to the
``inbox`` (one ``COPY`` per group of bodies) and reads for the API from the
pool. Exactly one replica at a time holds the pipeline's lease: a
session-level advisory lock on a connection of its own (:class:`PipelineLease`).
That replica runs the pipeline and writes every batch over that same
connection, in the transaction that also takes the batch's work off the
inbox, so a replica that lost its session can write nothing more (its lock
went with it) and a crash never applies work twice or loses it.

Outbox items are claimed with ``FOR UPDATE SKIP LOCKED`` under a lease, so
every replica delivers and none delivers an item another one holds.

Lock keys and notification channels carry the schema name, so several
deployments (or test runs) can share one database in separate schemas
(``postgresql://…/db?search_path=NAME``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import asyncpg

from ingestd.notify.outbox import OutboxItem
from ingestd.store.base import StoreError, StoreFull
from ingestd.store.codec import (
    MapsJson,
    dumps,
    incident_doc,
    incident_from_doc,
    loads,
    problem_doc,
    problem_from_doc,
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

log = logging.getLogger("ingestd.store")

MIGRATIONS = ["postgres_0001_initial.sql", "postgres_0002_context.sql",
              "postgres_0003_maintenance.sql", "postgres_0004_episode_indexes.sql"]

# The errors that mean "the database cannot do this now": refused, restarted,
# connection lost, timed out. All become StoreError (intake answers 503).
# asyncpg's InternalClientError: a pooled connection the server dropped mid-reset.
_DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError,
    OSError, asyncio.TimeoutError)


class BatchRejected(StoreError):
    """PostgreSQL refused the data itself (SQLSTATE class 22 or 23): retrying the same
    batch fails again, so the work it came from must be set aside."""

    permanent = True


def _wrap(e: BaseException) -> StoreError:
    if isinstance(e, asyncpg.exceptions.DiskFullError):
        return StoreFull(f"PostgreSQL: {e}")
    state = getattr(e, "sqlstate", None) or ""
    if isinstance(e, asyncpg.PostgresError) and state[:2] in ("22", "23"):
        return BatchRejected(f"PostgreSQL refused the data: {e}")
    return StoreError(f"PostgreSQL: {type(e).__name__}: {e}")


class PostgresStore:
    def __init__(self, url: str, *, pool_min: int = 2, pool_max: int = 10,
                 connect_timeout: float = 5.0, command_timeout: float = 30.0,
                 intake_timeout: float = 10.0) -> None:
        self.url = url
        self.pool_min = pool_min
        self.pool_max = pool_max
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.intake_timeout = intake_timeout
        self._pool: asyncpg.Pool | None = None
        self.schema = "public"

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("PostgreSQL: the store is not open (or could not connect)")
        return self._pool

    @contextlib.asynccontextmanager
    async def _conn(self, seconds: float | None = None) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; the whole use is bounded in time, every failure a StoreError.

        A connection the server dropped (a restart, a failover) can leave a call
        waiting on a socket that never answers: the bound turns that into a 503.
        """
        try:
            async with asyncio.timeout(seconds or self.command_timeout):
                async with self.pool.acquire(timeout=self.connect_timeout) as conn:
                    yield conn
        except _DB_ERRORS as e:
            raise _wrap(e) from e

    async def connect(self) -> asyncpg.Connection:
        """A connection of its own (not from the pool), for the pipeline's lease."""
        return await asyncpg.connect(self.url, timeout=self.connect_timeout,
                                     command_timeout=self.command_timeout)

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=self.pool_min, max_size=self.pool_max,
                timeout=self.connect_timeout, command_timeout=self.command_timeout,
                max_inactive_connection_lifetime=60.0)
            async with self.pool.acquire() as conn:
                self.schema = str(await conn.fetchval("SELECT current_schema()"))
                await self._migrate(conn)
        except _DB_ERRORS as e:
            raise _wrap(e) from e

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        pkg = resources.files("ingestd.store.migrations")
        async with conn.transaction():
            # Replicas starting together: one migrates, the others wait and find it done.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()"
                               " || ':ingestd:migrate'))")
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version"
                               " (version INTEGER NOT NULL)")
            current = await conn.fetchval("SELECT MAX(version) FROM schema_version") or 0
            for version, name in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                await conn.execute(pkg.joinpath(name).read_text(encoding="utf-8"))
                await conn.execute("INSERT INTO schema_version VALUES ($1)", version)

    @property
    def inbox_channel(self) -> str:
        return f"ingestd_inbox:{self.schema}"

    # -- writes -----------------------------------------------------------------------

    async def apply(self, batch: WriteBatch) -> None:
        """Write the batch in one transaction (no lease: for tools and single writers)."""
        if not batch:
            return
        async with self._conn() as conn, conn.transaction():
            await write_batch(conn, batch)

    # -- the inbox --------------------------------------------------------------------

    async def append_inbox(self, items: Sequence[tuple[str, str]]) -> None:
        """Durably append ``(kind, JSON body)`` items in order, in one transaction."""
        if not items:
            return
        async with self._conn(self.intake_timeout) as conn, conn.transaction():
            await conn.copy_records_to_table("inbox", records=items, columns=["kind", "body"])
            await conn.execute("SELECT pg_notify($1, '')", self.inbox_channel)

    async def append_inbox_one(self, kind: str, body: str) -> int:
        """Append one item and return its id (to wait for its result)."""
        async with self._conn(self.intake_timeout) as conn, conn.transaction():
            item_id = await conn.fetchval(
                "INSERT INTO inbox (kind, body) VALUES ($1, $2) RETURNING id", kind, body)
            await conn.execute("SELECT pg_notify($1, '')", self.inbox_channel)
        return int(item_id)

    async def take_inbox_result(self, item_id: int) -> str | None:
        """The result of a processed item (and forget the item); None while it waits."""
        async with self._conn() as conn:
            row = await conn.fetchrow(
                "DELETE FROM inbox WHERE id = $1 AND processed_at IS NOT NULL RETURNING result",
                item_id)
        return None if row is None else str(row[0] or "{}")

    async def inbox_pending(self) -> int:
        async with self._conn() as conn:
            return int(await conn.fetchval(
                "SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL"))

    async def leader(self) -> dict[str, Any]:
        """Which replica holds the pipeline's lease (as last recorded) and since when."""
        rows = await self._fetch("SELECT epoch, holder, since FROM leader WHERE id = 1")
        return dict(rows[0]) if rows else {}

    async def lead(self, holder: str) -> PipelineLease | None:
        """The pipeline's lease if no other replica holds it; None otherwise."""
        try:
            conn = await self.connect()
        except _DB_ERRORS as e:
            raise _wrap(e) from e
        try:
            got = await conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtext(current_schema() || ':ingestd:pipeline'))")
            if not got:
                await conn.close()
                return None
            epoch = await conn.fetchval(
                "UPDATE leader SET epoch = epoch + 1, holder = $1, since = now() WHERE id = 1"
                " RETURNING epoch", holder)
            lease = PipelineLease(conn, int(epoch), self.inbox_channel)
            await lease.listen()
            return lease
        except _DB_ERRORS as e:
            conn.terminate()
            raise _wrap(e) from e

    # -- loading state ----------------------------------------------------------------

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self._conn() as conn:
            return list(await conn.fetch(sql, *args))

    async def load_alerts(self) -> Sequence[AlertRecord]:
        rows = await self._fetch(
            "SELECT fingerprint, source, status, starts_at, ends_at, episode, last_seen, seen"
            " FROM alerts")
        return [AlertRecord(fingerprint=r[0], source=r[1], labels={}, annotations={},
                            status=r[2], starts_at=r[3], ends_at=r[4], episode=r[5],
                            last_seen=r[6], seen=r[7]) for r in rows]

    async def load_active_incidents(self, resolved_since: datetime) -> Sequence[IncidentRecord]:
        rows = await self._fetch(
            "SELECT doc FROM incidents WHERE status IN ('open', 'acknowledged')"
            " OR (status = 'resolved' AND resolved_at >= $1)", resolved_since)
        return [incident_from_doc(r[0]) for r in rows]

    async def load_episodes(self, incident_ids: Sequence[str]) -> Sequence[EpisodeRecord]:
        if not incident_ids:
            return []
        rows = await self._fetch(
            "SELECT key, fingerprint, incident_id, starts_at, ends_at, ci, alertname, severity,"
            " labels FROM episodes WHERE incident_id = ANY($1::text[])", list(incident_ids))
        return [_episode(r) for r in rows]

    # -- API reads --------------------------------------------------------------------

    async def get_incident(self, incident_id: str) -> IncidentRecord | None:
        rows = await self._fetch("SELECT doc FROM incidents WHERE id = $1", incident_id)
        return incident_from_doc(rows[0][0]) if rows else None

    async def list_incidents(self, query: IncidentQuery) -> list[IncidentRecord]:
        where: list[str] = ["i.merged_into IS NULL"]
        args: list[object] = []

        def arg(value: object) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.status:
            where.append(f"i.status = ANY({arg([s.value for s in query.status])}::text[])")
        if query.priority:
            where.append(f"i.priority = ANY({arg(list(query.priority))}::text[])")
        if query.team:
            where.append(f"i.team = {arg(query.team)}")
        if query.ci:
            where.append(f"i.id IN (SELECT incident_id FROM incident_cis WHERE ci = {arg(query.ci)})")
        if query.since:
            where.append(f"i.opened_at >= {arg(query.since)}")
        if query.cursor:
            at, cid = arg(query.cursor[0]), arg(query.cursor[1])
            where.append(f"(i.opened_at < {at} OR (i.opened_at = {at} AND i.id < {cid}))")
        sql = ("SELECT i.doc FROM incidents i WHERE " + " AND ".join(where)
               + f" ORDER BY i.opened_at DESC, i.id DESC LIMIT {arg(query.limit)}")
        return [incident_from_doc(r[0]) for r in await self._fetch(sql, *args)]

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
        rows = await self._fetch(
            "SELECT incident_id, at, kind, actor, detail FROM timeline WHERE incident_id = $1"
            " ORDER BY id", incident_id)
        return [TimelineRecord(r[0], r[1], r[2], r[3], loads(r[4])) for r in rows]

    async def counts(self) -> dict[str, int]:
        row = (await self._fetch(
            "SELECT (SELECT COUNT(*) FROM alerts), (SELECT COUNT(*) FROM episodes),"
            " (SELECT COUNT(*) FROM incidents), (SELECT COUNT(*) FROM timeline),"
            " (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM timers)"))[0]
        names = ("alerts", "episodes", "incidents", "timeline", "outbox", "timers")
        return {n: int(v) for n, v in zip(names, row, strict=True)}

    # -- timers -----------------------------------------------------------------------

    async def due_timers(self, now: datetime, limit: int = 100) -> list[DueTimer]:
        rows = await self._fetch(_DUE_TIMERS, now, limit)
        return [DueTimer(*r) for r in rows]

    # -- outbox (ingestd.notify.outbox.OutboxStore) -----------------------------------

    async def claim_due(self, now: datetime, limit: int, lease_owner: str,
                        lease_for: timedelta) -> list[OutboxItem]:
        """Lease due items; rows another replica is claiming right now are skipped."""
        rows = await self._fetch(
            "UPDATE outbox o SET lease_owner = $3, lease_until = $4 FROM ("
            "  SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1"
            "  AND (lease_until IS NULL OR lease_until < $1) ORDER BY id LIMIT $2"
            "  FOR UPDATE SKIP LOCKED) due WHERE o.id = due.id"
            " RETURNING o.id, o.receiver, o.idempotency_key, o.payload, o.attempts, o.created_at",
            now, limit, lease_owner, now + lease_for)
        items = [OutboxItem(r[0], r[1], r[2], loads(r[3]), r[4], r[5]) for r in rows]
        return sorted(items, key=lambda i: i.id)

    async def _execute(self, sql: str, *args: Any) -> None:
        async with self._conn() as conn:
            await conn.execute(sql, *args)

    async def mark_delivered(self, item_id: int, at: datetime) -> None:
        await self._execute(
            "UPDATE outbox SET state = 'delivered', done_at = $1, attempts = attempts + 1,"
            " lease_owner = NULL, lease_until = NULL WHERE id = $2", at, item_id)

    async def mark_retry(self, item_id: int, next_at: datetime, error: str, attempts: int) -> None:
        await self._execute(
            "UPDATE outbox SET next_attempt_at = $1, last_error = $2, attempts = $3,"
            " lease_owner = NULL, lease_until = NULL WHERE id = $4",
            next_at, error[:2000], attempts, item_id)

    async def mark_dead(self, item_id: int, at: datetime, error: str) -> None:
        await self._execute(
            "UPDATE outbox SET state = 'dead', done_at = $1, last_error = $2,"
            " attempts = attempts + 1, lease_owner = NULL, lease_until = NULL WHERE id = $3",
            at, error[:2000], item_id)

    async def outbox_rows(self, state: str | None, limit: int = 100) -> list[dict[str, Any]]:
        sql = ("SELECT id, receiver, idempotency_key, incident_id, event, state, attempts,"
               " last_error, created_at, done_at FROM outbox")
        args: list[Any] = []
        if state:
            sql += " WHERE state = $1"
            args.append(state)
        sql += f" ORDER BY id DESC LIMIT ${len(args) + 1}"
        args.append(limit)
        return [dict(r) for r in await self._fetch(sql, *args)]

    # -- context: changes, problems, knowledge ----------------------------------------

    async def list_changes(self, ci: str | None, since: datetime | None,
                           limit: int = 100) -> list[ChangeRecord]:
        rows = await self._fetch(
            "SELECT id, ci, summary, author, kind, started_at, ended_at, link, created_at"
            " FROM changes WHERE ($1::text IS NULL OR ci = $1)"
            " AND ($2::timestamptz IS NULL OR started_at >= $2)"
            " ORDER BY started_at DESC LIMIT $3", ci, since, limit)
        return [ChangeRecord(id=r[0], ci=r[1], summary=r[2], author=r[3], kind=r[4],
                             started_at=r[5], ended_at=r[6], link=r[7], created_at=r[8])
                for r in rows]

    async def list_problems(self, status: str | None, limit: int = 100) -> list[ProblemRecord]:
        rows = await self._fetch(
            "SELECT doc FROM problems WHERE ($1::text IS NULL OR status = $1)"
            " ORDER BY opened_at DESC LIMIT $2", status, limit)
        return [problem_from_doc(r[0]) for r in rows]

    async def get_problem(self, problem_id: str) -> ProblemRecord | None:
        rows = await self._fetch("SELECT doc FROM problems WHERE id = $1", problem_id)
        return problem_from_doc(rows[0][0]) if rows else None

    async def resolved_with_roots(self, roots: list[str], limit: int) -> list[IncidentRecord]:
        """Resolved incidents whose root is one of ``roots``, newest first."""
        rows = await self._fetch(
            "SELECT doc FROM incidents WHERE status IN ('resolved', 'closed')"
            " AND merged_into IS NULL AND root_ci = ANY($1::text[])"
            " ORDER BY opened_at DESC LIMIT $2", list(roots), limit)
        return [incident_from_doc(r[0]) for r in rows]

    async def all_incidents(self) -> list[IncidentRecord]:
        rows = await self._fetch("SELECT doc FROM incidents WHERE merged_into IS NULL")
        return [incident_from_doc(r[0]) for r in rows]

    async def list_windows(self) -> list[dict[str, Any]]:
        rows = await self._fetch("SELECT doc FROM maintenance_windows ORDER BY ends_at")
        return [loads(r[0]) for r in rows]

    async def integrity_check(self) -> str:
        """``ok``, or what is inconsistent (episodes of missing incidents, stuck inbox)."""
        rows = await self._fetch(
            "SELECT (SELECT COUNT(*) FROM episodes e WHERE NOT EXISTS"
            " (SELECT 1 FROM incidents i WHERE i.id = e.incident_id)),"
            " (SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL"
            "  AND received_at < now() - interval '10 minutes')")
        orphans, stuck = rows[0]
        problems = []
        if orphans:
            problems.append(f"{orphans} episodes belong to no incident")
        if stuck:
            problems.append(f"{stuck} inbox items waited more than 10 minutes (is a replica"
                            " leading the pipeline? see the leader table)")
        return "; ".join(problems) or "ok"


_DUE_TIMERS = ("SELECT id, incident_id, kind, level, due_at, target FROM timers"
               " WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT $2")


LEASE_CALL_SECONDS = 30.0
"""A call on the lease's session that takes longer has lost its server: the lease ends."""


class PipelineLease:
    """The right to run the pipeline, held as a session advisory lock on ``conn``.

    Every write of the pipeline goes over ``conn``: if the session is gone, so
    is the lock, and so is any chance to write. Any error closes the lease; the
    holder then competes for it again like every other replica.
    """

    def __init__(self, conn: asyncpg.Connection, epoch: int, channel: str) -> None:
        self.conn = conn
        self.epoch = epoch
        self.channel = channel
        self._wake = asyncio.Event()
        self._claim: asyncpg.prepared_stmt.PreparedStatement | None = None

    async def listen(self) -> None:
        await self.conn.add_listener(self.channel, self.wake)
        self._claim = await self.conn.prepare(
            "SELECT id, kind, body FROM inbox WHERE processed_at IS NULL ORDER BY id LIMIT $1")

    def wake(self, *_: object) -> None:
        self._wake.set()

    @property
    def alive(self) -> bool:
        return not self.conn.is_closed()

    async def wait_for_work(self, seconds: float) -> None:
        """Until a replica appends to the inbox, or ``seconds`` pass."""
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def claim_inbox(self, limit: int) -> list[tuple[int, str, str]]:
        """The oldest unprocessed items: ``(id, kind, body)`` in id order."""
        assert self._claim is not None
        try:
            async with asyncio.timeout(LEASE_CALL_SECONDS):
                rows = await self._claim.fetch(limit)
        except _DB_ERRORS as e:
            raise _wrap(e) from e
        return [(r[0], r[1], r[2]) for r in rows]

    async def due_timers(self, now: datetime, limit: int) -> list[DueTimer]:
        try:
            async with asyncio.timeout(LEASE_CALL_SECONDS):
                rows = await self.conn.fetch(_DUE_TIMERS, now, limit)
        except _DB_ERRORS as e:
            raise _wrap(e) from e
        return [DueTimer(*r) for r in rows]

    async def apply(self, batches: Sequence[WriteBatch],
                    done: Sequence[tuple[int, str | None]]) -> None:
        """Write ``batches`` in order and settle the inbox items they came from, in one
        transaction.

        ``done`` is ``(inbox id, result JSON or None)``: items with a result keep it
        for the replica waiting on it; the others are deleted.
        """
        try:
            async with asyncio.timeout(LEASE_CALL_SECONDS), self.conn.transaction():
                for batch in batches:
                    if batch:
                        await write_batch(self.conn, batch)
                gone = [i for i, res in done if res is None]
                kept = [(res, i) for i, res in done if res is not None]
                if gone:
                    await self.conn.execute(
                        "DELETE FROM inbox WHERE id = ANY($1::bigint[]) AND processed_at IS NULL",
                        gone)
                if kept:
                    await self.conn.executemany(
                        "UPDATE inbox SET processed_at = now(), result = $1"
                        " WHERE id = $2 AND processed_at IS NULL", kept)
        except _DB_ERRORS as e:
            raise _wrap(e) from e

    async def close(self) -> None:
        """Give the lease up (closing the session releases the lock)."""
        if self.conn.is_closed():
            return
        try:
            await asyncio.wait_for(self.conn.close(), 2.0)
        except (*_DB_ERRORS, asyncio.CancelledError):  # type: ignore[misc]
            self.conn.terminate()


async def write_batch(conn: asyncpg.Connection, b: WriteBatch) -> None:
    """Every write of one batch, on a connection inside a transaction."""
    labels_json = MapsJson()
    if b.alerts:
        await conn.executemany(
            "INSERT INTO alerts (fingerprint, source, labels, annotations, status, starts_at,"
            " ends_at, episode, last_seen, seen, generator_url)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
            " ON CONFLICT (fingerprint) DO UPDATE SET source = EXCLUDED.source,"
            " labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,"
            " status = EXCLUDED.status, starts_at = EXCLUDED.starts_at,"
            " ends_at = EXCLUDED.ends_at, episode = EXCLUDED.episode,"
            " last_seen = EXCLUDED.last_seen, seen = EXCLUDED.seen,"
            " generator_url = EXCLUDED.generator_url",
            [(a.fingerprint, a.source, labels_json(a.labels), dumps(a.annotations), a.status,
              a.starts_at, a.ends_at, a.episode, a.last_seen, a.seen, a.generator_url)
             for a in b.alerts.values()])
    seen_only = [(n, at, fp) for fp, (n, at) in b.seen_only.items() if fp not in b.alerts]
    if seen_only:
        await conn.executemany(
            "UPDATE alerts SET seen = seen + $1, last_seen = GREATEST(last_seen, $2)"
            " WHERE fingerprint = $3", seen_only)
    if b.episodes:
        await conn.executemany(
            "INSERT INTO episodes (key, fingerprint, incident_id, starts_at, ends_at, ci,"
            " alertname, severity, labels) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
            " ON CONFLICT (key) DO UPDATE SET incident_id = EXCLUDED.incident_id,"
            " ends_at = EXCLUDED.ends_at",
            [(e.key, e.fingerprint, e.incident_id, e.starts_at, e.ends_at, e.ci, e.alertname,
              e.severity, labels_json(e.labels)) for e in b.episodes.values()])
    if b.episode_ends:
        await conn.executemany("UPDATE episodes SET ends_at = $1 WHERE key = $2",
                               [(at, key) for key, at in b.episode_ends.items()])
    if b.moves:
        moves = [(target, source) for source, target in b.moves]
        await conn.executemany("UPDATE episodes SET incident_id = $1 WHERE incident_id = $2",
                               moves)
        await conn.executemany(
            "INSERT INTO incident_cis (incident_id, ci) SELECT $1, ci FROM incident_cis"
            " WHERE incident_id = $2 ON CONFLICT DO NOTHING", moves)
    if b.incidents:
        await conn.executemany(
            "INSERT INTO incidents (id, status, opened_at, updated_at, doc, priority, team,"
            " root_ci, resolved_at, merged_into) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,"
            " updated_at = EXCLUDED.updated_at, doc = EXCLUDED.doc,"
            " priority = EXCLUDED.priority, team = EXCLUDED.team, root_ci = EXCLUDED.root_ci,"
            " resolved_at = EXCLUDED.resolved_at, merged_into = EXCLUDED.merged_into",
            [(i.id, i.status.value, i.opened_at, i.updated_at, incident_doc(i), i.priority.value,
              i.team, i.root_ci, i.resolved_at, i.merged_into) for i in b.incidents.values()])
        cis = [(i.id, ci) for i in b.incidents.values() for ci in i.cis]
        if cis:
            await conn.executemany(
                "INSERT INTO incident_cis (incident_id, ci) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING", cis)
    if b.timeline:
        await conn.copy_records_to_table(
            "timeline", columns=["incident_id", "at", "kind", "actor", "detail"],
            records=[(t.incident_id, t.at, t.kind, t.actor, dumps(t.detail)) for t in b.timeline])
    if b.outbox:
        await conn.executemany(
            "INSERT INTO outbox (receiver, idempotency_key, incident_id, event, payload,"
            " next_attempt_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$6)"
            " ON CONFLICT (idempotency_key) DO NOTHING",
            [(o.receiver, o.idempotency_key, o.incident_id, o.event, dumps(o.payload),
              o.created_at) for o in b.outbox])
    if b.cancel_timers:
        await conn.executemany(
            "UPDATE timers SET state = 'cancelled' WHERE incident_id = $1 AND state = 'pending'"
            " AND (kind = $2 OR $2 = '*')", sorted(b.cancel_timers))
    if b.timers:
        await conn.executemany(
            "INSERT INTO timers (incident_id, kind, level, due_at, target)"
            " VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT (incident_id, kind, level) DO UPDATE SET due_at = EXCLUDED.due_at,"
            " target = EXCLUDED.target, state = 'pending', fired_at = NULL"
            " WHERE timers.state <> 'fired'",
            [(t.incident_id, t.kind, t.level, t.due_at, t.target) for t in b.timers])
    if b.changes:
        await conn.executemany(
            "INSERT INTO changes (ci, summary, author, kind, started_at, ended_at, link,"
            " created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            [(c.ci, c.summary, c.author, c.kind, c.started_at, c.ended_at, c.link,
              c.created_at or c.started_at) for c in b.changes])
    if b.problems:
        await conn.executemany(
            "INSERT INTO problems (id, status, root_ci, signature, team, opened_at, closed_at,"
            " doc) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO UPDATE SET"
            " status = EXCLUDED.status, team = EXCLUDED.team, closed_at = EXCLUDED.closed_at,"
            " doc = EXCLUDED.doc",
            [(p.id, p.status, p.root_ci, p.signature, p.team, p.opened_at, p.closed_at,
              problem_doc(p)) for p in b.problems.values()])
    if b.windows:
        ended = [(name,) for name, doc in b.windows.items() if not doc]
        if ended:
            await conn.executemany("DELETE FROM maintenance_windows WHERE name = $1", ended)
        started = [(name, dumps(doc), doc["end"]) for name, doc in b.windows.items() if doc]
        if started:
            await conn.executemany(
                "INSERT INTO maintenance_windows (name, doc, ends_at) VALUES ($1,$2,$3)"
                " ON CONFLICT (name) DO UPDATE SET doc = EXCLUDED.doc,"
                " ends_at = EXCLUDED.ends_at", started)
    if b.fired_timers:
        await conn.execute(
            "UPDATE timers SET state = 'fired', fired_at = now()"
            " WHERE id = ANY($1::bigint[]) AND state = 'pending'", b.fired_timers)


def _episode(r: asyncpg.Record) -> EpisodeRecord:
    return EpisodeRecord(key=r[0], fingerprint=r[1], incident_id=r[2], starts_at=r[3],
                         ends_at=r[4], ci=r[5], alertname=r[6], severity=r[7],
                         labels=loads(r[8]))
