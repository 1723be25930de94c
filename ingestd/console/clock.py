"""SLA clocks of incidents and the order of the incident list (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingestd.domain import IncidentStatus, Priority
from ingestd.pipeline.sla import DEFAULT_TARGETS, Targets
from ingestd.store.records import IncidentRecord


@dataclass(frozen=True, slots=True)
class SlaClock:
    """The next SLA deadline of an incident: ``acknowledge`` while open, then ``resolve``."""

    target: str | None
    deadline: datetime | None
    remaining: timedelta | None

    @property
    def breached(self) -> bool:
        return self.remaining is not None and self.remaining < timedelta(0)

    @property
    def text(self) -> str:
        if self.remaining is None or self.target is None:
            return "—"
        span = human_span(abs(self.remaining))
        verb = "acknowledge" if self.target == "acknowledge" else "resolve"
        if self.breached:
            return f"{verb} overdue by {span}"
        return f"{verb} within {span}"


def sla_clock(rec: IncidentRecord, now: datetime,
              targets: Mapping[Priority, Targets] = DEFAULT_TARGETS) -> SlaClock:
    start = rec.created_at or rec.opened_at
    t = targets.get(rec.priority)
    if t is None or not rec.status.is_active:
        return SlaClock(None, None, None)
    if rec.status is IncidentStatus.OPEN:
        deadline, target = start + t.acknowledge, "acknowledge"
    else:
        deadline, target = start + t.resolve, "resolve"
    return SlaClock(target, deadline, deadline - now)


def most_urgent_first(records: Iterable[IncidentRecord], now: datetime,
                      targets: Mapping[Priority, Targets] = DEFAULT_TARGETS
                      ) -> list[tuple[IncidentRecord, SlaClock]]:
    """Active incidents by their next deadline (the most overdue first), then the rest,
    the most recently changed first."""
    rows = [(r, sla_clock(r, now, targets)) for r in records]
    active = sorted((x for x in rows if x[1].deadline is not None),
                    key=lambda x: (x[1].deadline, x[0].priority.rank, x[0].id))
    rest = sorted((x for x in rows if x[1].deadline is None),
                  key=lambda x: x[0].updated_at, reverse=True)
    return active + rest


def human_span(d: timedelta) -> str:
    """``45s``, ``12m``, ``3h 5m``, ``2d 4h``."""
    s = int(d.total_seconds())
    if s < 60:
        return f"{s}s"
    m, h, days = s // 60, s // 3600, s // 86400
    if s < 3600:
        return f"{m}m"
    if s < 86400:
        return f"{h}h {m % 60}m" if m % 60 else f"{h}h"
    return f"{days}d {h % 24}h" if h % 24 else f"{days}d"
