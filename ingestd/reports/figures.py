"""The service numbers: pure functions from incidents and their timelines to figures.

Definitions (docs/console.md repeats them for readers of the reports):

- *time to acknowledge* (TTA): from the moment ingestd opened the incident
  (``created_at``, where the SLA clock starts) to its first acknowledgement;
  *time to resolve* (TTR): from the same start to its (last) resolution.
- *median* and *p90* interpolate linearly between the sorted samples (the
  median of an even count is the mean of the two middle values).
- *SLA compliance*: of the incidents whose target is decided, the share that met
  it. The acknowledge target is met by an acknowledgement or a resolution
  within it; an incident still open past a deadline breached it; one still
  inside its deadline is *pending* and counts on neither side.
- *repeat incident*: one whose fault (root CI and alert name) already had an
  incident opened in the ``repeat_window`` before it.
- *alert-to-incident compression*: alert episodes per incident.
- *open incidents by age*: incidents open or acknowledged now, by time since opened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ingestd.domain import IncidentStatus, Priority
from ingestd.pipeline.sla import DEFAULT_TARGETS, Targets
from ingestd.store.records import IncidentRecord, TimelineRecord

AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("<1h", timedelta(hours=1)),
    ("1h-4h", timedelta(hours=4)),
    ("4h-24h", timedelta(hours=24)),
    ("1d-7d", timedelta(days=7)),
    (">7d", timedelta.max),
)
"""Age buckets of open incidents: (label, upper bound, exclusive)."""

REPEAT_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the numbers need of one incident."""

    id: str
    created_at: datetime
    priority: Priority
    status: IncidentStatus
    team: str | None = None
    root_ci: str | None = None
    alertname: str = ""
    alerts: int = 0
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    reopened: bool = False
    suspects: frozenset[tuple[str, str]] = frozenset()
    """Changes (CI, start) that came shortly before it on its root or what the root needs."""
    problem: str | None = None

    @property
    def fault(self) -> tuple[str, str] | None:
        """What makes two incidents the same fault: root CI and alert name."""
        if not self.root_ci and not self.alertname:
            return None
        return (self.root_ci or "", self.alertname)


def facts_of(rec: IncidentRecord, timeline: Sequence[TimelineRecord] = ()) -> IncidentFacts:
    """The facts of one stored incident; the timeline gives the first acknowledgement."""
    first_ack = next((t.at for t in timeline if t.kind == "acknowledged"), None)
    done = rec.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
    return IncidentFacts(
        id=rec.id, created_at=rec.created_at or rec.opened_at, priority=rec.priority,
        status=rec.status, team=rec.team, root_ci=rec.root_ci,
        alertname=rec.labels.get("alertname", ""), alerts=rec.alert_count,
        acknowledged_at=first_ack or rec.acknowledged_at,
        resolved_at=rec.resolved_at if done else None,
        reopened=any(t.kind == "reopened" for t in timeline),
        suspects=frozenset((str(s.get("ci")), str(s.get("started_at"))) for s in rec.suspects),
        problem=rec.problem_id,
    )


