"""``ingestd replay``: run a recorded stream through the pipeline offline, on event time.

The stream is one webhook body per line (the format of the evaluation scenarios and of
``ingestd export``). The pipeline is the daemon's own (:func:`ingestd.app.make_processor`);
only the store is in memory and the clock follows the events.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestd.api.views import incident_summary
from ingestd.config import Settings
from ingestd.domain import IncidentStatus
from ingestd.intake.alertmanager import parse_body
from ingestd.intake.errors import IntakeError
from ingestd.pipeline.work import Intake
from ingestd.store.memory import MemoryStore
from ingestd.store.records import IncidentQuery


class EventClock:
    """The latest event time seen: replay's notion of now."""

    def __init__(self) -> None:
        self.now = datetime(1970, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="run a recorded stream through the pipeline offline",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stream", help="JSON lines, one Alertmanager webhook body per line")
    p.add_argument("--cmdb", default="cmdb.yaml")
    p.add_argument("--rules", default="rules")
    p.add_argument("--json", action="store_true",
                   help="print GET /api/v1/incidents?status=any, all pages in one document")
    p.add_argument("--diff-cmdb", metavar="FILE", help="also replay with this CMDB and compare")
    p.add_argument("--diff-rules", metavar="DIR", help="also replay with these rules and compare")
    p.set_defaults(func=run)


def replay(lines: Iterable[str], cmdb_path: str, rules_dir: str) -> list[dict[str, Any]]:
    """The incidents the daemon would make of this stream, in the API's shape."""
    from ingestd.app import load_config, make_processor

    settings = Settings(cmdb=cmdb_path, rules=rules_dir)
    clock = EventClock()
    processor = make_processor(load_config(settings), settings, clock)
    store = MemoryStore()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            alerts = parse_body(line.encode())
        except IntakeError as e:
            raise SystemExit(f"line {n}: {e}") from None
        for a in alerts:
            clock.now = max(clock.now, a.ends_at or a.starts_at)
        batch, _, _ = processor.process([Intake(alerts)])
        store.apply_now(batch)
    rows = store.query(IncidentQuery(status=tuple(IncidentStatus), limit=10**9))
    episodes = store.episodes_of([r.id for r in rows])
    return [incident_summary(r, episodes[r.id]) for r in rows]


def _table(incidents: list[dict[str, Any]]) -> str:
    out = []
    for inc in sorted(incidents, key=lambda i: i["opened_at"]):
        root = (inc["root_ci"] or "-") + (" (inferred)" if inc["root_inferred"] else "")
        out.append(f"{inc['opened_at'][:19]}  {inc['priority']}  {inc['status']:<9}"
                   f" team={inc['team'] or '-':<10} root={root:<28} alerts={len(inc['alerts']):<3}"
                   f" {inc['title']}")
    return "\n".join(out)


def _shape(incidents: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(i["root_ci"], i["team"], i["priority"],
             tuple(sorted((a["fingerprint"], a["starts_at"]) for a in i["alerts"])))
            for i in incidents}


def run(args: argparse.Namespace) -> int:
    from ingestd.app import ConfigInvalid

    lines = Path(args.stream).read_text(encoding="utf-8").splitlines()
    try:
        base = replay(lines, args.cmdb, args.rules)
        other = None
        if args.diff_cmdb or args.diff_rules:
            other = replay(lines, args.diff_cmdb or args.cmdb, args.diff_rules or args.rules)
    except ConfigInvalid as e:
        print("ingestd replay: the configuration is not valid:\n  " + "\n  ".join(e.problems),
              file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"incidents": base, "next_cursor": None}, indent=1))
        return 0
    print(_table(base))
    if other is not None:
        a, b = _shape(base), _shape(other)
        gone = [i for i in base if (i["root_ci"], i["team"], i["priority"], tuple(sorted(
            (x["fingerprint"], x["starts_at"]) for x in i["alerts"]))) not in b]
        new = [i for i in other if (i["root_ci"], i["team"], i["priority"], tuple(sorted(
            (x["fingerprint"], x["starts_at"]) for x in i["alerts"]))) not in a]
        print(f"\nwith the change: {len(other)} incidents ({len(other) - len(base):+d});"
              f" {len(gone)} differ")
        if gone:
            print("- before:\n" + _table(gone))
        if new:
            print("+ after:\n" + _table(new))
    return 0
