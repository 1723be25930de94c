"""The pipeline shared by several replicas: every replica takes work, one runs it.

Correlation keeps its state in memory, so two replicas each correlating the
bodies they happen to receive would decide differently. Instead:

- **Intake scales out.** Every replica appends the bodies it accepts to the
  store's inbox, a group of waiting bodies in one transaction, and answers 2xx
  only after that commit. What an answer promises (the body is durable) holds
  whichever replica took it.
- **One replica leads.** The replica holding the store's pipeline lease (a
  PostgreSQL session advisory lock) reads the inbox in order, runs it through
  the :class:`~ingestd.pipeline.processor.Processor` and writes each batch in the
  transaction that also takes its work off the inbox: a crash between the two
  is impossible, so no body is applied twice or lost. When the leader dies its
  session ends, the lock is free, and another replica takes over within about
  a second, rebuilding its state from the store first.
- **People's actions** go through the inbox too; the replica that took the
  request waits for the leader's answer (:attr:`action_timeout`).
- **Clock ticks** (SLA and escalation timers) run on the leader only, so each
  timer fires once; a follower's tick is refused with :class:`NotLeader`.

:class:`ReplicatedCommitter` offers the surface of
:class:`~ingestd.pipeline.committer.Committer`: ``submit``, ``start``,
``drain``, ``depth`` and ``processor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from ingestd import metrics
from ingestd.domain import Alert, AlertStatus, frozen_labels
from ingestd.intake.errors import Overloaded
from ingestd.pipeline.committer import take_waiting
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.restore import restore
from ingestd.pipeline.work import (
    Action,
    ActionError,
    Intake,
    ProblemAction,
    ReportChange,
    Result,
    SetWindow,
    Tick,
    Work,
)
from ingestd.store.base import Store, StoreError
from ingestd.store.codec import dumps, loads
from ingestd.store.records import ChangeRecord, DueTimer, WriteBatch

log = logging.getLogger("ingestd.replicas")

Waiter = tuple[Work, "asyncio.Future[Result]"]
InboxRow = tuple[int, str, str]
Queued = Intake | ReportChange
"""Work whose answer needs nothing from the pipeline: stored is done."""
Awaited = Action | ProblemAction | SetWindow
"""Work whose answer the pipeline gives: the replica waits for the leader."""
Inboxed = Queued | Awaited


class NotLeader(Exception):
    """Only the replica leading the pipeline runs clock ticks."""


class Lease(Protocol):
    epoch: int

    @property
    def alive(self) -> bool: ...

    def wake(self, *_: object) -> None: ...

    async def wait_for_work(self, seconds: float) -> None: ...

    async def claim_inbox(self, limit: int) -> list[InboxRow]: ...

    async def due_timers(self, now: datetime, limit: int) -> list[DueTimer]: ...

    async def apply(self, batches: Sequence[WriteBatch],
                    done: Sequence[tuple[int, str | None]]) -> None: ...

    async def close(self) -> None: ...


class InboxStore(Store, Protocol):
    async def append_inbox(self, items: Sequence[tuple[str, str]]) -> None: ...

    async def append_inbox_one(self, kind: str, body: str) -> int: ...

    async def take_inbox_result(self, item_id: int) -> str | None: ...

    async def lead(self, holder: str) -> Any: ...


# -- work as inbox rows ------------------------------------------------------------------


def _t(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def encode_work(work: Inboxed) -> tuple[str, str]:
    """``(kind, JSON body)`` for the inbox."""
    if isinstance(work, ReportChange):
        c = work.change
        return "change", dumps({"ci": c.ci, "summary": c.summary, "started_at": _t(c.started_at),
                                "ended_at": _t(c.ended_at), "author": c.author, "kind": c.kind,
                                "link": c.link, "created_at": _t(c.created_at)})
    if isinstance(work, ProblemAction):
        return "problem", dumps({"problem_id": work.problem_id, "kind": work.kind,
                                 "actor": work.actor, "note": work.note})
    if isinstance(work, SetWindow):
        return "window", dumps({"doc": work.doc, "end_only": work.end_only})
    if not isinstance(work, Intake | Action):
        raise TypeError(f"{type(work).__name__} cannot go through the inbox")
    if isinstance(work, Intake):
        return "intake", dumps({"source": work.source, "alerts": [
            {"fingerprint": a.fingerprint, "status": a.status.value, "labels": dict(a.labels),
             "annotations": dict(a.annotations), "starts_at": a.starts_at.isoformat(),
             "ends_at": a.ends_at.isoformat() if a.ends_at else None,
             "generator_url": a.generator_url, "source": a.source}
            for a in work.alerts]})
    return "action", dumps({"incident_id": work.incident_id, "kind": work.kind,
                            "actor": work.actor, "note": work.note, "assignee": work.assignee})


def decode_work(kind: str, body: str) -> Inboxed:
    d = loads(body)
    if kind == "change":
        return ReportChange(ChangeRecord(
            ci=d["ci"], summary=d["summary"], started_at=datetime.fromisoformat(d["started_at"]),
            ended_at=_dt(d["ended_at"]), author=d["author"], kind=d["kind"], link=d["link"],
            created_at=_dt(d["created_at"])))
    if kind == "problem":
        return ProblemAction(d["problem_id"], d["kind"], d["actor"], d["note"])
    if kind == "window":
        return SetWindow(d["doc"], d["end_only"])
    if kind == "intake":
        return Intake([
            Alert(a["fingerprint"], AlertStatus(a["status"]), frozen_labels(a["labels"]),
                  frozen_labels(a["annotations"]), datetime.fromisoformat(a["starts_at"]),
                  datetime.fromisoformat(a["ends_at"]) if a["ends_at"] else None,
                  a["generator_url"], a["source"])
            for a in d["alerts"]], d["source"])
    if kind == "action":
        return Action(d["incident_id"], d["kind"], d["actor"], d["note"], d["assignee"])
    raise ValueError(f"unknown inbox item kind {kind!r}")


AWAITED = ("action", "problem", "window")


def encode_result(res: Result) -> str:
    if res.error is not None:
        return dumps({"error": {"status": res.error.status, "error": res.error.error,
                                "detail": res.error.detail}})
    return dumps({"id": getattr(res.incident, "id", None)})


def decode_result(doc: str) -> Result:
    d = loads(doc)
    if "failed" in d:
        return Result(error=ActionError(500, "not_applied", d["failed"]))
    err = d.get("error")
    if err:
        return Result(error=ActionError(err["status"], err["error"], err["detail"]))
    return Result(incident=d.get("id"))


# -- the committer -----------------------------------------------------------------------


class ReplicatedCommitter:
    def __init__(self, processor_factory: Callable[[], Processor], store: InboxStore,
                 max_queue: int = 2000, max_batch: int = 500,
                 on_commit: Callable[[], Awaitable[None]] | None = None,
                 *, holder: str | None = None, poll: float = 0.25, elect_every: float = 0.5,
                 action_timeout: float = 10.0) -> None:
        self._factory = processor_factory
        self.processor = processor_factory()
        self.store = store
        self.max_batch = max_batch
        self.on_commit = on_commit
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.poll = poll
        self.elect_every = elect_every
        self.action_timeout = action_timeout
        self.leading = False
        self._queue: asyncio.Queue[Waiter] = asyncio.Queue(maxsize=max_queue)
        self._ticks: list[tuple[Tick, asyncio.Future[Result]]] = []
        self._lease: Lease | None = None
        self._draining = False
        self._stopping = False
        self._failing_since: float | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._append_loop(), name="inbox-append"),
                       asyncio.create_task(self._lead_loop(), name="pipeline-lead")]

    # -- taking work --------------------------------------------------------------------

    async def submit(self, work: Work) -> Result:
        if self._draining:
            raise Overloaded("shutting down", retry_after=5)
        if isinstance(work, Tick):
            return await self._tick(work)
        if self._failing_since is not None and time.monotonic() - self._failing_since < 1.0:
            raise Overloaded("the store is failing", retry_after=2)
        if isinstance(work, Action | ProblemAction | SetWindow):
            return await self._action(work)
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((work, fut))
        except asyncio.QueueFull:
            raise Overloaded("intake queue full", retry_after=1) from None
        metrics.QUEUE_DEPTH.set(self._queue.qsize())
        return await fut

    async def _tick(self, tick: Tick) -> Result:
        if not self.leading or self._lease is None:
            raise NotLeader("another replica leads the pipeline and runs the clock")
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._ticks.append((tick, fut))
        self._lease.wake()
        return await fut

    async def _action(self, action: Awaited) -> Result:
        res = await self._awaited(action)
        if isinstance(action, ProblemAction) and res.error is None:
            # The answer names the problem; the caller wants the record, as the store has it.
            res.incident = await self.store.get_problem(res.incident)
        return res

    async def _awaited(self, action: Awaited) -> Result:
        kind, body = encode_work(action)
        try:
            item_id = await self.store.append_inbox_one(kind, body)
        except StoreError as e:
            self._failing_since = time.monotonic()
            raise Overloaded(f"could not store the action ({e})", 2) from e
        deadline = time.monotonic() + self.action_timeout
        delay = 0.005
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
            try:
                doc = await self.store.take_inbox_result(item_id)
            except StoreError:
                continue
            if doc is not None:
                return decode_result(doc)
        raise Overloaded("the action is stored but the pipeline has not applied it yet"
                         " (no replica leads it?); it will apply when one does", 5)

    async def _append_loop(self) -> None:
        while True:
            waiting = await take_waiting(self._queue, self.max_batch)
            try:
                live = [(w, f) for w, f in waiting if not f.cancelled()]
                try:
                    await self.store.append_inbox(
                        [encode_work(w) for w, _ in live if isinstance(w, Intake | ReportChange)])
                except Exception as e:  # noqa: BLE001 - every waiter must get an answer
                    if isinstance(e, StoreError):
                        log.error("could not append to the inbox: %s", e)
                    else:
                        log.exception("could not append to the inbox")
                    self._failing_since = time.monotonic()
                    metrics.COMMIT_FAILURES.labels(reason="store error").inc()
                    for _, f in live:
                        if not f.done():
                            f.set_exception(Overloaded("could not store the body (store error)", 2))
                    continue
                self._failing_since = None
                for _, f in live:
                    if not f.done():
                        f.set_result(Result())
            finally:
                for _ in waiting:
                    self._queue.task_done()
                metrics.QUEUE_DEPTH.set(self._queue.qsize())

    # -- leading ------------------------------------------------------------------------

    async def _lead_loop(self) -> None:
        while not self._stopping:
            try:
                lease: Lease | None = await self.store.lead(self.holder)
            except StoreError as e:
                log.debug("cannot compete for the pipeline lease: %s", e)
                lease = None
            if lease is None:
                await asyncio.sleep(self.elect_every)
                continue
            log.info("leading the pipeline (epoch %d)", lease.epoch)
            self._lease = lease
            try:
                await self._run(lease)
            except StoreError as e:
                log.error("gave up the pipeline lease: %s; competing for it again", e)
                metrics.COMMIT_FAILURES.labels(reason="store error").inc()
            except Exception:  # noqa: BLE001 - the pipeline must find a leader again
                log.exception("gave up the pipeline lease; competing for it again")
                metrics.COMMIT_FAILURES.labels(reason="internal error").inc()
                await asyncio.sleep(self.elect_every)
            finally:
                self.leading = False
                self._lease = None
                for _, f in self._ticks:
                    if not f.done():
                        f.set_exception(NotLeader("the pipeline lease was lost"))
                self._ticks.clear()
                await lease.close()

    async def _run(self, lease: Lease) -> None:
        fresh = self._factory()
        await restore(fresh, self.store)
        self.processor = fresh
        self.leading = True
        while not self._stopping:
            if not lease.alive:
                raise StoreError("the lease's session closed")
            rows = await lease.claim_inbox(self.max_batch)
            ticks, self._ticks = self._ticks, []
            if not rows and not ticks:
                await lease.wait_for_work(self.poll)
                continue
            await self._step(lease, rows, ticks)

    async def _step(self, lease: Lease, rows: list[InboxRow],
                    ticks: list[tuple[Tick, asyncio.Future[Result]]]) -> None:
        started = time.perf_counter()
        work: list[Work] = []
        taken: list[tuple[int, str]] = []
        settled: list[tuple[int, str | None]] = []
        for row_id, kind, body in rows:
            try:
                work.append(decode_work(kind, body))
                taken.append((row_id, kind))
            except (ValueError, KeyError, TypeError) as e:
                log.error("inbox item %d set aside, it cannot be read: %s", row_id, e)
                settled.append((row_id, dumps({"failed": f"cannot be read: {e}"})))
        for t, _ in ticks:
            # The leader is the only writer of timers: what it reads now is what is due.
            work.append(Tick(t.now, await lease.due_timers(t.now, 200)))
        try:
            # One item at a time, as one process takes bodies sent one at a time: the
            # incidents do not depend on how much work happened to wait. The writes of
            # all of them still share one transaction.
            batches, results, stats = [], [], []
            for item in work:
                b, res, st = self.processor.process([item])
                batches.append(b)
                results += res
                stats.append(st)
            settled += [(row_id, encode_result(res) if kind in AWAITED else None)
                        for (row_id, kind), res in zip(taken, results, strict=False)]
            await lease.apply(batches, settled)
        except StoreError as e:
            if not getattr(e, "permanent", False):
                raise
            log.error("the store refused a batch (%s); applying its work one item at a time", e)
            await self._one_by_one(lease, rows)
            return
        except (RuntimeError, ValueError, KeyError, TypeError):
            log.exception("pipeline failed on a batch; applying its work one item at a time")
            await self._one_by_one(lease, rows)
            return
        finally:
            for _, f in ticks:
                if not f.done():
                    f.set_result(Result())
        share = (time.perf_counter() - started) / max(len(work), 1)
        for st in stats:
            metrics.observe_commit(1, share, st)
        if self.on_commit is not None and any(b.outbox for b in batches):
            await self.on_commit()

    async def _one_by_one(self, lease: Lease, rows: list[InboxRow]) -> None:
        """Rebuild from the store, then apply each item alone; set aside the ones that fail."""
        await self._rebuild()
        for row_id, kind, body in rows:
            try:
                batch, results, _ = self.processor.process([decode_work(kind, body)])
                await lease.apply([batch], [(row_id, encode_result(results[0])
                                           if kind in AWAITED else None)])
                continue
            except StoreError as e:
                if not getattr(e, "permanent", False):
                    raise
                why = str(e)
            except (RuntimeError, ValueError, KeyError, TypeError) as e:
                why = f"{type(e).__name__}: {e}"
            log.error("inbox item %d set aside, it cannot be applied: %s", row_id, why)
            metrics.COMMIT_FAILURES.labels(reason="internal error").inc()
            await self._rebuild()
            await lease.apply([], [(row_id, dumps({"failed": why}))])

    async def _rebuild(self) -> None:
        fresh = self._factory()
        await restore(fresh, self.store)
        self.processor = fresh

    # -- stopping -----------------------------------------------------------------------

    async def drain(self) -> None:
        """Refuse new work, store what was taken, finish the batch being applied, stop."""
        self._draining = True
        await self._queue.join()
        self._stopping = True
        if self._lease is not None:
            self._lease.wake()
        append, lead = self._tasks or (None, None)
        if lead is not None:
            try:
                await asyncio.wait_for(asyncio.shield(lead), 10.0)
            except TimeoutError:
                lead.cancel()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