def change_figures(facts: Sequence[IncidentFacts],
                   changes: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Share of incidents that followed a change; share of changes followed by an incident."""
    after = sum(1 for f in facts if f.suspects)
    blamed = set().union(*(f.suspects for f in facts)) if facts else set()
    failed = sum(1 for c in changes if c in blamed)
    return {
        "incidents_after_change": after,
        "incidents_after_change_rate": round(after / len(facts), 4) if facts else None,
        "changes": len(changes),
        "changes_followed_by_incident": failed,
        "change_failure_rate": round(failed / len(changes), 4) if changes else None,
    }


def problem_figures(facts: Sequence[IncidentFacts]) -> dict[str, Any]:
    """How many incidents belong to a problem record (a fault that keeps recurring)."""
    inside = sum(1 for f in facts if f.problem)
    return {"incidents_in_problems": inside,
            "incident_to_problem_rate": round(inside / len(facts), 4) if facts else None,
            "problems": len({f.problem for f in facts if f.problem})}


# -- statistics ---------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between sorted values; None if empty."""
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def durations(values: Sequence[float]) -> dict[str, Any]:
    return {"count": len(values), "median_seconds": quantile(values, 0.5),
            "p90_seconds": quantile(values, 0.9)}


def _tta(f: IncidentFacts) -> float | None:
    return (f.acknowledged_at - f.created_at).total_seconds() if f.acknowledged_at else None


def _ttr(f: IncidentFacts) -> float | None:
    return (f.resolved_at - f.created_at).total_seconds() if f.resolved_at else None


def response_times(facts: Iterable[IncidentFacts]) -> dict[str, Any]:
    items = list(facts)
    tta = [v for v in map(_tta, items) if v is not None]
    ttr = [v for v in map(_ttr, items) if v is not None]
    return {"incidents": len(items), "time_to_acknowledge": durations(tta),
            "time_to_resolve": durations(ttr)}


# -- SLA ------------------------------------------------------------------------------


def sla_outcome(f: IncidentFacts, target: str, now: datetime,
                targets: Mapping[Priority, Targets] = DEFAULT_TARGETS) -> str:
    """``met``, ``breached`` or ``pending`` for the ``acknowledge`` or ``resolve`` target."""
    t = targets[f.priority]
    if target == "acknowledge":
        limit = t.acknowledge
        done = min((x for x in (f.acknowledged_at, f.resolved_at) if x), default=None)
    else:
        limit, done = t.resolve, f.resolved_at
    deadline = f.created_at + limit
    if done is not None:
        return "met" if done <= deadline else "breached"
    return "breached" if now > deadline else "pending"


def sla_compliance(facts: Iterable[IncidentFacts], now: datetime,
                   targets: Mapping[Priority, Targets] = DEFAULT_TARGETS) -> dict[str, Any]:
    items = list(facts)
    out: dict[str, Any] = {}
    for target in ("acknowledge", "resolve"):
        counts = {"met": 0, "breached": 0, "pending": 0}
        for f in items:
            counts[sla_outcome(f, target, now, targets)] += 1
        decided = counts["met"] + counts["breached"]
        out[target] = {**counts, "compliance": counts["met"] / decided if decided else None}
    return out


# -- repeats, compression, age ----------------------------------------------------------


def repeats(period: Iterable[IncidentFacts], earlier: Iterable[IncidentFacts] = (),
            window: timedelta = REPEAT_WINDOW) -> dict[str, Any]:
    """How many incidents of ``period`` repeat a fault seen within ``window`` before them.

    ``earlier`` holds incidents before the period (they can be what is repeated).
    """
    items = sorted(period, key=lambda f: (f.created_at, f.id))
    last_seen: dict[tuple[str, str], datetime] = {}
    for f in sorted(earlier, key=lambda f: f.created_at):
        if f.fault is not None:
            last_seen[f.fault] = f.created_at
    count = 0
    for f in items:
        if f.fault is None:
            continue
        prev = last_seen.get(f.fault)
        if prev is not None and f.created_at - prev <= window:
            count += 1
        last_seen[f.fault] = f.created_at
    return {"incidents": len(items), "repeats": count,
            "rate": count / len(items) if items else None,
            "window_seconds": int(window.total_seconds())}


def compression(facts: Iterable[IncidentFacts]) -> dict[str, Any]:
    items = list(facts)
    alerts = sum(f.alerts for f in items)
    return {"alerts": alerts, "incidents": len(items),
            "ratio": alerts / len(items) if items else None}


def age_bucket(age: timedelta) -> str:
    for label, bound in AGE_BUCKETS:
        if age < bound:
            return label
    return AGE_BUCKETS[-1][0]


def open_by_age(active: Iterable[IncidentFacts], now: datetime) -> list[dict[str, Any]]:
    """Per age bucket, the open or acknowledged incidents by priority and in total."""
    rows: dict[str, dict[str, Any]] = {
        label: {"age": label, "total": 0, **{p.value: 0 for p in Priority}}
        for label, _ in AGE_BUCKETS}
    for f in active:
        if not f.status.is_active:
            continue
        row = rows[age_bucket(now - f.created_at)]
        row[f.priority.value] += 1
        row["total"] += 1
    return list(rows.values())


# -- grouping -------------------------------------------------------------------------


def week_of(at: datetime) -> tuple[str, date]:
    """ISO week (``2026-W02``) of a time, in UTC, and the Monday it starts."""
    d = at.astimezone(UTC).date()
    year, week, weekday = d.isocalendar()
    return f"{year}-W{week:02d}", d - timedelta(days=weekday - 1)


def by_week(facts: Iterable[IncidentFacts], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Response times per ISO week from the week of ``start`` to that of ``end`` (empty weeks too)."""
    groups: dict[str, list[IncidentFacts]] = {}
    for f in facts:
        groups.setdefault(week_of(f.created_at)[0], []).append(f)
    out = []
    _, monday = week_of(start)
    last = week_of(end)[1]
    while monday <= last:
        label = week_of(datetime.combine(monday, datetime.min.time(), UTC))[0]
        out.append({"week": label, "starts": monday.isoformat(),
                    **response_times(groups.get(label, []))})
        monday += timedelta(days=7)
    return out


def by_key(facts: Iterable[IncidentFacts], key: str, now: datetime,
           targets: Mapping[Priority, Targets] = DEFAULT_TARGETS) -> list[dict[str, Any]]:
    """Response times and SLA compliance per team or per priority."""
    groups: dict[str, list[IncidentFacts]] = {}
    for f in facts:
        value = f.priority.value if key == "priority" else (f.team or "")
        groups.setdefault(value, []).append(f)
    return [{key: k or None, **response_times(v), "sla": sla_compliance(v, now, targets)}
            for k, v in sorted(groups.items())]


# -- the whole report ---------------------------------------------------------------------


def build_report(period: Sequence[IncidentFacts], active: Sequence[IncidentFacts],
                 now: datetime, start: datetime, *, earlier: Sequence[IncidentFacts] = (),
                 targets: Mapping[Priority, Targets] = DEFAULT_TARGETS,
                 repeat_window: timedelta = REPEAT_WINDOW,
                 changes: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Every figure for the incidents opened in [start, now) (``period``).

    ``active`` are the incidents open or acknowledged now (whatever their age);
    ``earlier`` those opened in the ``repeat_window`` before ``start``.
    """
    inside = [f for f in period if start <= f.created_at < now]
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "window": {"from": start.astimezone(UTC).strftime(iso),
                   "to": now.astimezone(UTC).strftime(iso),
                   "days": round((now - start).total_seconds() / 86400, 3)},
        **response_times(inside),
        "sla": sla_compliance(inside, now, targets),
        "sla_targets": {p.value: {"acknowledge_seconds": int(t.acknowledge.total_seconds()),
                                  "resolve_seconds": int(t.resolve.total_seconds())}
                        for p, t in targets.items()},
        "by_week": by_week(inside, start, now),
        "by_team": by_key(inside, "team", now, targets),
        "by_priority": by_key(inside, "priority", now, targets),
        "repeat": repeats(inside, earlier, repeat_window),
        "reopened": {"incidents": sum(1 for f in inside if f.reopened)},
        "compression": compression(inside),
        "changes": change_figures(inside, changes),
        "problems": problem_figures(inside),
        "open_by_age": open_by_age(active, now),
        "open": sum(1 for f in active if f.status.is_active),
    }
