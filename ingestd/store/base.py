"""The store interface every backend implements (SQLite embedded, PostgreSQL shared).

    StoreError            the store failed; intake answers 503 and the sender retries
    +-- StoreFull         no space left (disk full)

All SQL lives behind this interface; the pipeline never sees a driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

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


class StoreError(Exception):
    """The store could not do what was asked; nothing of the batch was written."""


class StoreFull(StoreError):
    """The disk is full."""


class Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def apply(self, batch: WriteBatch) -> None:
        """Write the whole batch in one transaction, or raise StoreError and write nothing."""

    # -- state the pipeline rebuilds from at start ----------------------------------
    async def load_alerts(self) -> Sequence[AlertRecord]: ...

    async def load_active_incidents(self, resolved_since: datetime) -> Sequence[IncidentRecord]:
        """Open and acknowledged incidents, and those resolved at or after ``resolved_since``."""

    async def load_episodes(self, incident_ids: Sequence[str]) -> Sequence[EpisodeRecord]: ...

    # -- reads for the API ------------------------------------------------------------
    async def get_incident(self, incident_id: str) -> IncidentRecord | None: ...

    async def list_incidents(self, query: IncidentQuery) -> list[IncidentRecord]: ...

    async def incident_episodes(self, incident_id: str) -> list[EpisodeRecord]: ...

    async def incident_timeline(self, incident_id: str) -> list[TimelineRecord]: ...

    async def episodes_for(self, incident_ids: Sequence[str]) -> dict[str, list[EpisodeRecord]]:
        """The episodes of each incident, in start order."""

    async def all_incidents(self) -> list[IncidentRecord]: ...

    # -- context: changes, problems, knowledge, maintenance ---------------------------
    async def list_changes(self, ci: str | None, since: datetime | None,
                           limit: int = 100) -> list[ChangeRecord]: ...

    async def list_problems(self, status: str | None, limit: int = 100) -> list[ProblemRecord]: ...

    async def get_problem(self, problem_id: str) -> ProblemRecord | None: ...

    async def resolved_with_roots(self, roots: list[str], limit: int) -> list[IncidentRecord]: ...

    async def list_windows(self) -> list[dict[str, Any]]: ...

    async def counts(self) -> dict[str, int]: ...

    # -- timers and outbox ------------------------------------------------------------
    async def due_timers(self, now: datetime, limit: int) -> list[DueTimer]: ...

    async def outbox_rows(self, state: str | None, limit: int) -> list[dict[str, Any]]: ...

    async def integrity_check(self) -> str: ...
