"""The dispatch stage on the routing rules (``rules/``): priority, team, on-call, SLA, maintenance."""

from __future__ import annotations

from datetime import datetime

from ingestd.pipeline.dispatch import Decision, DispatchContext
from ingestd.route import RuleSet
from ingestd.store.records import IncidentRecord, TimerRecord


class RulesDispatcher:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def decide(self, ctx: DispatchContext) -> Decision:
        rules = self.rules
        route_ctx = rules.context(
            ctx.labels, ctx.at, ctx.root.id if ctx.root else None,
            root_inferred=ctx.root_inferred, status=ctx.status, severity=ctx.severity or None)
        d = rules.route(route_ctx)
        threshold = d.threshold
        hold = rules.in_maintenance(ctx.root.id, ctx.at, ctx.windows) if ctx.root else None
        return Decision(
            priority=d.priority,
            priority_reason=d.priority_reason,
            team=d.team,
            assignee=d.assignee,
            receivers=d.receivers,
            tags=d.tags,
            runbook_url=d.runbook_url,
            escalation=d.escalation,
            suppressed=d.suppressed,
            threshold_alerts=(threshold.alerts or 0) if threshold else 0,
            threshold_seconds=threshold.after.total_seconds() if threshold and threshold.after
            else 0.0,
            route_path=tuple(d.describe_paths()),
            held_by=(f"maintenance window {hold.window.name!r} on {hold.ci}"
                     f"{' (a dependency)' if hold.via_dependency else ''}"
                     f" until {hold.until.isoformat()}") if hold else None,
        )


class RulesSla:
    """SLA deadlines and escalation levels from ``rules/sla.yaml``; timer kinds are the rule keys."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def timers(self, rec: IncidentRecord, start: datetime,
               acknowledged_at: datetime | None = None) -> list[TimerRecord]:
        out = []
        as_of = max(start, acknowledged_at) if acknowledged_at else start
        for t in self.rules.timers(rec.priority, start, as_of, acknowledged_at=acknowledged_at,
                                   escalation=rec.escalation):
            target = t.target or ""
            out.append(TimerRecord(rec.id, t.key, t.level, t.due_at, target))
        return out

    def recipients(self, rec: IncidentRecord, target: str, at: datetime) -> tuple[str, ...]:
        return self.rules.escalation_recipients(rec.team, target, at) if target else ()
