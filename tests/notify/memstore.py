"""An in-memory OutboxStore: a test double for the storage only."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingestd.notify.model import Notification
from ingestd.notify.outbox import OutboxItem


@dataclass
class Row:
    item: OutboxItem
    state: str = "pending"  # pending | delivered | dead
    next_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    attempts: int = 0
    error: str = ""
    settled_at: datetime | None = None


class MemoryOutbox:
    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self._ids = itertools.count(1)

    def add(self, n: Notification, created_at: datetime | None = None) -> int:
        item_id = next(self._ids)
        item = OutboxItem(id=item_id, receiver=n.receiver, idempotency_key=n.idempotency_key,
                          payload=n.to_dict(), attempts=0, created_at=created_at or n.at)
        self.rows[item_id] = Row(item, next_at=item.created_at)
        return item_id

    def state(self, item_id: int) -> str:
        return self.rows[item_id].state

    async def claim_due(self, now: datetime, limit: int, lease_owner: str,
                        lease_for: timedelta) -> list[OutboxItem]:
        due = [r for r in self.rows.values()
               if r.state == "pending" and (r.next_at is None or r.next_at <= now)
               and (r.lease_until is None or r.lease_until <= now)]
        due.sort(key=lambda r: (r.item.created_at, r.item.id))
        out = []
        for r in due[:limit]:
            r.lease_owner, r.lease_until = lease_owner, now + lease_for
            out.append(OutboxItem(r.item.id, r.item.receiver, r.item.idempotency_key,
                                  r.item.payload, r.attempts, r.item.created_at))
        return out

    async def mark_delivered(self, item_id: int, at: datetime) -> None:
        r = self.rows[item_id]
        r.state, r.settled_at, r.lease_until = "delivered", at, None
        r.attempts += 1

    async def mark_retry(self, item_id: int, next_at: datetime, error: str, attempts: int) -> None:
        r = self.rows[item_id]
        r.next_at, r.error, r.attempts, r.lease_until, r.lease_owner = next_at, error, attempts, None, None

    async def mark_dead(self, item_id: int, at: datetime, error: str) -> None:
        r = self.rows[item_id]
        r.state, r.settled_at, r.error, r.lease_until = "dead", at, error, None
        r.attempts += 1
