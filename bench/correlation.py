"""Correlation at scale: a generated 100,000-CI CMDB.

Layers: core routers -> switches -> hosts -> databases -> services, written
as ``cmdb.yaml`` and loaded through the real loader. Then a storm of alerts
(switch failures with their host, database and service symptoms, plus
scattered noise) is mapped and correlated; prints load time, cost per
alert and memory: the resident set now (what the CMDB keeps) and at its
peak (what loading it needed), both for the whole process.

    python -m bench.correlation [--cis 100000] [--alerts 20000]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingestd.cmdb import load_cmdb
from ingestd.correlate.topology import TopologyCorrelator
from ingestd.domain import Episode, frozen_labels


def generate(n: int) -> str:
    cores, switches = 4, max(8, n // 200)
    hosts = n // 2
    dbs = n // 10
    services = n - cores - switches - hosts - dbs
    out = ["cis:"]

    def ci(id_: str, type_: str, match: str, deps: list[str], extra: str = "") -> None:
        out.append(f'  - id: "{id_}"\n    type: {type_}\n{extra}    match:\n      - {match}')
        if deps:
            out.append(f"    depends_on: [{', '.join(deps)}]")

    for i in range(cores):
        ci(f"core-{i}", "network", f'{{instance: "core-{i}"}}', [])
    for i in range(switches):
        ci(f"sw-{i}", "network", f'{{instance: "sw-{i}"}}', [f"core-{i % cores}"])
    for i in range(hosts):
        ci(f"host-{i}", "host", f'{{instance: "host-{i}:9100"}}', [f"sw-{i % switches}"])
    for i in range(dbs):
        ci(f"db-{i}", "database", f'{{instance: "db-{i}:9187"}}', [f"host-{(i * 5) % hosts}"])
    for i in range(services):
        deps = [f"host-{(i * 3 + 1) % hosts}", f"host-{(i * 3 + 2) % hosts}", f"db-{i % dbs}"]
        if i > 10:
            deps.append(f"svc-{i // 2}")
        ci(f"svc-{i}", "service", f'{{namespace: "prod", deployment: "svc-{i}"}}', deps,
           f"    service: biz-{i % 50}\n    team: team-{i % 30}\n")
    return "\n".join(out) + "\n"


def storm(n_alerts: int, n_cis: int, seed: int = 7) -> list[dict[str, str]]:
    rnd = random.Random(seed)
    hosts = n_cis // 2
    dbs = n_cis // 10
    kinds = [
        lambda: {"alertname": "NodeDown", "instance": f"host-{rnd.randrange(hosts)}:9100"},
        lambda: {"alertname": "PostgresqlDown", "instance": f"db-{rnd.randrange(dbs)}:9187"},
        lambda: {"alertname": "HTTP5xxRateHigh", "namespace": "prod",
                 "deployment": f"svc-{rnd.randrange(n_cis // 3)}"},
        lambda: {"alertname": "HostHighCpuLoad", "instance": f"host-{rnd.randrange(hosts)}:9100"},
        lambda: {"alertname": "BackupJobFailed", "job": f"backup-{rnd.randrange(100)}"},
    ]
    return [rnd.choice(kinds)() for _ in range(n_alerts)]


def rss_mb() -> float:
    """Resident set size now (Linux), in MB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:  # not Linux: the peak is the best there is
        return peak_rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cis", type=int, default=100_000)
    ap.add_argument("--alerts", type=int, default=20_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cmdb.yaml"
        path.write_text(generate(args.cis))
        size = path.stat().st_size
        rss_before = rss_mb()
        t, cpu = time.perf_counter(), time.process_time()
        cmdb = load_cmdb(path)
        load_s, load_cpu = time.perf_counter() - t, time.process_time() - cpu
    rss_loaded, peak_loaded = rss_mb(), peak_rss_mb()
    # The collections that first follow a load walk every object of the new
    # CMDB once (the loader holds the collector meanwhile): done here, untimed,
    # so that cost lands in neither the mapping nor the correlation figure,
    # whichever of them happens to keep the first objects alive.
    gc.collect()
    alerts = storm(args.alerts, args.cis)
    t = time.perf_counter()
    mapped = [cmdb.map_labels(frozen_labels(a)).ci for a in alerts]
    map_s = time.perf_counter() - t
    corr = TopologyCorrelator(cmdb)
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    eps = []
    for i, (a, ci) in enumerate(zip(alerts, mapped, strict=True)):
        start = t0 + timedelta(seconds=i * 0.5)
        eps.append(Episode(f"e{i}", f"fp{i}", a["alertname"], ci, "critical", frozen_labels(a), start))
    t = time.perf_counter()
    for i, ep in enumerate(eps):
        corr.firing(ep)
        if i >= 200:  # keep a realistic number of alerts open: each fires ~100 s
            old = eps[i - 200]
            corr.resolved(Episode(old.key, old.fingerprint, old.alertname, old.ci, old.severity,
                                  old.labels, old.starts_at, ep.starts_at))
        if i % 1000 == 0:
            corr.tick(ep.starts_at)
    corr_s = time.perf_counter() - t
    n = len(alerts)
    print(f"CMDB: {len(cmdb)} CIs, {cmdb.graph.number_of_edges()} dependencies, "
          f"{size / 1e6:.1f} MB of YAML")
    print(f"load + validate:        {load_s:8.2f} s ({load_cpu:.2f} s CPU)")
    print(f"RSS before load:        {rss_before:8.0f} MB")
    print(f"RSS after load:         {rss_loaded:8.0f} MB (peak {peak_loaded:.0f} MB)")
    print(f"mapping:                {map_s / n * 1e3:8.4f} ms/alert ({n} alerts)")
    print(f"correlation:            {corr_s / n * 1e3:8.4f} ms/alert (200 open at a time)")
    print(f"mapping + correlation:  {(map_s + corr_s) / n * 1e3:8.4f} ms/alert")
    print(f"RSS at end:             {rss_mb():8.0f} MB (peak {peak_rss_mb():.0f} MB)")
    print(f"open incidents at end:  {len(corr.open_incidents())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
