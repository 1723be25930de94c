"""The loaded rules as one immutable object, and routing an incident through them.

The pipeline builds a :class:`RoutingContext` for an incident (usually with
:meth:`RuleSet.context`, which looks the root CI and its blast radius up in
the CMDB) and calls :meth:`RuleSet.route`; the :class:`RoutingDecision`
says who owns the incident, how urgent it is and whom to tell, with the
matched path through the routing tree for people to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import networkx as nx

from ingestd.classify import DEFAULT_PRIORITY_MATRIX, PriorityMatrix
from ingestd.cmdb import CI, Cmdb
from ingestd.domain import EMPTY_LABELS, Labels, Priority, frozen_labels
from ingestd.escalate import SlaPolicy, Target, Timer, timers
from ingestd.maintenance import Hold, Window, is_in_maintenance
from ingestd.oncall import Team
from ingestd.route.runbook import render
from ingestd.route.tree import (
    Path,
    Route,
    Threshold,
    match_paths,
    resolve,
    resolve_receivers,
    resolve_tags,
)


def business_services(cmdb: Cmdb, ci_id: str) -> set[str]:
    """The business services that need ``ci_id`` (its own included): the CIs' ``service``
    names, and the ids of CIs of type ``service`` that name none."""
    out: set[str] = set()
    for c in cmdb.dependents(ci_id) | {ci_id}:
        ci = cmdb.get(c)
        if ci is None:
            continue
        if ci.service:
            out.add(ci.service)
        elif ci.type == "service":
            out.add(ci.id)
    return out


@dataclass(frozen=True, slots=True)
class RoutingContext:
    """What routing knows of an incident.

    ``labels`` are the incident's root alert labels (or the labels its alerts
    share). ``pinned_priority`` is a priority a person set on the incident:
    it wins over the matrix and the rules.
    """

    labels: Labels
    at: datetime
    ci: CI | None = None
    blast_radius: int = 0
    severity: str | None = None
    root_inferred: bool = False
    status: str = "open"
    pinned_priority: Priority | None = None

    @property
    def effective_severity(self) -> str:
        return self.severity if self.severity is not None else self.labels.get("severity", "")


@dataclass(frozen=True, slots=True)
class MatchedRoute:
    name: str
    where: str


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    team: str | None
    team_reason: str
    assignee: str | None
    assignee_reason: str
    priority: Priority
    priority_reason: str
    matrix_priority: Priority
    tags: tuple[str, ...]
    runbook_url: str | None
    receivers: tuple[str, ...]
    escalation: str | None
    suppressed: bool
    threshold: Threshold | None
    paths: tuple[tuple[MatchedRoute, ...], ...]
    """Each matched path from the root, in order (several with ``continue``)."""

    def describe_paths(self) -> list[str]:
        return [" > ".join(f"{r.name} ({r.where})" for r in p) for p in self.paths]


@dataclass(frozen=True)
class RuleSet:
    root: Route
    teams: Mapping[str, Team] = field(default_factory=lambda: MappingProxyType({}))
    default_team: str | None = None
    management: tuple[str, ...] = ()
    matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    windows: tuple[Window, ...] = ()
    receivers: frozenset[str] = frozenset()
    cmdb: Cmdb | None = None
    config_hash: str = ""
    files: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    # ---- building a context from the CMDB --------------------------------------------

    def context(
        self,
        labels: Mapping[str, str],
        at: datetime,
        root_ci: str | None = None,
        *,
        root_inferred: bool = False,
        status: str = "open",
        severity: str | None = None,
        pinned_priority: Priority | None = None,
    ) -> RoutingContext:
        """A context for an incident whose root CI is ``root_ci`` (or the CI the labels map to)."""
        ci = None
        radius = 0
        if self.cmdb is not None:
            if root_ci is None:
                root_ci = self.cmdb.map_labels(labels).ci
            ci = self.cmdb.get(root_ci)
            if ci is not None:
                radius = len(business_services(self.cmdb, ci.id))
        return RoutingContext(
            frozen_labels(labels) if labels else EMPTY_LABELS,
            at,
            ci,
            radius,
            severity,
            root_inferred,
            status,
            pinned_priority,
        )

    # ---- routing ---------------------------------------------------------------------

    def route(self, ctx: RoutingContext) -> RoutingDecision:
        cls = self.matrix.classify(
            ctx.effective_severity, ctx.ci.criticality if ctx.ci else None, ctx.blast_radius
        )
        base_priority = ctx.pinned_priority or cls.priority
        values = self._match_values(ctx, base_priority)
        paths = match_paths(self.root, values)

        priority, priority_reason = self._priority(ctx, cls.priority, cls.reason, paths)
        team, team_reason = self._team(ctx, paths)
        assignee, assignee_reason = self._assignee(team, ctx.at, paths)
        escalation, _ = resolve(paths, "escalation")
        if escalation is None:
            escalation = self.sla.target(priority).escalation
        suppress, _ = resolve(paths, "suppress")
        threshold, _ = resolve(paths, "threshold")
        runbook, _ = resolve(paths, "runbook")
        runbook_url = None
        if runbook is not None:
            runbook_url = render(runbook, self._template_context(ctx, team, priority))
        return RoutingDecision(
            team=team,
            team_reason=team_reason,
            assignee=assignee,
            assignee_reason=assignee_reason,
            priority=priority,
            priority_reason=priority_reason,
            matrix_priority=cls.priority,
            tags=resolve_tags(paths),
            runbook_url=runbook_url,
            receivers=resolve_receivers(paths),
            escalation=escalation,
            suppressed=bool(suppress),
            threshold=threshold,
            paths=tuple(tuple(MatchedRoute(r.name, r.where) for r in p) for p in paths),
        )

    def _match_values(self, ctx: RoutingContext, priority: Priority) -> dict[str, str]:
        values = dict(ctx.labels)
        ci = ctx.ci
        values.update(
            {
                "ci.id": ci.id if ci else "",
                "ci.type": ci.type if ci else "",
                "ci.team": (ci.team or "") if ci else "",
                "ci.service": (ci.service or "") if ci else "",
                "ci.criticality": ci.criticality.value if ci else "",
                "priority": priority.value,
                "root_inferred": "true" if ctx.root_inferred else "false",
                "status": ctx.status,
            }
        )
        return values

    def _priority(
        self, ctx: RoutingContext, matrix: Priority, matrix_reason: str, paths: list[Path]
    ) -> tuple[Priority, str]:
        if ctx.pinned_priority is not None:
            return ctx.pinned_priority, f"set on the incident (the matrix gives {matrix.value}: {matrix_reason})"
        override, by = resolve(paths, "priority")
        if override is not None and by is not None:
            return override, f'route "{by.name}" ({by.where}) sets {override.value} (the matrix gives {matrix.value}: {matrix_reason})'
        return matrix, f"priority matrix: {matrix_reason}"

    def _team(self, ctx: RoutingContext, paths: list[Path]) -> tuple[str | None, str]:
        team, by = resolve(paths, "team")
        if team is not None and by is not None:
            return team, f'route "{by.name}" ({by.where})'
        if ctx.ci is not None and ctx.ci.team:
            return ctx.ci.team, f"owner of {ctx.ci.id} in the CMDB"
        if self.default_team is not None:
            return self.default_team, "default_team (no route names a team and the root CI has no owner)"
        return None, "no route names a team, the root CI has no owner and there is no default_team"

    def _assignee(self, team: str | None, at: datetime, paths: list[Path]) -> tuple[str | None, str]:
        person, by = resolve(paths, "assignee")
        if person is not None and by is not None:
            return person, f'route "{by.name}" ({by.where})'
        t = self.teams.get(team) if team else None
        if t is None:
            return None, f'team "{team}" is not defined in teams.yaml' if team else "no team"
        who = t.on_call(at)
        if who is None:
            return None, f'team "{team}" has nobody on call (no rotation)'
        return who, f"on call for {team}: {t.on_call_reason(at)}"

    @staticmethod
    def _template_context(ctx: RoutingContext, team: str | None, priority: Priority) -> dict[str, object]:
        ci = ctx.ci
        return {
            "labels": dict(ctx.labels),
            "ci": {
                "id": ci.id,
                "type": ci.type,
                "team": ci.team,
                "service": ci.service,
                "criticality": ci.criticality.value,
            }
            if ci
            else {},
            "team": team,
            "priority": priority.value,
        }

    # ---- maintenance, SLA and escalation ---------------------------------------------

    def in_maintenance(self, ci: str | None, at: datetime, windows: tuple[Window, ...] = ()) -> Hold | None:
        """Whether alerts on ``ci`` are held at ``at`` by the YAML windows (plus ``windows``, e.g. from the API)."""
        upstream: set[str] = set()
        if ci is not None and self.cmdb is not None and ci in self.cmdb.graph:
            upstream = set(nx.descendants(self.cmdb.graph, ci))
        return is_in_maintenance((*self.windows, *windows), ci, upstream, at)

    def timers(
        self,
        priority: Priority,
        opened_at: datetime,
        now: datetime,
        *,
        acknowledged_at: datetime | None = None,
        resolved_at: datetime | None = None,
        escalation: str | None = None,
    ) -> list[Timer]:
        """:func:`ingestd.escalate.timers` with this rule set's SLA targets and policies."""
        return timers(
            priority,
            opened_at,
            now,
            acknowledged_at=acknowledged_at,
            resolved_at=resolved_at,
            sla=self.sla,
            escalation=escalation,
        )

    def escalation_recipients(self, team: str | None, target: str, at: datetime) -> tuple[str, ...]:
        """The people an escalation ``target`` reaches for an incident owned by ``team``.

        A team is reached through its on-call engineer, else its lead, else all its members.
        """
        t = self.teams.get(team) if team else None
        if target == Target.ON_CALL:
            return _reach(t, at)
        if target == Target.TEAM_LEAD:
            return (t.lead,) if t and t.lead else _reach(t, at)
        if target == Target.NEXT_TIER:
            return _reach(self.teams.get(t.next_tier) if t and t.next_tier else None, at)
        if target == Target.MANAGEMENT:
            return self.management
        if target.startswith("user:"):
            return (target.removeprefix("user:"),)
        if target.startswith("team:"):
            return _reach(self.teams.get(target.removeprefix("team:")), at)
        return ()


def _reach(team: Team | None, at: datetime) -> tuple[str, ...]:
    if team is None:
        return ()
    who = team.on_call(at)
    if who:
        return (who,)
    return (team.lead,) if team.lead else team.members
