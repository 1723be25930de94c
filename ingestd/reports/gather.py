"""Reads what the service numbers need from the store (the I/O half of the reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ingestd.domain import IncidentStatus
from ingestd.reports.figures import REPEAT_WINDOW, IncidentFacts, facts_of
from ingestd.store.base import Store
from ingestd.store.records import IncidentQuery, IncidentRecord

PAGE = 1000
MAX_INCIDENTS = 20_000
"""A report reads at most this many incidents (newest first); ``truncated`` says so."""


@dataclass(slots=True)
class History:
    period: list[IncidentFacts]
    earlier: list[IncidentFacts]
    active: list[IncidentFacts]
    truncated: bool = False


async def _records(store: Store, query: IncidentQuery, cap: int) -> tuple[list[IncidentRecord], bool]:
    out: list[IncidentRecord] = []
    cursor = None
    while len(out) < cap:
        q = IncidentQuery(status=query.status, team=query.team, since=query.since,
                          limit=PAGE, cursor=cursor)
        rows = await store.list_incidents(q)
        out.extend(rows)
        if len(rows) < PAGE:
            return out, False
        cursor = (rows[-1].opened_at, rows[-1].id)
    return out[:cap], True


async def load_history(store: Store, start: datetime, now: datetime, team: str | None = None,
                       repeat_window: timedelta = REPEAT_WINDOW) -> History:
    """Incidents created since ``start - repeat_window`` (with the timelines of those
    since ``start``) and every incident active now."""
    # The store orders by opened_at (event time), which can lie long before created_at
    # (an alert that fired for days before it reached ingestd): read all, filter here.
    rows, truncated = await _records(store, IncidentQuery(status=tuple(IncidentStatus),
                                                          team=team), MAX_INCIDENTS)
    period, earlier = [], []
    for r in rows:
        created = r.created_at or r.opened_at
        if start <= created < now:
            period.append(facts_of(r, await store.incident_timeline(r.id)))
        elif start - repeat_window <= created < start:
            earlier.append(facts_of(r))
    active_rows, _ = await _records(store, IncidentQuery(team=team), MAX_INCIDENTS)
    return History(period, earlier, [facts_of(r) for r in active_rows], truncated)
