"""The dispatch stage's interface: priority, team, assignee and receivers for an incident.

The routing rules (``rules/``) implement :class:`Dispatcher`; until rules are
loaded, :class:`CmdbDispatcher` gives the CMDB's owning team and a priority
from the alert severity and the root CI's criticality.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ingestd.cmdb import CI
from ingestd.domain import Criticality, Priority
from ingestd.maintenance import Window


@dataclass(frozen=True, slots=True)
class DispatchContext:
    labels: Mapping[str, str]
    """Labels of the incident's most telling alert (on the root CI if one fired)."""
    root: CI | None
    root_inferred: bool
    blast_radius: int
    """How many business services depend on the root."""
    severity: str
    status: str
    at: datetime
    windows: tuple[Window, ...] = ()
    """Maintenance windows set through the API (those of the rules are the rules' own)."""


@dataclass(frozen=True, slots=True)
class Decision:
    priority: Priority
    priority_reason: str
    team: str | None
    assignee: str | None = None
    receivers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    runbook_url: str | None = None
    escalation: str | None = None
    suppressed: bool = False
    threshold_alerts: int = 0
    threshold_seconds: float = 0.0
    route_path: tuple[str, ...] = field(default_factory=tuple)
    held_by: str | None = None
    """Why the incident is held (a maintenance window): kept and marked, nobody told."""


class Dispatcher(Protocol):
    def decide(self, ctx: DispatchContext) -> Decision: ...


_SEVERITY_RANK = {"critical": 1, "page": 1, "error": 2, "high": 2, "warning": 3, "info": 4, "none": 4}
_CRITICALITY_BOOST = {Criticality.CRITICAL: 1, Criticality.HIGH: 0, Criticality.MEDIUM: 0,
                      Criticality.LOW: -1}


class CmdbDispatcher:
    """Team from the CMDB, priority from severity and criticality: the default route."""

    def decide(self, ctx: DispatchContext) -> Decision:
        rank = _SEVERITY_RANK.get(ctx.severity.lower(), 3)
        crit = ctx.root.criticality if ctx.root else Criticality.MEDIUM
        rank -= _CRITICALITY_BOOST[crit]
        if ctx.blast_radius >= 3:
            rank -= 1
        rank = min(4, max(0, rank))
        reason = (f"severity {ctx.severity or 'unknown'}, root criticality {crit.value},"
                  f" {ctx.blast_radius} business service(s) affected")
        return Decision(
            priority=Priority(f"P{rank}"),
            priority_reason=reason,
            team=ctx.root.team if ctx.root else None,
        )
