"""Crash harness: concurrent intake, SIGKILL at random moments, restart, count what survived.

    python -m bench.crash [--bodies 5000] [--clients 32] [--kills 8] [--seed 1]

Each body holds distinct alerts; clients re-send a body until it is answered 2xx (as
Alertmanager does on 503 or a lost connection). Between kills the daemon runs for a
random 0.3-1.5 s. After the last restart every fingerprint answered 2xx must be one
episode of exactly one incident, and the SQLite file must pass its integrity check.
Bounded: stops after --time-limit seconds of sending whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

from tests.conftest import ROOT, DaemonProcess
from tests.reliability.load import (
    Tally,
    body,
    check_acked,
    crash_cycles,
    db_fingerprints,
    integrity,
)


async def run(bodies: int, clients: int, kills: int, seed: int, alerts: int,
              time_limit: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ingestd-crash-") as tmp:
        d = DaemonProcess(Path(tmp), ROOT / "cmdb.yaml")
        d.start()
        tally = Tally()
        started = time.monotonic()
        work = [body(f"crash-{seed}", i, alerts=alerts) for i in range(bodies)]
        try:
            done = await crash_cycles(d, work, clients, kills, random.Random(seed), tally,
                                      window=(0.3, 1.5), time_limit=time_limit)
            elapsed = time.monotonic() - started
            check = check_acked(d.url, tally.acked)
        finally:
            d.stop()
        db = Path(tmp) / "ingestd.db"
        per_fp = db_fingerprints(db)
        return {
            "kills_under_load": done, "bodies": bodies, "clients": clients,
            "bodies_acked": tally.acked_bodies, "bodies_never_acked": tally.unacked_bodies,
            "alerts_acked": check.acked, "alerts_found_once": check.found_once,
            "missing": len(check.missing), "duplicated": len(check.duplicated),
            "incidents": check.incidents, "episodes": check.episodes,
            "sqlite_file_agrees": all(per_fp[fp] == 1 for fp in tally.acked),
            "integrity_check": integrity(db), "statuses": dict(tally.statuses),
            "seconds": round(elapsed, 1), "ok": check.ok,
        }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--bodies", type=int, default=5000)
    p.add_argument("--alerts", type=int, default=2, help="alerts per body")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--kills", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=300.0)
    args = p.parse_args()
    report = asyncio.run(run(args.bodies, args.clients, args.kills, args.seed, args.alerts,
                             args.time_limit))
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] and report["integrity_check"] == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
