"""``ingestd rules check``, ``ingestd rules test`` and ``ingestd route``: work on rules before deploying them."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestd.cmdb import Cmdb, CmdbError, load_cmdb
from ingestd.domain import utcnow
from ingestd.route import MatcherError, RulesError, RuleSet, load_rules, parse_labels
from ingestd.route.ruletest import run_file

DEFAULT_RULES = "rules"
DEFAULT_CMDB = "cmdb.yaml"


def register(subparsers: Any) -> None:
    rules = subparsers.add_parser("rules", help="check and test routing rules")
    sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="validate a rules directory (file:line for every problem)")
    _rules_flags(check)
    check.set_defaults(func=cmd_check)

    test = sub.add_parser("test", help="run rule test files (expected team, assignee, priority ...)")
    test.add_argument("files", nargs="+", metavar="FILE")
    test.add_argument("--rules", help="rules directory (default: the test file's `rules`, else ..)")
    test.add_argument("--cmdb", help="CMDB file (default: the test file's `cmdb`)")
    test.set_defaults(func=cmd_test)

    route = subparsers.add_parser(
        "route", help='show where an incident goes: ingestd route \'{alertname="X", severity="critical"}\''
    )
    route.add_argument("labels", metavar="LABELS", help='alert labels: alertname=X,severity=critical or {a="b", ...}')
    _rules_flags(route)
    route.add_argument("--ci", help="the root CI id (default: the CI the labels map to in the CMDB)")
    route.add_argument("--at", help="time for on-call and maintenance (ISO 8601, default now)")
    route.add_argument("--root-inferred", action="store_true", help="the root CI was inferred, not alerted")
    route.set_defaults(func=cmd_route)


def _rules_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rules",
        default=os.environ.get("INGESTD_RULES", DEFAULT_RULES),
        help=f"rules directory (INGESTD_RULES, default {DEFAULT_RULES})",
    )
    p.add_argument(
        "--cmdb",
        default=os.environ.get("INGESTD_CMDB"),
        help=f"CMDB file (INGESTD_CMDB, default {DEFAULT_CMDB} if it exists)",
    )


def _load(args: argparse.Namespace) -> tuple[RuleSet | None, list[str]]:
    cmdb: Cmdb | None = None
    cmdb_path = args.cmdb or (DEFAULT_CMDB if Path(DEFAULT_CMDB).is_file() else None)
    if cmdb_path is not None:
        try:
            cmdb = load_cmdb(cmdb_path)
        except OSError as e:
            return None, [f"{cmdb_path}: {e.strerror}"]
        except CmdbError as e:
            return None, e.problems
    try:
        return load_rules(args.rules, cmdb), []
    except RulesError as e:
        return None, e.problems


def cmd_check(args: argparse.Namespace) -> int:
    rules, problems = _load(args)
    if rules is None:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{args.rules}: {len(problems)} problem(s); the rules were not loaded", file=sys.stderr)
        return 1
    for w in rules.warnings:
        print(f"warning: {w}", file=sys.stderr)
    routes = len(rules.root.walk())
    cmdb = f", CMDB {rules.cmdb.source} ({len(rules.cmdb)} CIs)" if rules.cmdb else ""
    print(
        f"{args.rules}: OK: {routes} routes, {len(rules.teams)} teams, "
        f"{len(rules.sla.policies)} escalation policies, {len(rules.windows)} maintenance windows{cmdb}; "
        f"config hash {rules.config_hash}"
    )
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    failed = 0
    total = 0
    for f in args.files:
        report = run_file(f, args.rules, args.cmdb)
        for p in report.problems:
            print(p)
        for case in report.cases:
            total += 1
            if case.passed:
                continue
            failed += 1
            print(f'{case.where}: FAILED case "{case.name}"')
            for failure in case.failures:
                print(f"    {failure}")
        if report.problems:
            print(f"{f}: could not run")
            failed += 1
    verdict = "SUCCESS" if failed == 0 else "FAILED"
    print(f"{verdict}: {total} cases in {len(args.files)} file(s), {failed} failed")
    return 0 if failed == 0 else 1


def cmd_route(args: argparse.Namespace) -> int:
    rules, problems = _load(args)
    if rules is None:
        for p in problems:
            print(p, file=sys.stderr)
        return 1
    try:
        labels = parse_labels(args.labels)
    except MatcherError as e:
        print(f"LABELS: {e}", file=sys.stderr)
        return 2
    at = utcnow()
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            print(f"--at: {args.at!r} is not a time like 2026-01-05T09:00:00Z", file=sys.stderr)
            return 2
        if at.tzinfo is None:
            print("--at needs a time zone offset, e.g. 2026-01-05T09:00:00Z", file=sys.stderr)
            return 2
    if args.ci and (rules.cmdb is None or args.ci not in rules.cmdb.cis):
        print(f'--ci: "{args.ci}" is not in the CMDB', file=sys.stderr)
        return 2
    ctx = rules.context(labels, at, args.ci, root_inferred=args.root_inferred)
    d = rules.route(ctx)
    print(f"root CI:    {ctx.ci.id if ctx.ci else '-'} (blast radius {ctx.blast_radius})")
    for i, path in enumerate(d.describe_paths(), start=1):
        print(f"path {i}:     {path}")
    print(f"team:       {d.team or '-'}  ({d.team_reason})")
    print(f"assignee:   {d.assignee or '-'}  ({d.assignee_reason})")
    print(f"priority:   {d.priority.value}  ({d.priority_reason})")
    print(f"receivers:  {', '.join(d.receivers) or '-'}")
    print(f"escalation: {d.escalation or '-'}")
    print(f"tags:       {', '.join(d.tags) or '-'}")
    print(f"runbook:    {d.runbook_url or '-'}")
    if d.suppressed:
        print("suppressed: yes (kept and counted, nobody told)")
    if d.threshold is not None:
        print(f"threshold:  alerts={d.threshold.alerts} after={d.threshold.after}")
    hold = rules.in_maintenance(ctx.ci.id if ctx.ci else None, at)
    if hold is not None:
        print(f"held:       {hold.reason}")
    return 0
