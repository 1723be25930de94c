"""The delivery worker: claims due outbox items and delivers them, receiver by receiver.

Each receiver has its own lane: its own concurrency limit, its own rate
limit, its own timeout. A slow or dead receiver fills only its own lane, so
it never holds up another receiver, and intake never waits on delivery at
all (it only writes outbox rows). Within a lane, the events of one incident
go out one at a time and in order, so a ticket is created before it is
commented on.

Every attempt ends in one of three store calls: ``mark_delivered``,
``mark_retry`` (with the back-off of :mod:`ingestd.notify.retry`) or
``mark_dead`` (a permanent error, or the receiver's ``max_attempts`` used up).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta

from ingestd.notify.config import RateLimit
from ingestd.notify.errors import DeliveryError
from ingestd.notify.metrics import NotifyMetrics
from ingestd.notify.model import Notification
from ingestd.notify.outbox import OutboxItem, OutboxStore
from ingestd.notify.receivers import Receiver
from ingestd.notify.retry import RetryPolicy

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# An item for a receiver missing from the config (say, removed by a reload) is
# retried this many times, so that a config fix can still deliver it.
UNKNOWN_RECEIVER_ATTEMPTS = 8
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """``count`` tokens refilled evenly over ``per`` seconds; ``reserve`` says how long to wait."""

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.capacity = float(limit.count)
        self.rate = limit.count / limit.per
        self.tokens = self.capacity
        self.stamp = now

    def reserve(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class _Lane:
    def __init__(self, receiver: Receiver, now: float) -> None:
        self.receiver = receiver
        self.queue: deque[OutboxItem] = deque()
        self.running: dict[int, asyncio.Task[None]] = {}
        self.busy_incidents: set[str] = set()
        self.bucket = TokenBucket(receiver.rate_limit, now) if receiver.rate_limit else None
        self.idle = asyncio.Event()
        self.idle.set()

    @property
    def backlog(self) -> int:
        return len(self.queue) + len(self.running)

    def holds(self, item_id: int) -> bool:
        return item_id in self.running or any(i.id == item_id for i in self.queue)


def _incident_of(item: OutboxItem) -> str:
    inc = item.payload.get("incident")
    return str(inc.get("id")) if isinstance(inc, Mapping) else f"item-{item.id}"


class OutboxWorker:
    def __init__(
        self,
        store: OutboxStore,
        receivers: Mapping[str, Receiver],
        clock: Clock,
        metrics: NotifyMetrics,
        *,
        policy: RetryPolicy | None = None,
        lease_owner: str | None = None,
        lease_for: timedelta = timedelta(minutes=2),
        batch: int = 100,
        poll_interval: float = 1.0,
        max_queued_per_receiver: int | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.receivers = dict(receivers)
        self.clock = clock
        self.metrics = metrics
        self.policy = policy or RetryPolicy()
        self.lease_owner = lease_owner or f"{socket.gethostname()}:{os.getpid()}"
        self.lease_for = lease_for
        self.batch = batch
        self.poll_interval = poll_interval
        self.max_queued = max_queued_per_receiver
        self.rng = rng or random.Random()
        self.sleep = sleep
        self._lanes: dict[str, _Lane] = {}
        self._wake = asyncio.Event()

    def _now_s(self) -> float:
        return self.clock().timestamp()

    def _lane(self, name: str) -> _Lane | None:
        lane = self._lanes.get(name)
        if lane is None and name in self.receivers:
            lane = self._lanes[name] = _Lane(self.receivers[name], self._now_s())
        return lane

    def wake(self) -> None:
        """Claim at once instead of at the next poll (call after committing outbox rows)."""
        self._wake.set()

    async def tick(self) -> int:
        """Claim the items due now and hand them to their lanes; returns how many were new."""
        now = self.clock()
        items = await self.store.claim_due(now, self.batch, self.lease_owner, self.lease_for)
        started = 0
        for item in sorted(items, key=lambda i: (i.created_at, i.id)):
            lane = self._lane(item.receiver)
            if lane is None:
                await self._unknown_receiver(item)
                continue
            if lane.holds(item.id):
                continue  # its lease ran out while it waited here; still ours
            cap = self.max_queued or lane.receiver.concurrency * 8
            if len(lane.queue) >= cap:
                # The lane is backed up: hand the item back rather than sit on its lease.
                await self.store.mark_retry(item.id, now + timedelta(seconds=self.poll_interval * 5),
                                            "receiver busy, not yet attempted", item.attempts)
                continue
            lane.queue.append(item)
            lane.idle.clear()
            started += 1
            self._pump(lane)
        self._gauge()
        return started

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            claimed = 0
            try:
                claimed = await self.tick()
            except Exception:
                log.exception("outbox: claiming due notifications failed; retrying")
            if claimed < self.batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def drain(self, receivers: Iterable[str] | None = None) -> None:
        """Wait until the named lanes (all by default) have nothing queued or running."""
        names = list(receivers) if receivers is not None else list(self._lanes)
        for name in names:
            lane = self._lanes.get(name)
            if lane is not None:
                await lane.idle.wait()

    async def close(self) -> None:
        """Stop: queued items go back to the store due now, running ones are cancelled."""
        now = self.clock()
        for lane in self._lanes.values():
            while lane.queue:
                item = lane.queue.popleft()
                with contextlib.suppress(Exception):
                    await self.store.mark_retry(item.id, now, "worker stopped before attempting",
                                                item.attempts)
            tasks = list(lane.running.values())
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _pump(self, lane: _Lane) -> None:
        while len(lane.running) < lane.receiver.concurrency:
            item = next((i for i in lane.queue if _incident_of(i) not in lane.busy_incidents), None)
            if item is None:
                break
            lane.queue.remove(item)
            lane.busy_incidents.add(_incident_of(item))
            task = asyncio.create_task(self._deliver(lane, item))
            lane.running[item.id] = task
            task.add_done_callback(functools.partial(self._done, lane, item))

    def _done(self, lane: _Lane, item: OutboxItem, _task: asyncio.Task[None]) -> None:
        lane.running.pop(item.id, None)
        lane.busy_incidents.discard(_incident_of(item))
        self._pump(lane)
        if not lane.backlog:
            lane.idle.set()
        self._gauge()

    def _gauge(self) -> None:
        for name, lane in self._lanes.items():
            self.metrics.pending.labels(name).set(lane.backlog)

    async def _deliver(self, lane: _Lane, item: OutboxItem) -> None:
        rcv = lane.receiver
        labels = (rcv.name, rcv.integration)
        attempts = item.attempts + 1
        if lane.bucket is not None:
            wait = lane.bucket.reserve(self._now_s())
            if wait > 0:
                await self.sleep(wait)
        error: DeliveryError | None = None
        started = time.monotonic()
        try:
            n = Notification.from_dict(item.payload)
            async with asyncio.timeout(rcv.timeout):
                await rcv.sender.send(n)
        except DeliveryError as e:
            error = e
        except TimeoutError:
            error = DeliveryError(f"no answer within {rcv.timeout:g}s", retryable=True)
        except (KeyError, ValueError, TypeError) as e:
            error = DeliveryError(f"stored notification is not valid: {e!r}", retryable=False)
        except Exception as e:  # a bug in a sender must not kill the lane
            log.exception("outbox: receiver %s failed unexpectedly", rcv.name)
            error = DeliveryError(f"{type(e).__name__}: {e}", retryable=True)
        self.metrics.latency.labels(*labels).observe(time.monotonic() - started)
        now = self.clock()
        try:
            if error is None:
                await self.store.mark_delivered(item.id, now)
                self.metrics.sent.labels(*labels).inc()
                return
            self.metrics.failed.labels(*labels).inc()
            if not error.retryable or attempts >= rcv.max_attempts:
                why = "permanent error" if not error.retryable else f"gave up after {attempts} attempts"
                log.warning("outbox: %s to %s dead-lettered (%s): %s",
                            item.idempotency_key, rcv.name, why, error)
                await self.store.mark_dead(item.id, now, f"{why}: {error}")
                self.metrics.dead.labels(*labels).inc()
                return
            next_at = now + self.policy.delay(attempts, self.rng, error)
            await self.store.mark_retry(item.id, next_at, str(error), attempts)
        except Exception:
            # The lease runs out and the item comes due again: at least once, never lost.
            log.exception("outbox: recording the outcome of item %s failed", item.id)

    async def _unknown_receiver(self, item: OutboxItem) -> None:
        defined = ", ".join(sorted(self.receivers)) or "none"
        error = f"receiver {item.receiver!r} is not configured (defined: {defined})"
        attempts = item.attempts + 1
        now = self.clock()
        if attempts >= UNKNOWN_RECEIVER_ATTEMPTS:
            await self.store.mark_dead(item.id, now, error)
        else:
            await self.store.mark_retry(item.id, now + self.policy.delay(attempts, self.rng),
                                        error, attempts)
