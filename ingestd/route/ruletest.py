"""Rule tests, the way ``promtool test rules`` works for Prometheus rules.

A test file is YAML::

    rules: ..                 # the rules directory, relative to this file (default: ..)
    cmdb: ../../cmdb.yaml     # optional: CIs named by id come from it
    tests:
      - name: postgres down pages the DBA on call
        at: 2026-01-06T12:00:00Z
        labels: {alertname: PostgresDown, severity: critical}
        ci: pg-main           # a CMDB id, or the CI itself: {id, type, team, service, criticality}
        blast_radius: 3       # optional; from the CMDB otherwise
        expect:
          team: dba
          assignee: dave
          priority: P0
          receivers: [slack-dba, mail-management]
          escalation: database

Each case routes one incident and compares what it got with what it
expects; only the fields under ``expect`` are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestd.cmdb import CI, Cmdb, CmdbError, load_cmdb
from ingestd.domain import Criticality, Priority
from ingestd.route.config import RulesError, load_rules
from ingestd.route.ruleset import RoutingContext, RoutingDecision, RuleSet, business_services
from ingestd.route.yamldoc import Source, YMap

EXPECT_FIELDS = (
    "team",
    "assignee",
    "priority",
    "receivers",
    "escalation",
    "tags",
    "suppressed",
    "runbook_url",
    "route",
    "maintenance",
)
CASE_FIELDS = ("name", "at", "labels", "ci", "blast_radius", "root_inferred", "status", "expect")
CI_FIELDS = ("id", "type", "team", "service", "criticality")


@dataclass
class CaseResult:
    name: str
    where: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestReport:
    file: str
    problems: list[str] = field(default_factory=list)
    """Problems that stopped the file from running (its own errors, the rules' errors)."""
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(c.passed for c in self.cases)


def run_file(path: str | Path, rules_dir: str | Path | None = None, cmdb_path: str | Path | None = None) -> TestReport:
    """Run every case of one test file; ``rules_dir``/``cmdb_path`` override the file's own."""
    p = Path(path)
    report = TestReport(str(p))
    src = Source(str(p), report.problems)
    try:
        doc: Any = src.load(p.read_text(encoding="utf-8"))
    except OSError as e:
        report.problems.append(f"{p}: {e.strerror}")
        return report
    if doc is None or not src.is_map(doc, 1, "a rule test file"):
        return report
    src.fields(doc, "a rule test file", ("rules", "cmdb", "tests"), ("tests",))
    cmdb: Cmdb | None = None
    cmdb_file = cmdb_path if cmdb_path is not None else _relative(p, src.str_(doc, "cmdb", "cmdb"))
    if cmdb_file is not None:
        try:
            cmdb = load_cmdb(cmdb_file)
        except (OSError, CmdbError) as e:
            report.problems.append(f"{cmdb_file}: {e}")
            return report
    rules_path = rules_dir if rules_dir is not None else _relative(p, src.str_(doc, "rules", "rules") or "..")
    try:
        rules = load_rules(rules_path or p.parent.parent, cmdb)
    except RulesError as e:
        report.problems.extend(e.problems)
        return report
    cases = doc.get("tests")
    if not src.is_list(cases, doc.line_of("tests"), "tests"):
        return report
    for i, case in enumerate(cases):
        if src.is_map(case, cases.line_of(i), f"tests[{i}]"):
            result = _run_case(src, case, i, rules, cmdb)
            if result is not None:
                report.cases.append(result)
    return report


def _relative(test_file: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    v = Path(value)
    return v if v.is_absolute() else test_file.parent / v


def _run_case(src: Source, case: YMap, i: int, rules: RuleSet, cmdb: Cmdb | None) -> CaseResult | None:
    name = src.str_(case, "name", f"tests[{i}]") or f"tests[{i}]"
    what = f'case "{name}"'
    before = len(src.problems)
    src.fields(case, what, CASE_FIELDS, ("labels", "expect"))
    labels = case.get("labels")
    if labels is not None and (not src.is_map(labels, case.line_of("labels"), f"{what}: labels")):
        labels = None
    expect = case.get("expect")
    if expect is not None and src.is_map(expect, case.line_of("expect"), f"{what}: expect"):
        src.fields(expect, f"{what}: expect", EXPECT_FIELDS)
    at = src.datetime_(case, "at", what)
    if at is None and isinstance(expect, YMap) and ("assignee" in expect or "maintenance" in expect):
        src.error(case.line, f"{what}: give `at` when expecting an assignee or a maintenance window")
    ci = _case_ci(src, case, what, cmdb)
    radius = src.int_(case, "blast_radius", what)
    if len(src.problems) > before or labels is None or not isinstance(expect, YMap):
        return None
    at = at or datetime.now().astimezone()
    str_labels = {str(k): str(v) for k, v in labels.items()}
    if ci is None and cmdb is not None and "ci" not in case:
        ci = cmdb.get(cmdb.map_labels(str_labels).ci)
    if radius is None:
        radius = len(business_services(cmdb, ci.id)) if ci is not None and cmdb is not None and ci.id in cmdb.cis else 0
    ctx = RoutingContext(
        labels=str_labels,
        at=at,
        ci=ci,
        blast_radius=radius,
        root_inferred=bool(src.bool_(case, "root_inferred", what)),
        status=src.str_(case, "status", what) or "open",
    )
    decision = rules.route(ctx)
    result = CaseResult(name, f"{src.path}:{case.line}")
    hold = rules.in_maintenance(ci.id if ci else None, at)
    _compare(result, expect, decision, hold.window.name if hold else None)
    return result


def _case_ci(src: Source, case: YMap, what: str, cmdb: Cmdb | None) -> CI | None:
    v = case.get("ci")
    if v is None:
        return None
    if isinstance(v, str):
        if cmdb is None:
            src.error(case.line_of("ci"), f'{what}: ci "{v}" names a CMDB id, but the test file gives no cmdb')
            return None
        ci = cmdb.get(v)
        if ci is None:
            src.error(case.line_of("ci"), f'{what}: ci "{v}" is not in {cmdb.source}')
        return ci
    if not src.is_map(v, case.line_of("ci"), f"{what}: ci"):
        return None
    src.fields(v, f"{what}: ci", CI_FIELDS, ("id",))
    crit = src.str_(v, "criticality", f"{what}: ci") or "medium"
    try:
        criticality = Criticality(crit)
    except ValueError:
        src.error(v.line_of("criticality"), f'{what}: ci: criticality must be low, medium, high or critical, got "{crit}"')
        return None
    return CI(
        id=src.str_(v, "id", what) or "",
        type=src.str_(v, "type", what) or "",
        service=src.str_(v, "service", what),
        team=src.str_(v, "team", what),
        criticality=criticality,
    )


def _compare(result: CaseResult, expect: YMap, d: RoutingDecision, maintenance: str | None) -> None:
    def check(key: str, got: object, why: str = "", ordered: bool = False) -> None:
        want = expect[key]
        if isinstance(want, list) and isinstance(got, tuple):
            if ordered:
                ok = list(map(str, want)) == list(map(str, got))
            else:
                ok = sorted(map(str, want)) == sorted(map(str, got))
            want_s, got_s = f"[{', '.join(map(str, want))}]", f"[{', '.join(map(str, got))}]"
        else:
            if isinstance(got, Priority) and isinstance(want, str):
                want = want.upper()
            ok = want == got
            want_s, got_s = _show(want), _show(got)
        if not ok:
            tail = f" ({why})" if why else ""
            result.failures.append(f"{key}: expected {want_s}, got {got_s}{tail}")

    if "team" in expect:
        check("team", d.team, d.team_reason)
    if "assignee" in expect:
        check("assignee", d.assignee, d.assignee_reason)
    if "priority" in expect:
        check("priority", d.priority.value, d.priority_reason)
    if "receivers" in expect:
        check("receivers", d.receivers)
    if "escalation" in expect:
        check("escalation", d.escalation)
    if "tags" in expect:
        check("tags", d.tags)
    if "suppressed" in expect:
        check("suppressed", d.suppressed)
    if "runbook_url" in expect:
        check("runbook_url", d.runbook_url)
    if "route" in expect:
        below_root = tuple(r.name for r in d.paths[-1][1:])
        check("route", below_root, "; ".join(d.describe_paths()), ordered=True)
    if "maintenance" in expect:
        check("maintenance", maintenance)


def _show(v: object) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)
