"""The priority matrix: alert severity x business impact of the root CI -> P0..P4.

Impact is the larger of two things: the root CI's own criticality, and what
its blast radius (how many business services depend on it) raises it to.
A database of medium criticality that three business services need is a
critical-impact fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ingestd.domain import Criticality, Priority

IMPACT_ORDER: tuple[Criticality, ...] = (
    Criticality.LOW,
    Criticality.MEDIUM,
    Criticality.HIGH,
    Criticality.CRITICAL,
)


def _rank(c: Criticality) -> int:
    return IMPACT_ORDER.index(c)


@dataclass(frozen=True, slots=True)
class BlastStep:
    """A blast radius of at least ``services`` business services means at least ``impact``."""

    services: int
    impact: Criticality


@dataclass(frozen=True, slots=True)
class Classification:
    priority: Priority
    impact: Criticality
    reason: str


def _m(d: dict[str, dict[Criticality, Priority]]) -> Mapping[str, Mapping[Criticality, Priority]]:
    return MappingProxyType({k: MappingProxyType(v) for k, v in d.items()})


_C, _H, _M, _L = Criticality.CRITICAL, Criticality.HIGH, Criticality.MEDIUM, Criticality.LOW
_P = Priority

DEFAULT_MATRIX = _m(
    {
        "critical": {_C: _P.P0, _H: _P.P1, _M: _P.P2, _L: _P.P3},
        "error": {_C: _P.P1, _H: _P.P2, _M: _P.P2, _L: _P.P3},
        "warning": {_C: _P.P2, _H: _P.P3, _M: _P.P3, _L: _P.P4},
        "info": {_C: _P.P3, _H: _P.P4, _M: _P.P4, _L: _P.P4},
    }
)
DEFAULT_BLAST: tuple[BlastStep, ...] = (BlastStep(3, _C), BlastStep(2, _H))


@dataclass(frozen=True, slots=True)
class PriorityMatrix:
    """severity -> impact -> priority; ``default`` for severities the matrix does not name."""

    matrix: Mapping[str, Mapping[Criticality, Priority]] = field(default_factory=lambda: DEFAULT_MATRIX)
    blast_radius: tuple[BlastStep, ...] = DEFAULT_BLAST
    default: Priority = Priority.P3
    no_ci_impact: Criticality = Criticality.MEDIUM

    def impact(self, criticality: Criticality | None, blast_radius: int) -> Criticality:
        impact = criticality if criticality is not None else self.no_ci_impact
        for step in self.blast_radius:
            if blast_radius >= step.services and _rank(step.impact) > _rank(impact):
                impact = step.impact
        return impact

    def classify(
        self, severity: str, criticality: Criticality | None, blast_radius: int
    ) -> Classification:
        """The matrix's priority, with a reason a person can read on the incident."""
        impact = self.impact(criticality, blast_radius)
        crit = criticality.value if criticality is not None else f"no CI, taken as {self.no_ci_impact}"
        why_impact = f"impact {impact} (criticality {crit}, blast radius {blast_radius} service{'s' if blast_radius != 1 else ''})"
        sev = severity.lower()
        row = self.matrix.get(sev)
        if row is None:
            return Classification(
                self.default,
                impact,
                f'severity "{severity}" is not in the priority matrix: default {self.default.value}; {why_impact}',
            )
        p = row[impact]
        return Classification(p, impact, f'severity "{sev}" x {why_impact} -> {p.value}')


DEFAULT_PRIORITY_MATRIX = PriorityMatrix()
