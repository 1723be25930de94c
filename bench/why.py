"""Why does correlation score what it scores? A per-incident diagnosis.

For each scenario: every true incident (kind, root, tags from ``meta.json``)
with the predicted incidents its alerts went to, then every predicted
incident that mixes true incidents or names the wrong root.

    python -m bench.why [SCENARIOS_DIR] [--only s0002] [--all]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.score_offline import DEFAULT_DIR, load_score, score_scenario
from ingestd.correlate.base import CorrelationSettings


def _t(ns: int | None) -> str:
    if ns is None:
        return "   -    "
    secs = ns // 1_000_000_000 - 1_767_600_000  # seconds since 2026-01-05T08:00:00Z
    return f"{8 + secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"


def diagnose(score: Any, scen: Path, show_all: bool) -> None:
    res = score_scenario(score, scen, CorrelationSettings())
    truth = score.Truth(str(scen / "truth.json"))
    pr = score.predict_from_incidents(truth, res["_incidents"])
    meta = json.loads((scen / "meta.json").read_text())
    tags = {f["id"]: f.get("tags", []) for f in meta.get("faults", [])}
    roots = {f"{i['id']}#{j}": i for j, i in enumerate(res["_incidents"])}
    short = {k: f"P{n}" for n, k in enumerate(sorted(roots, key=lambda k: roots[k]["alerts"][0]["starts_at"]))}
    units_by_inc: dict[str, list[dict[str, Any]]] = {}
    for u in truth.units:
        units_by_inc.setdefault(u["inc"], []).append(u)
    pred_members: dict[str, list[dict[str, Any]]] = {}
    for u in truth.units:
        ks = pr.assign.get(u["uid"]) or ["?"]
        pred_members.setdefault(ks[0], []).append(u)
    print(f"== {scen.name}  F1={res['f1']:.3f} P={res['precision']:.3f} R={res['recall']:.3f} "
          f"RCA={res['rca']:.3f}")
    for iid, units in sorted(units_by_inc.items(), key=lambda p: min(u["first"] for u in p[1])):
        ti = truth.incidents[iid]
        where = Counter(short.get((pr.assign.get(u["uid"]) or ["?"])[0], "?") for u in units)
        top = where.most_common(1)[0][0]
        top_key = next((k for k, s in short.items() if s == top), None)
        named = roots[top_key]["root_ci"] if top_key else None
        ok_group = len(where) == 1 and all(
            truth.incidents[v["inc"]] is ti for v in pred_members.get(top_key or "?", []))
        ok_root = len(units) < 2 or named == ti.get("root_ci")
        if ok_group and ok_root and not show_all:
            continue
        print(f" {iid:4} {ti['kind']:<15} root={ti.get('root_ci')} alerted={ti.get('root_alerted')} "
              f"tags={','.join(tags.get(iid, []))} -> {dict(where)} named={named}"
              f"{'' if ok_root else '  WRONG-ROOT'}")
        for u in sorted(units, key=lambda u: u["first"]):
            k = (pr.assign.get(u["uid"]) or ["?"])[0]
            eps = " ".join(f"{_t(s)}-{_t(e)}" for s, e in u["eps"])
            print(f"       {short.get(k, '?'):>4} {u['alertname']:<32} {u['ci']!s:<24} {eps}")
    for key, units in sorted(pred_members.items(), key=lambda p: short.get(p[0], "?")):
        mix = Counter(u["inc"] for u in units)
        if len(mix) > 1:
            print(f" {short.get(key, '?')} root={roots[key]['root_ci'] if key in roots else None} "
                  f"mixes {dict(mix)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?", default=DEFAULT_DIR)
    ap.add_argument("--only", default="")
    ap.add_argument("--all", action="store_true", help="also list true incidents that came out right")
    args = ap.parse_args(argv)
    base = Path(args.dir)
    sys.path.insert(0, str(base))
    score = load_score(base)
    for scen in sorted(p for p in base.iterdir() if (p / "stream.jsonl").is_file()):
        if args.only in scen.name:
            diagnose(score, scen, args.all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
