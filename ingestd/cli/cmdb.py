"""``ingestd cmdb``: tools for the people who keep ``cmdb.yaml``.

* ``check FILE``   validate; exit 1 listing every problem (warnings on stderr)
* ``impact CI``    what depends on a CI: CIs, business services, teams
* ``map LABELS``   which CI an alert with these labels maps to, and why
"""

from __future__ import annotations

import argparse
import sys

from ingestd.cmdb import Cmdb, CmdbError, load_cmdb
from ingestd.domain import frozen_labels


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cmdb", help="check cmdb.yaml, show impact, test alert mapping")
    cmds = p.add_subparsers(dest="cmdb_command", metavar="SUBCOMMAND", required=True)

    c = cmds.add_parser("check", help="validate a CMDB file; exit 1 listing every problem")
    c.add_argument("file", nargs="?", default=None, help="the CMDB file (default: --cmdb)")
    c.add_argument("--cmdb", default="cmdb.yaml", help="CMDB file (default ./cmdb.yaml)")
    c.set_defaults(func=check)

    i = cmds.add_parser("impact", help="what depends on a CI, and which services and teams")
    i.add_argument("ci", help="a CI id")
    i.add_argument("--cmdb", default="cmdb.yaml", help="CMDB file (default ./cmdb.yaml)")
    i.set_defaults(func=impact)

    m = cmds.add_parser("map", help="which CI an alert with these labels maps to, and why")
    m.add_argument("labels", nargs="+", metavar="NAME=VALUE", help="e.g. instance=node-1:9100 job=node")
    m.add_argument("--cmdb", default="cmdb.yaml", help="CMDB file (default ./cmdb.yaml)")
    m.set_defaults(func=map_)


def _load(path: str) -> Cmdb | None:
    try:
        return load_cmdb(path)
    except CmdbError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        print(f"{path}: {len(e.problems)} problem(s); fix them and run `ingestd cmdb check {path}`",
              file=sys.stderr)
        return None


def check(args: argparse.Namespace) -> int:
    path = args.file or args.cmdb
    cmdb = _load(path)
    if cmdb is None:
        return 1
    for w in cmdb.warnings:
        print(w, file=sys.stderr)
    edges = cmdb.graph.number_of_edges()
    print(f"{path}: OK: {len(cmdb)} CIs, {edges} dependencies, {len(cmdb.warnings)} warning(s)")
    return 0


def impact(args: argparse.Namespace) -> int:
    cmdb = _load(args.cmdb)
    if cmdb is None:
        return 1
    ci = cmdb.get(args.ci)
    if ci is None:
        print(f'{args.cmdb}: no CI "{args.ci}"', file=sys.stderr)
        return 1
    deps = cmdb.dependents(ci.id)
    direct = cmdb.needed_by(ci.id)
    print(f"{ci.id} ({ci.type or 'untyped'}, {ci.criticality.value}, team {ci.team or '-'})")
    print(f"  needed directly by: {', '.join(sorted(direct)) or '-'}")
    print(f"  everything that depends on it ({len(deps)}): {', '.join(sorted(deps)) or '-'}")
    print(f"  business services: {', '.join(sorted(cmdb.blast_radius(ci.id))) or '-'}")
    print(f"  teams: {', '.join(sorted(cmdb.teams_affected(ci.id))) or '-'}")
    return 0


def map_(args: argparse.Namespace) -> int:
    labels: dict[str, str] = {}
    for item in args.labels:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"bad label {item!r}: write NAME=VALUE", file=sys.stderr)
            return 2
        labels[name] = value
    cmdb = _load(args.cmdb)
    if cmdb is None:
        return 1
    m = cmdb.map_labels(frozen_labels(labels))
    print(f"{m.ci or '(no CI)'}: {m.reason}")
    return 0 if m.ci else 1
