"""What a notification says: plain, frozen data with no I/O.

A :class:`Notification` is one event of one incident addressed to one
receiver. It carries a snapshot of the incident as it was when the event
happened, so a delivery retried an hour later still says what was true then.
``to_dict``/``from_dict`` give the JSON-able form stored in the outbox.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Event(enum.StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    REPRIORITISED = "reprioritised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One line of the timeline excerpt a message shows."""

    at: datetime
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    """The incident as the event saw it."""

    id: str
    title: str
    status: str
    priority: str
    opened_at: datetime
    url: str = ""
    summary: str = ""
    root_ci: str | None = None
    root_inferred: bool = False
    cis: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    team: str | None = None
    assignee: str | None = None
    runbook_url: str | None = None
    alerts_count: int = 0
    resolved_at: datetime | None = None
    timeline: tuple[TimelineLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Notification:
    """One event of one incident for one receiver.

    ``sequence`` orders the events of one incident (1 for the opening);
    ``detail`` holds what the event adds (``reason`` of an escalation, the
    ``previous_priority`` of a re-prioritisation, the ``text`` of a note,
    the ``actor`` of an acknowledgement).
    """

    event: Event
    incident: IncidentSnapshot
    receiver: str
    sequence: int
    at: datetime
    detail: Mapping[str, str] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.incident.id, self.event, self.sequence)

    @property
    def open_for(self) -> float:
        """Seconds from the incident's opening to this event."""
        end = self.incident.resolved_at or self.at
        return max(0.0, (end - self.incident.opened_at).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        inc = self.incident
        return {
            "event": self.event.value,
            "receiver": self.receiver,
            "sequence": self.sequence,
            "at": self.at.isoformat(),
            "detail": dict(self.detail),
            "idempotency_key": self.idempotency_key,
            "incident": {
                "id": inc.id,
                "title": inc.title,
                "summary": inc.summary,
                "status": inc.status,
                "priority": inc.priority,
                "opened_at": inc.opened_at.isoformat(),
                "resolved_at": inc.resolved_at.isoformat() if inc.resolved_at else None,
                "url": inc.url,
                "root_ci": inc.root_ci,
                "root_inferred": inc.root_inferred,
                "cis": list(inc.cis),
                "services": list(inc.services),
                "team": inc.team,
                "assignee": inc.assignee,
                "runbook_url": inc.runbook_url,
                "alerts_count": inc.alerts_count,
                "timeline": [
                    {"at": t.at.isoformat(), "kind": t.kind, "text": t.text}
                    for t in inc.timeline
                ],
            },
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Notification:
        i = d["incident"]
        resolved = i.get("resolved_at")
        return Notification(
            event=Event(d["event"]),
            receiver=str(d["receiver"]),
            sequence=int(d["sequence"]),
            at=datetime.fromisoformat(d["at"]),
            detail={str(k): str(v) for k, v in (d.get("detail") or {}).items()},
            incident=IncidentSnapshot(
                id=str(i["id"]),
                title=str(i["title"]),
                summary=str(i.get("summary") or ""),
                status=str(i["status"]),
                priority=str(i["priority"]),
                opened_at=datetime.fromisoformat(i["opened_at"]),
                resolved_at=datetime.fromisoformat(resolved) if resolved else None,
                url=str(i.get("url") or ""),
                root_ci=i.get("root_ci"),
                root_inferred=bool(i.get("root_inferred", False)),
                cis=tuple(i.get("cis") or ()),
                services=tuple(i.get("services") or ()),
                team=i.get("team"),
                assignee=i.get("assignee"),
                runbook_url=i.get("runbook_url"),
                alerts_count=int(i.get("alerts_count") or 0),
                timeline=tuple(
                    TimelineLine(datetime.fromisoformat(t["at"]), str(t["kind"]), str(t["text"]))
                    for t in i.get("timeline") or ()
                ),
            ),
        )


def idempotency_key(incident_id: str, event: Event | str, sequence: int) -> str:
    """Stable across retries and restarts: the same event gives the same key."""
    return f"{incident_id}:{Event(event).value}:{sequence}"
