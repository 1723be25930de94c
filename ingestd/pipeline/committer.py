"""Group commit: the pipeline's single writer.

Handlers put work on a bounded queue and wait. One task takes everything that
is waiting (up to ``max_batch`` items), runs it through the
:class:`~ingestd.pipeline.processor.Processor`, writes the resulting batch in
one transaction, and only then answers every waiter. Concurrent bodies thus
share one fsync. A full queue, a draining daemon or a failing store answers
:class:`~ingestd.intake.errors.Overloaded` (503: the sender retries).

While one batch is being written (on the store's thread, mostly waiting for
the disk), the next one is already processed. It is written, and answered,
only once the one before is stored; if that one failed, the next one, which
was processed on top of it, is refused too and the state is rebuilt from the
store, as after any failed commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ingestd import metrics
from ingestd.intake.errors import Overloaded
from ingestd.pipeline.processor import Processor, Stats
from ingestd.pipeline.restore import restore
from ingestd.pipeline.work import Intake, Result, Work
from ingestd.store.base import Store, StoreError, StoreFull
from ingestd.store.records import WriteBatch

log = logging.getLogger("ingestd.commit")

Waiter = tuple[Work, "asyncio.Future[Result]"]
Writing = asyncio.Task["str | None"]
"""A processed batch being stored: None once stored and answered, else why it failed."""


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
        return await fut  # (the queue depth gauge is read when /metrics is)

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
        writing: Writing | None = None
        while True:
            waiting, writing = await self._next_batch(writing)
            writing = await self._step(waiting, writing)

    async def _next_batch(self, writing: Writing | None) -> tuple[list[Waiter], Writing | None]:
        """The next batch, and the write still under way while it is processed (if any).

        With a write under way and no work waiting, whichever comes first: work, or the end
        of the write (settled here: a failed one is not left behind the next batch)."""
        if writing is not None and self._queue.empty():
            taking = asyncio.ensure_future(take_waiting(self._queue, self.max_batch))
            try:
                await asyncio.wait((taking, writing), return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                taking.cancel()
                raise
            if taking.done():
                return taking.result(), writing
            taking.cancel()  # still waiting for a first item: cancelled, it takes none
            await self._settle(writing)
            writing = None
        return await take_waiting(self._queue, self.max_batch), writing

    async def _step(self, waiting: list[Waiter], writing: Writing | None) -> Writing | None:
        """Process ``waiting`` while the batch before is ``writing``; then start its write."""
        live = [(w, f) for w, f in waiting if not f.cancelled()]
        started = time.perf_counter()
        try:
            await self._recall([w for w, _ in live])
            batch, results, stats = self.processor.process([w for w, _ in live])
        except Exception as e:  # any failure answers 503; the writer task must live on
            failed_before = await self._settle(writing) if writing is not None else None
            self._refuse(live, e)
            if failed_before is None:  # (else _settle has rebuilt the state already)
                await self._rebuild()
            self._done(waiting)
            return None
        failed_before = await self._settle(writing) if writing is not None else None
        if failed_before is not None:  # processed on top of a batch not stored: refused too
            self._unavailable(live, failed_before)
            self._done(waiting)
            return None
        write = self._write(waiting, live, batch, results, stats, started)
        if not batch:  # nothing for the disk (re-sends): no task of its own, answered now
            await self._settle(write)
            return None
        return asyncio.create_task(write)

    async def _write(self, waiting: list[Waiter], live: list[Waiter], batch: WriteBatch,
                     results: list[Result], stats: Stats, started: float) -> str | None:
        """Store a processed batch and answer its waiters; why not if it could not be stored."""
        try:
            await self.store.apply(batch)
        except Exception as e:
            return self._refuse(live, e)
        else:
            self._failing_since = None
            metrics.observe_commit(len(live), time.perf_counter() - started, stats)
            for (_, f), res in zip(live, results, strict=True):
                if not f.done():
                    f.set_result(res)
            if self.on_commit is not None and batch.outbox:
                await self.on_commit()
            return None
        finally:
            self._done(waiting)

    async def _settle(self, writing: Awaitable[str | None]) -> str | None:
        """Wait for the batch being written; if it failed, rebuild the state and say why."""
        failure = await writing
        if failure is not None:
            await self._rebuild()
        return failure

    def _refuse(self, live: list[Waiter], e: Exception) -> str:
        """A batch failed on ``e``: log it, count it, answer 503 (the senders retry)."""
        reason = "disk full" if isinstance(e, StoreFull) else "store error"
        if not isinstance(e, StoreError):
            log.error("pipeline failed on a batch; state rebuilt from the store", exc_info=e)
            reason = "internal error"
        else:
            log.error("commit failed: %s; state rebuilt from the store", e)
        self._failing_since = time.monotonic()
        metrics.COMMIT_FAILURES.labels(reason=reason).inc()
        self._unavailable(live, reason)
        return reason

    @staticmethod
    def _unavailable(live: list[Waiter], reason: str) -> None:
        for _, f in live:
            if not f.done():
                f.set_exception(Overloaded(f"could not store the body ({reason})", 2))

    def _done(self, waiting: list[Waiter]) -> None:
        for _ in waiting:
            self._queue.task_done()

    async def _recall(self, work: list[Work]) -> None:
        """Fetch from the store the fingerprints dedup does not hold in memory (old alerts)."""
        lookup = getattr(self.store, "lookup_alerts", None)
        if lookup is None:
            return
        tracker = self.processor.tracker
        held = tracker.fingerprints
        missing = {a.fingerprint for w in work if isinstance(w, Intake) for a in w.alerts
                   if a.fingerprint not in held}
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
