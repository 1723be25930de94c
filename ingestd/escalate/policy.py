"""SLA targets and escalation policies, and the timers they call for.

Everything here is pure: :func:`timers` takes an incident's priority and
clock readings and answers the timers that should exist now. The store keeps
them durably under their ``key`` (one per incident), fires each once when due
and drops the ones that no longer appear (the incident was acknowledged or
resolved); a priority change simply moves the due times of the same keys.

Timer kinds:

* ``sla.acknowledge`` - the time-to-acknowledge target is breached;
* ``sla.resolve``     - the time-to-resolve target is breached;
* ``escalation``      - level N of the escalation policy is due (``level`` >= 1).

Escalation levels count from the incident's opening: a level with
``after: 30m`` fires 30 minutes after opening unless the incident was
acknowledged before (``when: unacknowledged``, the default) or resolved
before (``when: unresolved``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from ingestd.domain import Priority


class TimerKind(enum.StrEnum):
    SLA_ACKNOWLEDGE = "sla.acknowledge"
    SLA_RESOLVE = "sla.resolve"
    ESCALATION = "escalation"


class Until(enum.StrEnum):
    """What stops an escalation level."""

    UNACKNOWLEDGED = "unacknowledged"
    UNRESOLVED = "unresolved"


class Target(enum.StrEnum):
    """Where an escalation level goes; ``team:NAME`` and ``user:NAME`` name one directly."""

    ON_CALL = "on_call"
    NEXT_TIER = "next_tier"
    TEAM_LEAD = "team_lead"
    MANAGEMENT = "management"


@dataclass(frozen=True, slots=True)
class SlaTarget:
    acknowledge: timedelta
    resolve: timedelta
    escalation: str | None = None
    """The escalation policy for this priority when no route names one."""


@dataclass(frozen=True, slots=True)
class Level:
    after: timedelta
    target: str
    when: Until = Until.UNACKNOWLEDGED


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    name: str
    levels: tuple[Level, ...]


def _t(ack: int, resolve: int, policy: str | None = "default") -> SlaTarget:
    return SlaTarget(timedelta(minutes=ack), timedelta(minutes=resolve), policy)


DEFAULT_SLA: Mapping[Priority, SlaTarget] = MappingProxyType(
    {
        Priority.P0: _t(5, 60),
        Priority.P1: _t(15, 4 * 60),
        Priority.P2: _t(60, 24 * 60),
        Priority.P3: _t(4 * 60, 3 * 24 * 60),
        Priority.P4: _t(24 * 60, 7 * 24 * 60, None),
    }
)

DEFAULT_POLICY = EscalationPolicy(
    "default",
    (
        Level(timedelta(minutes=15), Target.NEXT_TIER.value),
        Level(timedelta(minutes=30), Target.TEAM_LEAD.value),
        Level(timedelta(hours=2), Target.MANAGEMENT.value, Until.UNRESOLVED),
    ),
)


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Targets per priority and the named escalation policies."""

    targets: Mapping[Priority, SlaTarget] = field(default_factory=lambda: DEFAULT_SLA)
    policies: Mapping[str, EscalationPolicy] = field(
        default_factory=lambda: MappingProxyType({"default": DEFAULT_POLICY})
    )

    def target(self, priority: Priority) -> SlaTarget:
        return self.targets.get(priority, DEFAULT_SLA[priority])

    def policy_for(self, priority: Priority, override: str | None = None) -> EscalationPolicy | None:
        name = override if override is not None else self.target(priority).escalation
        return self.policies.get(name) if name else None


@dataclass(frozen=True, slots=True)
class Timer:
    due_at: datetime
    kind: TimerKind
    level: int
    target: str | None = None

    @property
    def key(self) -> str:
        """Stable per incident: the same timer keeps its key when its due time moves."""
        return f"{self.kind.value}.{self.level}" if self.kind is TimerKind.ESCALATION else self.kind.value

    def is_due(self, now: datetime) -> bool:
        return self.due_at <= now


_KIND_ORDER = (TimerKind.SLA_ACKNOWLEDGE, TimerKind.SLA_RESOLVE, TimerKind.ESCALATION)


def timers(
    priority: Priority,
    opened_at: datetime,
    now: datetime,
    *,
    acknowledged_at: datetime | None = None,
    resolved_at: datetime | None = None,
    sla: SlaPolicy | None = None,
    escalation: str | None = None,
) -> list[Timer]:
    """The timers an incident should have at ``now``, soonest first.

    A timer is left out once what it waits for happened by ``now``: an
    acknowledgement stops ``sla.acknowledge`` and the ``unacknowledged``
    escalation levels; a resolution stops everything. Timers already due
    are still listed (the store fires each key once). ``escalation`` names
    the policy a route chose; without it the priority's default applies.
    """
    sla = sla or SlaPolicy()
    acked = acknowledged_at is not None and acknowledged_at <= now
    resolved = resolved_at is not None and resolved_at <= now
    if resolved:
        return []
    target = sla.target(priority)
    out: list[Timer] = []
    if not acked:
        out.append(Timer(opened_at + target.acknowledge, TimerKind.SLA_ACKNOWLEDGE, 0))
    out.append(Timer(opened_at + target.resolve, TimerKind.SLA_RESOLVE, 0))
    policy = sla.policy_for(priority, escalation)
    if policy is not None:
        for i, level in enumerate(policy.levels, start=1):
            if level.when is Until.UNACKNOWLEDGED and acked:
                continue
            out.append(Timer(opened_at + level.after, TimerKind.ESCALATION, i, level.target))
    return sorted(out, key=lambda t: (t.due_at, _KIND_ORDER.index(t.kind), t.level))


def due(pending: list[Timer], now: datetime) -> list[Timer]:
    """The timers of ``pending`` that are due at ``now``."""
    return [t for t in pending if t.is_due(now)]
