"""Score the correlation on the evaluation scenarios without a running daemon.

Each scenario's ``stream.jsonl`` goes through the pieces the daemon uses, in
arrival order, one body at a time: JSON parse, fingerprint (the body's, or
computed), :class:`ingestd.dedup.EpisodeTracker`, CMDB mapping, and the
:class:`ingestd.correlate.topology.TopologyCorrelator`. The incidents are
then listed in the shape of ``GET /api/v1/incidents`` and scored with the
scenario kit's own ``score.py`` functions.

    python -m bench.score_offline [SCENARIOS_DIR] [--json] [--window 15m] ...
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from ingestd.cmdb import Cmdb, load_cmdb
from ingestd.correlate.base import (
    Change,
    CorrelationSettings,
    EpisodeAttached,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
    IncidentsMerged,
    RootChanged,
)
from ingestd.correlate.topology import TopologyCorrelator
from ingestd.dedup import EpisodeTracker, Outcome
from ingestd.domain import Alert, AlertStatus, Episode, frozen_labels
from ingestd.intake.fingerprint import fingerprint

DEFAULT_DIR = "/work/shared/scenarios"
_FRAC = re.compile(r"\.(\d+)")


def parse_time(s: str | None) -> datetime | None:
    if not s or s.startswith("0001-"):
        return None
    s = s.replace("Z", "+00:00").replace("z", "+00:00")
    s = _FRAC.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), s, count=1)
    return datetime.fromisoformat(s).astimezone(UTC)


def alerts_of(body: dict[str, Any]) -> list[Alert]:
    out = []
    for a in body.get("alerts", []):
        labels = {str(k): str(v) for k, v in (a.get("labels") or {}).items()}
        status = AlertStatus(a.get("status", "firing"))
        starts = parse_time(a.get("startsAt"))
        assert starts is not None
        out.append(Alert(
            fingerprint=(a.get("fingerprint") or fingerprint(labels)).lower(),
            status=status,
            labels=frozen_labels(labels),
            annotations=frozen_labels({str(k): str(v) for k, v in (a.get("annotations") or {}).items()}),
            starts_at=starts,
            ends_at=parse_time(a.get("endsAt")) if status is AlertStatus.RESOLVED else None,
            generator_url=a.get("generatorURL", ""),
        ))
    return out


class Book:
    """What the store keeps of correlation's changes: incidents outlive the correlator's
    memory (it forgets resolved incidents once event time has moved past them)."""

    def __init__(self) -> None:
        self.owner: dict[str, str] = {}
        self.roots: dict[str, tuple[str | None, bool]] = {}
        self.resolved: set[str] = set()
        self.alias: dict[str, str] = {}

    def apply(self, changes: Sequence[Change]) -> None:
        for ch in changes:
            if isinstance(ch, IncidentOpened):
                self.owner[ch.episode] = ch.incident
                self.roots[ch.incident] = (ch.root_ci, ch.root_inferred)
            elif isinstance(ch, EpisodeAttached | IncidentReopened):
                self.owner[ch.episode] = ch.incident
                self.resolved.discard(ch.incident)
            elif isinstance(ch, IncidentsMerged):
                self.alias[ch.source] = ch.target
            elif isinstance(ch, RootChanged):
                self.roots[ch.incident] = (ch.new_root, ch.inferred)
            elif isinstance(ch, IncidentResolved):
                self.resolved.add(ch.incident)

    def incident_of(self, key: str) -> str:
        iid = self.owner[key]
        while iid in self.alias:
            iid = self.alias[iid]
        return iid


def replay(lines: list[bytes], cmdb: Cmdb, settings: CorrelationSettings) -> list[dict[str, Any]]:
    """Feed a stream through dedup and correlation; the incidents in CONTRACT section 3 shape."""
    tracker = EpisodeTracker()
    corr = TopologyCorrelator(cmdb, settings)
    book = Book()
    episodes: dict[str, Episode] = {}
    end_of_time = datetime.max.replace(tzinfo=UTC)

    def resolve(prev: Episode, end: datetime | None) -> None:
        done = Episode(prev.key, prev.fingerprint, prev.alertname, prev.ci, prev.severity,
                       prev.labels, prev.starts_at, end)
        episodes[prev.key] = done
        book.apply(corr.resolved(done))

    for raw in lines:
        # the daemon ticks on the wall clock, far past a replayed stream's time
        book.apply(corr.tick(end_of_time))
        for alert in alerts_of(json.loads(raw)):
            c = tracker.classify(alert)
            if c.closed_previous and c.closed_previous in episodes:
                prev = episodes[c.closed_previous]
                if prev.ends_at is None:
                    resolve(prev, alert.starts_at)
            if c.outcome is Outcome.NEW:
                ep = Episode(c.key, alert.fingerprint, alert.alertname,
                             cmdb.map_labels(alert.labels).ci, alert.severity, alert.labels,
                             c.starts_at, None)
                episodes[ep.key] = ep
                book.apply(corr.firing(ep))
                if c.ends_at is not None:
                    resolve(ep, c.ends_at)
            elif c.outcome is Outcome.RESOLVED:
                resolve(episodes[c.key], c.ends_at)
    by_inc: dict[str, list[Episode]] = {}
    for ep in episodes.values():
        assert ep.key in book.owner, f"episode {ep.key} is in no incident"
        by_inc.setdefault(book.incident_of(ep.key), []).append(ep)
    out = []
    for iid, eps in by_inc.items():
        root, inferred = book.roots[iid]
        cis = {e.ci for e in eps if e.ci} | ({root} if root else set())
        out.append({
            "id": iid,
            "status": "resolved" if iid in book.resolved else "open",
            "root_ci": root,
            "root_inferred": inferred,
            "cis": sorted(cis),
            "alerts": [{"fingerprint": e.fingerprint, "starts_at": e.starts_at.isoformat(),
                        "status": "resolved" if e.ends_at else "firing",
                        "alertname": e.alertname, "ci": e.ci}
                       for e in sorted(eps, key=lambda e: e.starts_at)],
        })
    return out


def load_score(scen_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("scenario_score", scen_dir / "score.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def score_scenario(score: ModuleType, scen: Path, settings: CorrelationSettings) -> dict[str, Any]:
    truth = score.Truth(str(scen / "truth.json"))
    lines = [ln for ln in (scen / "stream.jsonl").read_bytes().split(b"\n") if ln.strip()]
    incidents = replay(lines, load_cmdb(scen / "cmdb.yaml"), settings)
    res: dict[str, Any] = score.evaluate(truth, score.predict_from_incidents(truth, incidents))
    res["scenario"] = scen.name
    res["_incidents"] = incidents
    return res


def _duration(s: str) -> timedelta:
    m = re.fullmatch(r"(\d+)([smhd])", s)
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {s!r} (e.g. 90s, 15m, 2h)")
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m.group(2)]:
                        int(m.group(1))})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?", default=DEFAULT_DIR)
    ap.add_argument("--window", type=_duration)
    ap.add_argument("--max-hops", type=int)
    ap.add_argument("--reopen-window", type=_duration)
    ap.add_argument("--slack", type=_duration)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--show", action="store_true", help="print each scenario's incidents")
    args = ap.parse_args(argv)
    base = Path(args.dir)
    kw: dict[str, Any] = {}
    if args.window is not None:
        kw["window"] = args.window
    if args.max_hops is not None:
        kw["max_hops"] = args.max_hops
    if args.reopen_window is not None:
        kw["reopen_window"] = args.reopen_window
    if args.slack is not None:
        kw["slack"] = args.slack
    settings = CorrelationSettings(**kw)
    sys.path.insert(0, str(base))
    score = load_score(base)
    scens = sorted(p for p in base.iterdir() if (p / "stream.jsonl").is_file())
    results = [score_scenario(score, s, settings) for s in scens]
    cols = ["alerts", "incidents", "compression", "precision", "recall", "f1", "rca", "lost", "dup"]
    mean: dict[str, Any] = {"scenario": f"MEAN ({len(results)})"}
    for k in cols:
        vals = [r[k] for r in results]
        mean[k] = sum(vals) if k in ("lost", "dup") else sum(vals) / len(vals)
    if args.json:
        print(json.dumps({"scenarios": [{k: r[k] for k in ["scenario", *cols]} for r in results],
                          "mean": mean}, indent=1))
        return 0
    if args.show:
        for r in results:
            print(f"== {r['scenario']}")
            for inc in sorted(r["_incidents"], key=lambda i: i["alerts"][0]["starts_at"]):
                print(f"  {inc['id']} root={inc['root_ci']}{' (inferred)' if inc['root_inferred'] else ''}")
                for a in inc["alerts"]:
                    print(f"      {a['starts_at'][11:19]} {a['alertname']} {a['ci']}")
    print(f"{'scenario':<22}" + "".join(f"{c:>9}" for c in cols))
    for r in [*results, mean]:
        cells = "".join(f"{r[c]:>9.3f}" if isinstance(r[c], float) else f"{r[c]:>9}" for c in cols)
        print(f"{r['scenario']:<22}{cells}")
    print(f"F1={mean['f1']:.2f} RCA={mean['rca']:.2f} lost={mean['lost']} dup={mean['dup']}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
