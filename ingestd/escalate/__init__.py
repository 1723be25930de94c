"""The SLA clock and escalation: which timers an incident should have, as pure functions."""

from ingestd.escalate.policy import (
    DEFAULT_POLICY,
    DEFAULT_SLA,
    EscalationPolicy,
    Level,
    SlaPolicy,
    SlaTarget,
    Target,
    Timer,
    TimerKind,
    Until,
    due,
    timers,
)

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_SLA",
    "EscalationPolicy",
    "Level",
    "SlaPolicy",
    "SlaTarget",
    "Target",
    "Timer",
    "TimerKind",
    "Until",
    "due",
    "timers",
]
