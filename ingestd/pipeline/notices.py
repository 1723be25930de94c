"""Who must hear of a change: outbox rows and timers, written in the same batch as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingestd.domain import IncidentStatus
from ingestd.pipeline.book import SYSTEM
from ingestd.pipeline.dispatch import Decision
from ingestd.pipeline.sla import SlaPolicy
from ingestd.store.codec import ts
from ingestd.store.records import (
    DueTimer,
    IncidentRecord,
    OutboxRecord,
    TimelineRecord,
    WriteBatch,
)


def snapshot(rec: IncidentRecord) -> dict[str, Any]:
    """The incident as a notification carries it."""
    return {
        "id": rec.id, "title": rec.title, "status": rec.status.value,
        "priority": rec.priority.value, "priority_reason": rec.priority_reason,
        "root_ci": rec.root_ci, "root_inferred": rec.root_inferred, "cis": list(rec.cis),
        "team": rec.team, "assignee": rec.assignee, "opened_at": ts(rec.opened_at),
        "created_at": ts(rec.created_at), "alert_count": rec.alert_count,
        "firing_count": rec.firing_count, "runbook_url": rec.runbook_url,
        "tags": list(rec.tags), "labels": dict(rec.labels),
    }


class Notices:
    """Decides which events of an incident are told, and arms and stops its timers."""

    def __init__(self) -> None:
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
        if rec.suppressed:
            if not rec.notified:
                return
        if not rec.notified:
            if not rec.status.is_active or not self._over_threshold(rec, d, now):
                return
            rec.notified = True
            self._tell(rec, "opened", now, batch)
            batch.timers.extend(sla.timers(rec, rec.created_at or now))
            self._last[rec.id] = (rec.status.value, rec.priority.value)
            return
        last_status, last_priority = self._last.get(rec.id, (rec.status.value, rec.priority.value))
        if rec.status.value != last_status:
            if rec.status is IncidentStatus.RESOLVED:
                self._tell(rec, "resolved", now, batch)
                batch.cancel_timers.add((rec.id, "*"))
            elif rec.status is IncidentStatus.OPEN and last_status == IncidentStatus.RESOLVED.value:
                self._tell(rec, "reopened", now, batch)
                batch.timers.extend(sla.timers(rec, now))
        elif rec.priority.value != last_priority and rec.status.is_active:
            self._tell(rec, "reprioritised", now, batch)
        self._last[rec.id] = (rec.status.value, rec.priority.value)

    def after_action(self, rec: IncidentRecord, event: str, now: datetime, batch: WriteBatch,
                     sla: SlaPolicy) -> None:
        if not rec.notified:
            return
        if event == "resolved":
            batch.cancel_timers.add((rec.id, "*"))
        elif event == "reopened":
            batch.timers.extend(sla.timers(rec, now))
        if event in ("acknowledged", "resolved", "reopened", "assigned"):
            self._tell(rec, event, now, batch)
        self._last[rec.id] = (rec.status.value, rec.priority.value)

    def timer_fired(self, rec: IncidentRecord, t: DueTimer, now: datetime,
                    batch: WriteBatch) -> None:
        kind = "escalated" if t.kind == "escalation" else "sla_breached"
        batch.timeline.append(TimelineRecord(rec.id, now, kind, SYSTEM, {
            "timer": t.kind, "level": t.level, "target": t.target, "due_at": ts(t.due_at)}))
        self._tell(rec, kind, now, batch, extra={"timer": t.kind, "level": t.level,
                                                 "target": t.target})

    @staticmethod
    def _over_threshold(rec: IncidentRecord, d: Decision, now: datetime) -> bool:
        if d.threshold_alerts and rec.alert_count < d.threshold_alerts:
            if not d.threshold_seconds:
                return False
            started = rec.created_at or now
            return (now - started).total_seconds() >= d.threshold_seconds
        if d.threshold_seconds and not d.threshold_alerts:
            started = rec.created_at or now
            return (now - started).total_seconds() >= d.threshold_seconds
        return True

    @staticmethod
    def _tell(rec: IncidentRecord, event: str, now: datetime, batch: WriteBatch,
              extra: dict[str, Any] | None = None) -> None:
        rec.seq += 1
        payload = {"event": event, "incident": snapshot(rec), **(extra or {})}
        for receiver in rec.receivers:
            batch.outbox.append(OutboxRecord(
                receiver=receiver, idempotency_key=f"{rec.id}:{rec.seq}:{event}:{receiver}",
                incident_id=rec.id, event=event, payload=payload, created_at=now))
        if rec.receivers:
            batch.timeline.append(TimelineRecord(rec.id, now, "notified", SYSTEM, {
                "event": event, "receivers": list(rec.receivers)}))
