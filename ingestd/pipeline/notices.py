"""Who must hear of a change: outbox rows and timers, written in the same batch as the change.

An incident is told once it is past its route's threshold and neither suppressed nor held
by a maintenance window; from then on every real change of state or priority is told,
and a resolve is always told to whoever heard of the incident.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ingestd.domain import IncidentStatus
from ingestd.notify.model import Event, IncidentSnapshot, Notification
from ingestd.pipeline.book import SYSTEM
from ingestd.pipeline.dispatch import Decision
from ingestd.pipeline.sla import SLA_ACKNOWLEDGE, SlaPolicy
from ingestd.store.codec import ts
from ingestd.store.records import (
    DueTimer,
    IncidentRecord,
    OutboxRecord,
    TimelineRecord,
    WriteBatch,
)


def snapshot(rec: IncidentRecord, services: tuple[str, ...] = (), url: str = ""
             ) -> IncidentSnapshot:
    """The incident as a notification carries it."""
    return IncidentSnapshot(
        id=rec.id, title=rec.title, status=rec.status.value, priority=rec.priority.value,
        opened_at=rec.created_at or rec.opened_at, url=url,
        summary=rec.labels.get("summary", "") or rec.priority_reason,
        root_ci=rec.root_ci, root_inferred=rec.root_inferred, cis=tuple(rec.cis),
        services=services, team=rec.team, assignee=rec.assignee, runbook_url=rec.runbook_url,
        alerts_count=rec.alert_count, resolved_at=rec.resolved_at,
    )


class Notices:
    """Decides which events of an incident are told, and arms and stops its timers."""

    def __init__(self, services_of: Callable[[IncidentRecord], tuple[str, ...]] | None = None,
                 base_url: str = "") -> None:
        self.services_of = services_of or (lambda rec: ())
        self.base_url = base_url.rstrip("/")
        self._last: dict[str, tuple[str, str]] = {}
        """Incident id -> (status, priority) last told, to tell only real changes."""

    def remember(self, rec: IncidentRecord) -> None:
        """What was last told of an incident loaded from the store."""
        if rec.notified:
            self._last[rec.id] = (rec.status.value, rec.priority.value)

    def forget(self, incident_id: str) -> None:
        self._last.pop(incident_id, None)

    def after_change(self, rec: IncidentRecord, d: Decision, now: datetime, batch: WriteBatch,
                     sla: SlaPolicy) -> None:
        if d.held_by != rec.held_by:
            kind = "held" if d.held_by else "released"
            batch.timeline.append(TimelineRecord(rec.id, now, kind, SYSTEM, {
                "reason": d.held_by or rec.held_by}))
            rec.held_by = d.held_by
        if not rec.notified:
            if rec.suppressed or rec.held_by or not rec.status.is_active:
                return
            if not self._over_threshold(rec, d, now):
                return
            rec.notified = True
            self._tell(rec, Event.OPENED, now, batch)
            batch.timers.extend(sla.timers(rec, rec.created_at or now, rec.acknowledged_at))
            self._last[rec.id] = (rec.status.value, rec.priority.value)
            return
        last_status, last_priority = self._last.get(rec.id, (rec.status.value, rec.priority.value))
        if rec.status.value != last_status:
            if rec.status is IncidentStatus.RESOLVED:
                self._tell(rec, Event.RESOLVED, now, batch)
                batch.cancel_timers.add((rec.id, "*"))
            elif rec.status is IncidentStatus.OPEN and last_status == IncidentStatus.RESOLVED.value:
                self._tell(rec, Event.REOPENED, now, batch)
                batch.timers.extend(sla.timers(rec, now))
        elif rec.priority.value != last_priority and rec.status.is_active:
            self._tell(rec, Event.REPRIORITISED, now, batch,
                       {"previous_priority": last_priority, "reason": rec.priority_reason})
        self._last[rec.id] = (rec.status.value, rec.priority.value)

    def after_action(self, rec: IncidentRecord, event: str, actor: str, note: str,
                     now: datetime, batch: WriteBatch, sla: SlaPolicy) -> None:
        if event == "acknowledged":
            start = rec.created_at or now
            keep = {t.kind for t in sla.timers(rec, start, rec.acknowledged_at)}
            for t in sla.timers(rec, start):
                if t.kind not in keep:
                    batch.cancel_timers.add((rec.id, t.kind))
        elif event == "resolved":
            batch.cancel_timers.add((rec.id, "*"))
        elif event == "reopened" and rec.notified:
            batch.timers.extend(sla.timers(rec, now))
        if not rec.notified:
            return
        told = {"acknowledged": Event.ACKNOWLEDGED, "resolved": Event.RESOLVED,
                "reopened": Event.REOPENED, "note": Event.NOTE}.get(event)
        if told is not None:
            detail = {"actor": actor}
            if note:
                detail["text"] = note
            self._tell(rec, told, now, batch, detail)
        self._last[rec.id] = (rec.status.value, rec.priority.value)

    def timer_fired(self, rec: IncidentRecord, t: DueTimer, now: datetime, batch: WriteBatch,
                    sla: SlaPolicy) -> None:
        if t.kind.startswith("sla."):
            what = "acknowledge" if t.kind == SLA_ACKNOWLEDGE else "resolve"
            reason = f"{rec.priority.value} time to {what} passed at {ts(t.due_at)}"
            batch.timeline.append(TimelineRecord(rec.id, now, "sla_breached", SYSTEM, {
                "timer": t.kind, "due_at": ts(t.due_at), "reason": reason}))
            self._tell(rec, Event.ESCALATED, now, batch, {"reason": reason, "timer": t.kind})
            return
        recipients = sla.recipients(rec, t.target, now)
        reason = (f"escalation level {t.level} to {t.target or 'the next tier'}"
                  f"{': ' + ', '.join(recipients) if recipients else ''}")
        batch.timeline.append(TimelineRecord(rec.id, now, "escalated", SYSTEM, {
            "level": t.level, "target": t.target, "recipients": list(recipients),
            "due_at": ts(t.due_at)}))
        self._tell(rec, Event.ESCALATED, now, batch, {"reason": reason, "level": str(t.level),
                                                      "target": t.target})

    @staticmethod
    def _over_threshold(rec: IncidentRecord, d: Decision, now: datetime) -> bool:
        if not d.threshold_alerts and not d.threshold_seconds:
            return True
        if d.threshold_alerts and rec.alert_count >= d.threshold_alerts:
            return True
        started = rec.created_at or now
        return bool(d.threshold_seconds) and (now - started).total_seconds() >= d.threshold_seconds

    def _tell(self, rec: IncidentRecord, event: Event, now: datetime, batch: WriteBatch,
              detail: dict[str, Any] | None = None) -> None:
        if not rec.receivers:
            return
        rec.seq += 1
        url = f"{self.base_url}/console/incidents/{rec.id}" if self.base_url else ""
        snap = snapshot(rec, self.services_of(rec), url)
        clean = {k: str(v) for k, v in (detail or {}).items() if v is not None}
        for receiver in rec.receivers:
            n = Notification(event, snap, receiver, rec.seq, now, clean)
            batch.outbox.append(OutboxRecord(
                receiver=receiver, idempotency_key=f"{n.idempotency_key}:{receiver}",
                incident_id=rec.id, event=event.value, payload=n.to_dict(), created_at=now))
        batch.timeline.append(TimelineRecord(rec.id, now, "notified", SYSTEM, {
            "event": event.value, "receivers": list(rec.receivers)}))
