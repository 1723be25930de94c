"""The outbox: notifications stored with the change that caused them, until delivered.

The store writes an item in the same transaction as the incident change; the
:class:`~ingestd.notify.worker.OutboxWorker` claims due items under a lease
(so several replicas never deliver the same item at once, and an item held by
a crashed process comes due again when its lease runs out) and settles each as
delivered, to retry at a later time, or dead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    receiver: str
    idempotency_key: str
    payload: Mapping[str, Any]  # Notification.to_dict()
    attempts: int
    created_at: datetime


class OutboxStore(Protocol):
    async def claim_due(self, now: datetime, limit: int, lease_owner: str,
                        lease_for: timedelta) -> list[OutboxItem]:
        """Up to ``limit`` pending items whose next attempt is due at ``now`` and which no
        live lease holds, oldest first; leased to ``lease_owner`` until ``now + lease_for``."""

    async def mark_delivered(self, item_id: int, at: datetime) -> None: ...

    async def mark_retry(self, item_id: int, next_at: datetime, error: str, attempts: int) -> None:
        """Release the lease; due again at ``next_at``; ``attempts`` made so far."""

    async def mark_dead(self, item_id: int, at: datetime, error: str) -> None: ...
