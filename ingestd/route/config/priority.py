"""``priority.yaml``: the priority matrix (defaults apply to whatever the file leaves out)."""

from __future__ import annotations

from types import MappingProxyType

from ingestd.classify import DEFAULT_PRIORITY_MATRIX, IMPACT_ORDER, BlastStep, PriorityMatrix
from ingestd.domain import Criticality, Priority
from ingestd.route.yamldoc import Source, YMap

_IMPACTS = ", ".join(c.value for c in IMPACT_ORDER)


def priority_value(src: Source, m: YMap, key: str, what: str) -> Priority | None:
    s = src.str_(m, key, what)
    if s is None:
        return None
    try:
        return Priority(s.upper())
    except ValueError:
        src.error(m.line_of(key), f'{what}: {key} must be one of P0, P1, P2, P3, P4, got "{s}"')
        return None


def criticality_value(src: Source, m: YMap, key: str, what: str) -> Criticality | None:
    s = src.str_(m, key, what)
    if s is None:
        return None
    try:
        return Criticality(s.lower())
    except ValueError:
        src.error(m.line_of(key), f'{what}: {key} must be one of {_IMPACTS}, got "{s}"')
        return None


def parse_priority(src: Source, doc: YMap) -> PriorityMatrix:
    src.fields(doc, "priority.yaml", ("matrix", "blast_radius", "default", "no_ci_impact"))
    d = DEFAULT_PRIORITY_MATRIX
    matrix = dict(d.matrix)
    m = doc.get("matrix")
    if m is not None and src.is_map(m, doc.line_of("matrix"), "matrix"):
        matrix = {}
        for sev, row in m.items():
            what = f'matrix: severity "{sev}"'
            if not src.is_map(row, m.line_of(sev), what):
                continue
            src.fields(row, what, [c.value for c in IMPACT_ORDER], [c.value for c in IMPACT_ORDER])
            cells = {}
            for c in IMPACT_ORDER:
                p = priority_value(src, row, c.value, what) if c.value in row else None
                if p is not None:
                    cells[c] = p
            if len(cells) == len(IMPACT_ORDER):
                matrix[str(sev).lower()] = MappingProxyType(cells)
    blast = d.blast_radius
    b = doc.get("blast_radius")
    if b is not None and src.is_list(b, doc.line_of("blast_radius"), "blast_radius"):
        steps = []
        for i, step in enumerate(b):
            what = f"blast_radius[{i}]"
            if not src.is_map(step, b.line_of(i), what):
                continue
            src.fields(step, what, ("services", "impact"), ("services", "impact"))
            n = src.int_(step, "services", what, minimum=1)
            imp = criticality_value(src, step, "impact", what)
            if n is not None and imp is not None:
                steps.append(BlastStep(n, imp))
        blast = tuple(sorted(steps, key=lambda s: -s.services))
    default = priority_value(src, doc, "default", "priority.yaml") or d.default
    no_ci = criticality_value(src, doc, "no_ci_impact", "priority.yaml") or d.no_ci_impact
    return PriorityMatrix(MappingProxyType(matrix), blast, default, no_ci)
