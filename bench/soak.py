"""Soak: a steady intake rate for a bounded time; memory and latency at the end.

    python -m bench.soak [--minutes 3] [--rate 200] [--clients 16] [--groups 2000]

Bodies go out at --rate per second (open loop: a slow answer does not slow the
sender), each with 3 alerts, cycling through --groups distinct groups (as
Alertmanager re-sends every active group each group_interval): a steady set
of alerts, so memory should level off; a leak shows as growth. Reports the daemon's RSS at start, every
30 s and at the end, the latency percentiles of the answers, and the statuses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from tests.conftest import ROOT, DaemonProcess
from tests.reliability.load import INTAKE, body, check_acked


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(minutes: float, rate: float, clients: int, groups: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ingestd-soak-") as tmp:
        d = DaemonProcess(Path(tmp), ROOT / "cmdb.yaml")
        d.start()
        assert d.proc is not None
        pid = d.proc.pid
        rss = [(0.0, rss_mib(pid))]
        latencies: list[float] = []
        statuses: Counter[str] = Counter()
        acked: set[str] = set()
        sem = asyncio.Semaphore(clients)
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + minutes * 60
        sent = 0

        async def one(session: aiohttp.ClientSession, raw: bytes, fps: list[str]) -> None:
            async with sem:
                t0 = time.perf_counter()
                try:
                    async with session.post(d.url + INTAKE, data=raw) as r:
                        await r.read()
                        statuses[str(r.status)] += 1
                        if r.status == 200:
                            acked.update(fps)
                except aiohttp.ClientError:
                    statuses["connection error"] += 1
                latencies.append(time.perf_counter() - t0)

        tasks: set[asyncio.Task[None]] = set()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as s:
                next_rss = start + 30
                while (now := loop.time()) < end:
                    raw, fps = body("soak", sent % groups)
                    t = asyncio.create_task(one(s, raw, fps))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                    sent += 1
                    if now >= next_rss:
                        rss.append((round(now - start), rss_mib(pid)))
                        next_rss += 30
                    await asyncio.sleep(max(0.0, start + sent / rate - loop.time()))
                await asyncio.gather(*tasks)
            rss.append((round(loop.time() - start), rss_mib(pid)))
            check = check_acked(d.url, acked)
        finally:
            d.stop()
    ms = [v * 1000 for v in latencies]
    return {
        "minutes": minutes, "rate_per_s": rate, "groups": groups, "bodies_sent": sent,
        "statuses": dict(statuses), "alerts_acked": len(acked),
        "alerts_found_once": check.found_once, "missing": len(check.missing),
        "rss_mib_start": round(rss[0][1], 1), "rss_mib_end": round(rss[-1][1], 1),
        "rss_mib_over_time": [(t, round(m, 1)) for t, m in rss],
        "latency_ms": {"p50": round(percentile(ms, 0.50), 2), "p90": round(percentile(ms, 0.90), 2),
                       "p99": round(percentile(ms, 0.99), 2), "max": round(max(ms or [0]), 2),
                       "mean": round(statistics.fmean(ms or [0]), 2)},
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--rate", type=float, default=200.0, help="bodies per second")
    p.add_argument("--clients", type=int, default=16, help="most bodies in flight at once")
    p.add_argument("--groups", type=int, default=2000, help="distinct bodies cycled through")
    args = p.parse_args()
    report = asyncio.run(run(args.minutes, args.rate, args.clients, args.groups))
    print(json.dumps(report, indent=2))
    return 0 if not report["missing"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
