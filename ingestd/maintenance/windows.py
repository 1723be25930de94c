"""Maintenance windows and the pure question "is this alert's CI under maintenance?".

A window names CIs and a span of time (``start`` .. ``end``), optionally
repeating daily or weekly at the same local wall-clock time. During a
window, alerts on the named CIs are held (kept and marked, nobody told), and
so are the symptom alerts of their dependents - a CI that needs a CI under
maintenance - unless the window says ``include_dependents: false``.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


class Every(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def period(self) -> timedelta:
        return timedelta(days=1 if self is Every.DAILY else 7)


@dataclass(frozen=True, slots=True)
class Recurrence:
    every: Every
    timezone: ZoneInfo
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    cis: frozenset[str]
    start: datetime
    end: datetime
    recurring: Recurrence | None = None
    include_dependents: bool = True
    reason: str = ""

    def active_span(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence of this window that covers ``at``, if any."""
        if self.recurring is None:
            return (self.start, self.end) if self.start <= at < self.end else None
        r = self.recurring
        if at < self.start or (r.until is not None and at >= r.until):
            return None
        tz = r.timezone
        local_start = self.start.astimezone(tz)
        duration = self.end - self.start
        period_days = r.every.period.days
        # occurrences start on local dates start, start+period, ... at the same wall time
        elapsed_days = (at.astimezone(tz).date() - local_start.date()).days
        n = elapsed_days // period_days
        lookback = duration.days // period_days + 1
        for k in range(n, max(n - lookback, 0) - 1, -1):
            day = local_start.date() + timedelta(days=k * period_days)
            occ = datetime.combine(day, local_start.timetz().replace(tzinfo=None), tzinfo=tz)
            if occ <= at < occ + duration:
                return occ, occ + duration
        return None

    def is_active(self, at: datetime) -> bool:
        return self.active_span(at) is not None


@dataclass(frozen=True, slots=True)
class Hold:
    """Why an alert is held: which window, and which CI of it is under maintenance."""

    window: Window
    ci: str
    via_dependency: bool
    until: datetime

    @property
    def reason(self) -> str:
        how = f"it depends on {self.ci}, " if self.via_dependency else ""
        return f'maintenance window "{self.window.name}": {how}{self.ci} is under maintenance until {self.until.isoformat()}'


def is_in_maintenance(
    windows: Iterable[Window],
    ci: str | None,
    depends_on: Collection[str],
    at: datetime,
) -> Hold | None:
    """Whether an alert on ``ci`` is held at ``at``.

    ``depends_on`` is everything ``ci`` needs, directly or not (in the CMDB,
    ``networkx.descendants(graph, ci)``): when one of those is in an active
    window that includes dependents, the alert is a symptom and is held too.
    """
    for w in windows:
        span = w.active_span(at)
        if span is None:
            continue
        if ci is not None and ci in w.cis:
            return Hold(w, ci, False, span[1])
        if w.include_dependents:
            for upstream in sorted(w.cis.intersection(depends_on)):
                return Hold(w, upstream, True, span[1])
    return None
