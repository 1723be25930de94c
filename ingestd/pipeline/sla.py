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


SLA_ACKNOWLEDGE = "sla.acknowledge"
SLA_RESOLVE = "sla.resolve"

DEFAULT_TARGETS = {
    Priority.P0: Targets(timedelta(minutes=5), timedelta(hours=1)),
    Priority.P1: Targets(timedelta(minutes=15), timedelta(hours=4)),
    Priority.P2: Targets(timedelta(hours=1), timedelta(hours=8)),
    Priority.P3: Targets(timedelta(hours=4), timedelta(days=3)),
    Priority.P4: Targets(timedelta(days=1), timedelta(days=7)),
}


class SlaPolicy(Protocol):
    def timers(self, rec: IncidentRecord, start: datetime,
               acknowledged_at: datetime | None = None) -> list[TimerRecord]:
        """Timers ``rec`` should have from ``start`` (SLA deadlines, escalation levels).

        Once acknowledged, the timers that wait for an acknowledgement are left out.
        """

    def recipients(self, rec: IncidentRecord, target: str, at: datetime) -> tuple[str, ...]:
        """Who an escalation ``target`` reaches."""


class DefaultSla:
    def __init__(self, targets: dict[Priority, Targets] | None = None) -> None:
        self.targets = targets or DEFAULT_TARGETS

    def timers(self, rec: IncidentRecord, start: datetime,
               acknowledged_at: datetime | None = None) -> list[TimerRecord]:
        t = self.targets[rec.priority]
        out = [TimerRecord(rec.id, SLA_RESOLVE, 0, start + t.resolve)]
        if acknowledged_at is None:
            out.insert(0, TimerRecord(rec.id, SLA_ACKNOWLEDGE, 0, start + t.acknowledge))
        return out

    def recipients(self, rec: IncidentRecord, target: str, at: datetime) -> tuple[str, ...]:
        return ()
