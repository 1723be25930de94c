"""Group commit: the pipeline's single writer.

Handlers put work on a bounded queue and wait. One task takes everything that
is waiting (up to ``max_batch`` items), runs it through the
:class:`~ingestd.pipeline.processor.Processor`, writes the resulting batch in
one transaction, and only then answers every waiter. Concurrent bodies thus
share one fsync. A full queue, a draining daemon or a failing store answers
:class:`~ingestd.intake.errors.Overloaded` (503: the sender retries).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ingestd import metrics
from ingestd.intake.errors import Overloaded
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.restore import restore
from ingestd.pipeline.work import Intake, Result, Work
from ingestd.store.base import Store, StoreError, StoreFull

log = logging.getLogger("ingestd.commit")

Waiter = tuple[Work, "asyncio.Future[Result]"]


async def take_waiting(queue: asyncio.Queue[Waiter], limit: int) -> list[Waiter]:
    """Wait for one item, then take every other one already waiting (up to ``limit``)."""
    waiting = [await queue.get()]
    while len(waiting) < limit:
        try:
            waiting.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return waiting


class Committer:
    def __init__(self, processor_factory: Callable[[], Processor], store: Store,
                 max_queue: int = 2000, max_batch: int = 500,
                 on_commit: Callable[[], Awaitable[None]] | None = None) -> None:
        self._factory = processor_factory
        self.processor = processor_factory()
        self.store = store
        self.max_batch = max_batch
        self._queue: asyncio.Queue[Waiter] = asyncio.Queue(maxsize=max_queue)
        self._draining = False
        self._task: asyncio.Task[None] | None = None
        self._failing_since: float | None = None
        self.on_commit = on_commit

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        await restore(self.processor, self.store)
        self._task = asyncio.create_task(self._run(), name="committer")

    async def submit(self, work: Work) -> Result:
        if self._draining:
            raise Overloaded("shutting down", retry_after=5)
        if self._failing_since is not None and time.monotonic() - self._failing_since < 1.0:
            raise Overloaded("the store is failing", retry_after=2)
        fut: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((work, fut))
        except asyncio.QueueFull:
            raise Overloaded("intake queue full", retry_after=1) from None
        metrics.QUEUE_DEPTH.set(self._queue.qsize())
        return await fut

    async def drain(self) -> None:
        """Refuse new work, commit what was taken, stop."""
        self._draining = True
        await self._queue.join()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        while True:
            waiting = await take_waiting(self._queue, self.max_batch)
            try:
                await self._commit(waiting)
            finally:
                for _ in waiting:
                    self._queue.task_done()
                metrics.QUEUE_DEPTH.set(self._queue.qsize())

    async def _commit(self, waiting: list[Waiter]) -> None:
        live = [(w, f) for w, f in waiting if not f.cancelled()]
        started = time.perf_counter()
        try:
            await self._recall([w for w, _ in live])
            batch, results, stats = self.processor.process([w for w, _ in live])
            await self.store.apply(batch)
        except Exception as e:  # any failure answers 503; the writer task must live on
            reason = "disk full" if isinstance(e, StoreFull) else "store error"
            if not isinstance(e, StoreError):
                log.exception("pipeline failed on a batch; state rebuilt from the store")
                reason = "internal error"
            else:
                log.error("commit failed: %s; state rebuilt from the store", e)
            self._failing_since = time.monotonic()
            metrics.COMMIT_FAILURES.labels(reason=reason).inc()
            for _, f in live:
                if not f.done():
                    f.set_exception(Overloaded(f"could not store the body ({reason})", 2))
            await self._rebuild()
            return
        self._failing_since = None
        metrics.observe_commit(len(live), time.perf_counter() - started, stats)
        for (_, f), res in zip(live, results, strict=True):
            if not f.done():
                f.set_result(res)
        if self.on_commit is not None and batch.outbox:
            await self.on_commit()

    async def _recall(self, work: list[Work]) -> None:
        """Fetch from the store the fingerprints dedup does not hold in memory (old alerts)."""
        lookup = getattr(self.store, "lookup_alerts", None)
        if lookup is None:
            return
        tracker = self.processor.tracker
        missing = {a.fingerprint for w in work if isinstance(w, Intake) for a in w.alerts
                   if tracker.get(a.fingerprint) is None}
        if missing:
            for k in await lookup(list(missing)):
                tracker.remember(k.fingerprint, k.episode, k.starts_at, k.ends_at, k.seen)

    async def _rebuild(self) -> None:
        while True:
            try:
                fresh = self._factory()
                await restore(fresh, self.store)
                self.processor = fresh
                return
            except StoreError as e:
                log.error("cannot reload state from the store (%s); retrying", e)
                await asyncio.sleep(1.0)
