"""What the store keeps: rows as plain dataclasses, and the writes a batch is made of.

The pipeline works in memory and describes what changed as a :class:`WriteBatch`;
a store applies one batch in one transaction (group commit), so everything a
batch of bodies caused is durable together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ingestd.domain import IncidentStatus, Priority


@dataclass(slots=True)
class IncidentRecord:
    id: str
    status: IncidentStatus
    opened_at: datetime
    """Event time: when its first alert started firing."""
    updated_at: datetime
    created_at: datetime | None = None
    """Wall-clock time ingestd opened it: the SLA clock starts here."""
    title: str = ""
    priority: Priority = Priority.P3
    priority_reason: str = ""
    root_ci: str | None = None
    root_inferred: bool = False
    cis: list[str] = field(default_factory=list)
    team: str | None = None
    assignee: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    runbook_url: str | None = None
    receivers: list[str] = field(default_factory=list)
    escalation: str | None = None
    suppressed: bool = False
    suspects: list[dict[str, Any]] = field(default_factory=list)
    """Changes on the root CI or its dependencies shortly before the incident began."""
    problem_id: str | None = None
    held_by: str | None = None
    """A maintenance window holds it: kept and marked, nobody told until the window ends."""
    alert_count: int = 0
    firing_count: int = 0
    last_activity: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    merged_into: str | None = None
    linked_to: str | None = None
    notified: bool = False
    seq: int = 0
    """Bumped on every change that is notified; part of the idempotency key."""


@dataclass(slots=True)
class AlertRecord:
    fingerprint: str
    source: str
    labels: Mapping[str, str]
    """Read-only: the alert's own maps, not copies."""
    annotations: Mapping[str, str]
    status: str
    starts_at: datetime
    ends_at: datetime | None
    episode: str
    last_seen: datetime
    seen: int = 1
    generator_url: str = ""


class KnownAlert(NamedTuple):
    """What deduplication needs of a stored alert: its latest episode."""

    fingerprint: str
    episode: str
    starts_at: datetime
    ends_at: datetime | None
    seen: int


@dataclass(slots=True)
class EpisodeRecord:
    key: str
    fingerprint: str
    incident_id: str
    starts_at: datetime
    ends_at: datetime | None
    ci: str | None
    alertname: str
    severity: str
    labels: Mapping[str, str]
    """Read-only: the alert's own map, not a copy."""


@dataclass(frozen=True, slots=True)
class TimelineRecord:
    incident_id: str
    at: datetime
    kind: str
    actor: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    receiver: str
    idempotency_key: str
    incident_id: str
    event: str
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TimerRecord:
    incident_id: str
    kind: str  # "sla_ack" | "sla_resolve" | "escalation"
    level: int
    due_at: datetime
    target: str = ""


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """A deployment or configuration change reported on a CI."""

    ci: str
    summary: str
    started_at: datetime
    ended_at: datetime | None = None
    author: str = ""
    kind: str = "deployment"
    link: str = ""
    id: int | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class ProblemRecord:
    """A fault that keeps recurring: the incidents it caused, and what people noted."""

    id: str
    status: str  # "open" | "closed"
    root_ci: str | None
    signature: str
    opened_at: datetime
    team: str | None = None
    incidents: list[str] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    closed_at: datetime | None = None


@dataclass(slots=True)
class WriteBatch:
    alerts: dict[str, AlertRecord] = field(default_factory=dict)
    seen_only: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    """Fingerprint -> (extra times seen, last seen): re-sends that changed nothing else."""
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)
    episode_ends: dict[str, datetime] = field(default_factory=dict)
    """Episode key -> ends_at, for episodes that resolved."""
    moves: list[tuple[str, str]] = field(default_factory=list)
    """(source, target): every episode of incident source now belongs to target (a merge)."""
    incidents: dict[str, IncidentRecord] = field(default_factory=dict)
    timeline: list[TimelineRecord] = field(default_factory=list)
    outbox: list[OutboxRecord] = field(default_factory=list)
    timers: list[TimerRecord] = field(default_factory=list)
    cancel_timers: set[tuple[str, str]] = field(default_factory=set)
    """(incident id, kind or "*"): pending timers that stop (acknowledged or resolved)."""
    fired_timers: list[int] = field(default_factory=list)
    changes: list[ChangeRecord] = field(default_factory=list)
    problems: dict[str, ProblemRecord] = field(default_factory=dict)
    windows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Maintenance windows set through the API, by name (an empty dict ends one)."""

    def __bool__(self) -> bool:
        return bool(
            self.alerts or self.seen_only or self.episodes or self.episode_ends or self.moves
            or self.incidents or self.timeline
            or self.outbox or self.timers or self.cancel_timers or self.fired_timers
            or self.changes or self.problems or self.windows
        )


@dataclass(frozen=True, slots=True)
class IncidentQuery:
    status: tuple[IncidentStatus, ...] = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)
    priority: tuple[str, ...] = ()
    team: str | None = None
    ci: str | None = None
    since: datetime | None = None
    limit: int = 100
    cursor: tuple[datetime, str] | None = None


@dataclass(frozen=True, slots=True)
class DueTimer:
    id: int
    incident_id: str
    kind: str
    level: int
    due_at: datetime
    target: str
