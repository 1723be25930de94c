"""The priority matrix: severity x impact (criticality raised by blast radius)."""

from pathlib import Path

import pytest

from ingestd.classify import DEFAULT_PRIORITY_MATRIX as M
from ingestd.domain import Criticality as C
from ingestd.domain import Priority as P
from ingestd.route import RulesError, load_rules
from tests.route import fixtures


@pytest.mark.parametrize(
    ("severity", "criticality", "radius", "expected"),
    [
        ("critical", C.CRITICAL, 0, P.P0),
        ("critical", C.HIGH, 1, P.P1),
        ("critical", C.MEDIUM, 1, P.P2),
        ("critical", C.MEDIUM, 2, P.P1),  # two business services raise medium to high
        ("critical", C.LOW, 3, P.P0),  # three raise it to critical
        ("warning", C.HIGH, 0, P.P3),
        ("info", C.LOW, 0, P.P4),
        ("CRITICAL", C.CRITICAL, 0, P.P0),  # case does not matter
        ("page-me", C.CRITICAL, 5, P.P3),  # a severity the matrix does not know: the default
        ("critical", None, 0, P.P2),  # no CI: medium impact
    ],
)
def test_default_matrix(severity: str, criticality: C | None, radius: int, expected: P) -> None:
    assert M.classify(severity, criticality, radius).priority is expected


def test_reason_explains_the_cell() -> None:
    c = M.classify("critical", C.MEDIUM, 2)
    assert c.reason == 'severity "critical" x impact high (criticality medium, blast radius 2 services) -> P1'


def test_priority_yaml_replaces_the_defaults(tmp_path: Path) -> None:
    priority = """
        matrix:
          critical: {critical: P0, high: P0, medium: P1, low: P2}
          warning:  {critical: P2, high: P2, medium: P3, low: P4}
        blast_radius:
          - {services: 5, impact: critical}
        default: P4
        """
    rules = load_rules(fixtures.write(tmp_path / "r", {"priority.yaml": priority}))
    assert rules.matrix.classify("critical", C.HIGH, 0).priority is P.P0
    assert rules.matrix.classify("critical", C.MEDIUM, 2).priority is P.P1  # 2 services no longer raise
    assert rules.matrix.classify("critical", C.LOW, 5).priority is P.P0
    assert rules.matrix.classify("info", C.CRITICAL, 0).priority is P.P4


def test_a_matrix_row_missing_an_impact_is_refused(tmp_path: Path) -> None:
    priority = "matrix:\n  critical: {critical: P0, high: P1, medium: P2}\n  warning: {critical: P9, high: P2, medium: P3, low: P4}\n"
    d = fixtures.write(tmp_path / "r", {"priority.yaml": priority})
    with pytest.raises(RulesError) as e:
        load_rules(d)
    assert e.value.problems == [
        f'{d}/priority.yaml:2: matrix: severity "critical" needs "low"',
        f'{d}/priority.yaml:3: matrix: severity "warning": critical must be one of P0, P1, P2, P3, P4, got "P9"',
    ]
