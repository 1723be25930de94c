"""SLA targets and escalation levels: the clock each incident runs against.

:class:`SlaPolicy` answers, for an incident, the timers to arm when it opens.
The rules (``rules/sla.yaml``) implement it; :class:`DefaultSla` ships targets
in the spirit of common ITR practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ingestd.domain import Priority
from ingestd.store.records import IncidentRecord, TimerRecord


@dataclass(frozen=True, slots=True)
class Targets:
    acknowledge: timedelta
    resolve: timedelta


DEFAULT_TARGETS = {
    Priority.P0: Targets(timedelta(minutes=5), timedelta(hours=1)),
    Priority.P1: Targets(timedelta(minutes=15), timedelta(hours=4)),
    Priority.P2: Targets(timedelta(hours=1), timedelta(hours=8)),
    Priority.P3: Targets(timedelta(hours=4), timedelta(days=3)),
    Priority.P4: Targets(timedelta(days=1), timedelta(days=7)),
}


class SlaPolicy(Protocol):
    def timers(self, rec: IncidentRecord, start: datetime) -> list[TimerRecord]:
        """Timers to arm for ``rec`` from ``start`` (SLA deadlines, escalation levels)."""


class DefaultSla:
    def __init__(self, targets: dict[Priority, Targets] | None = None) -> None:
        self.targets = targets or DEFAULT_TARGETS

    def timers(self, rec: IncidentRecord, start: datetime) -> list[TimerRecord]:
        t = self.targets[rec.priority]
        return [
            TimerRecord(rec.id, "sla_ack", 0, start + t.acknowledge, rec.team or ""),
            TimerRecord(rec.id, "sla_resolve", 0, start + t.resolve, rec.team or ""),
        ]
