"""The pipeline alone, without HTTP: CPU per alert, a profile, and an output digest.

``speed`` feeds the processor what the ``new20`` workload of ``bench.run``
sends (brand-new alerts on the largest scenario's CMDB, 20 per body, 16
bodies per commit) and prints the CPU time per alert of the processor and
of the SQLite write; ``--profile`` adds a cProfile of the processor.

``digest`` runs a mixed, seeded stream (new alerts of every role, re-sends,
resolves, flaps, missed resolves, late copies, unmapped alerts, clock ticks
with due timers and a restart from the store halfway) through the processor
and a SQLite store, and prints one hash per batch of everything the batch
asked the store to write, then a hash of the whole database. Two versions of
the code that print the same lines behave the same on that stream.

    python -m bench.pipeline speed --alerts 20000 [--store] [--profile]
    python -m bench.pipeline digest [--cmdb FILE --rules DIR] > digest.txt
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import enum
import hashlib
import itertools
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
import yaml

from bench.loadgen import rfc3339
from bench.run import ROOT, largest_scenario, new_alert_bodies
from ingestd.app import load_config
from ingestd.cli.serve import tune_gc
from ingestd.config import Settings
from ingestd.correlate.topology import TopologyCorrelator
from ingestd.intake.alertmanager import parse_body
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.restore import restore
from ingestd.pipeline.rules_dispatch import RulesDispatcher, RulesSla
from ingestd.pipeline.work import Intake, Tick, Work
from ingestd.store.sqlite import SqliteStore

_ZERO = "0001-01-01T00:00:00Z"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _counter(prefix: str) -> Callable[[datetime], str]:
    seq = itertools.count(1)
    return lambda _at: f"{prefix}{next(seq):06d}"


def build(cmdb: Path, rules: Path, clock: Clock, ids: Callable[[datetime], str] | None = None,
          problems: Callable[[datetime], str] | None = None) -> Processor:
    """The processor as ``make_processor`` builds it, with incident ids from ``ids``."""
    settings = Settings(cmdb=str(cmdb), rules=str(rules))
    config = load_config(settings)
    correlator = TopologyCorrelator(config.cmdb, settings.correlation_settings(),
                                    config.knowledge, ids)
    return Processor(config.cmdb, correlator, RulesDispatcher(config.rules),
                     RulesSla(config.rules), clock, new_id=problems,
                     base_url=settings.external_url)


# -- speed -----------------------------------------------------------------------------


def speed(args: argparse.Namespace) -> None:
    tune_gc()  # as the daemon runs
    scen = largest_scenario()
    assert scen is not None, "no scenario found"
    cmdb = Path(args.cmdb) if args.cmdb else scen / "cmdb.yaml"
    with tempfile.TemporaryDirectory(prefix="ingestd-pipeline-") as tmp_s:
        tmp = Path(tmp_s)
        rules = Path(args.rules) if args.rules else tmp / "no-rules"
        rules.mkdir(exist_ok=True)
        bodies = new_alert_bodies(cmdb, args.alerts, args.per_body)
        intakes = [Intake(parse_body(raw)) for raw, _ in bodies]
        clock = Clock(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
        proc = build(cmdb, rules, clock)
        store = SqliteStore(tmp / "i.db") if args.store else None
        batches = [intakes[i:i + args.bodies_per_batch]
                   for i in range(0, len(intakes), args.bodies_per_batch)]
        prof = cProfile.Profile() if args.profile else None
        t_proc = t_store = 0.0
        n = sum(len(i.alerts) for i in intakes)

        async def go() -> None:
            nonlocal t_proc, t_store
            if store is not None:
                await store.open()
            for work in batches:
                clock.now += timedelta(milliseconds=50)
                t0 = time.process_time()
                if prof is not None:
                    prof.enable()
                batch, _, _ = proc.process(list(work))
                if prof is not None:
                    prof.disable()
                t1 = time.process_time()
                t_proc += t1 - t0
                if store is not None:
                    await store.apply(batch)
                    t_store += time.process_time() - t1
            if store is not None:
                await store.close()

        asyncio.run(go())
        print(f"{n} new alerts on {cmdb.parent.name}: processor {t_proc / n * 1e6:.1f} µs/alert"
              + (f", SQLite write {t_store / n * 1e6:.1f} µs/alert" if store else ""))
        if prof is not None:
            pstats.Stats(prof, stream=sys.stdout).sort_stats(args.sort).print_stats(args.top)


# -- digest ----------------------------------------------------------------------------

_NAMES = ("NodeDown", "InstanceDown", "TargetDown", "KubePodCrashLooping", "HighErrorRate",
          "ProbeFailed", "HighRequestLatency", "BlackboxProbeSlowHttp", "HostOutOfDiskSpace",
          "HostFilesystemAlmostFull", "HostDiskWillFillIn24Hours", "SSLCertExpired",
          "SnmpInterfaceDown", "KubePodNotReady", "SomethingCustom")
_SEVERITIES = ("critical", "warning", "error", "info", "page")


def _identities(cmdb: Path, rng: random.Random) -> list[dict[str, str]]:
    doc = yaml.safe_load(cmdb.read_text())
    sels: list[dict[str, str]] = []
    for ci in doc.get("cis") or []:
        for sel in ci.get("match") or []:
            if isinstance(sel, dict):
                sels.append({str(k): str(v) for k, v in sel.items()})
    out = []
    for sel in sels:
        for name in rng.sample(_NAMES, 6):
            for replica in range(rng.randint(1, 3)):
                labels = dict(sel)
                labels.update(alertname=name, severity=rng.choice(_SEVERITIES),
                              replica=str(replica))
                out.append(labels)
    for i in range(40):  # alerts that map to no CI
        out.append({"alertname": rng.choice(_NAMES), "instance": f"nowhere-{i}",
                    "severity": rng.choice(_SEVERITIES)})
    ids = [str(c["id"]) for c in doc.get("cis") or []]
    for ci in rng.sample(ids, min(10, len(ids))):  # some name their CI by label
        out.append({"alertname": rng.choice(_NAMES), "ci": ci, "severity": "critical"})
    return out


def _stream(cmdb: Path, seed: int, alerts: int) -> Iterator[tuple[list[bytes], datetime]]:
    """Batches of bodies, each with the wall-clock time it is processed at."""
    rng = random.Random(seed)
    idents = _identities(cmdb, rng)
    firing: dict[int, datetime] = {}
    resolved: dict[int, tuple[datetime, datetime]] = {}
    t = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    sent = 0

    def alert(i: int, starts: datetime, ends: datetime | None, note: str = "") -> bytes:
        labels = idents[i]
        return orjson.dumps({
            "status": "firing" if ends is None else "resolved", "labels": labels,
            "annotations": {"summary": f"{labels['alertname']} {note}".strip()},
            "startsAt": rfc3339(starts), "endsAt": _ZERO if ends is None else rfc3339(ends),
            "generatorURL": "http://prom/graph", "fingerprint": "",
        })

    while sent < alerts:
        bodies: list[bytes] = []
        storm = rng.random() < 0.15
        for _ in range(rng.randint(1, 16)):
            parts: list[bytes] = []
            for _ in range(rng.randint(1, 20)):
                t += timedelta(milliseconds=rng.randint(0, 200 if storm else 4000))
                r = rng.random()
                i = rng.randrange(len(idents))
                if r < 0.45 and i not in firing:
                    prev = resolved.get(i)
                    starts = t - timedelta(seconds=rng.randint(0, 90))
                    if prev is not None and starts <= prev[1]:
                        starts = prev[1] + timedelta(seconds=1)
                    firing[i] = starts
                    ends = None
                    if rng.random() < 0.05:  # arrives already resolved
                        ends = starts + timedelta(seconds=30)
                        del firing[i]
                        resolved[i] = (starts, ends)
                    parts.append(alert(i, starts, ends))
                elif r < 0.65 and firing:
                    i = rng.choice(sorted(firing))
                    starts = firing.pop(i)
                    ends = max(t, starts + timedelta(seconds=1))
                    resolved[i] = (starts, ends)
                    parts.append(alert(i, starts, ends))
                elif r < 0.9 and firing:
                    i = rng.choice(sorted(firing))
                    note = "changed" if rng.random() < 0.1 else ""
                    parts.append(alert(i, firing[i], None, note))
                elif r < 0.95 and firing:  # a later start while open: the resolve went missing
                    i = rng.choice(sorted(firing))
                    starts = max(t, firing[i] + timedelta(seconds=1))
                    firing[i] = starts
                    parts.append(alert(i, starts, None))
                elif resolved:  # a late copy of an old episode
                    i = rng.choice(sorted(resolved))
                    parts.append(alert(i, resolved[i][0], resolved[i][1]))
            sent += len(parts)
            bodies.append(b'{"version":"4","status":"firing","receiver":"r","alerts":['
                          + b",".join(parts) + b"]}")
        yield bodies, t + timedelta(seconds=rng.randint(0, 120))


def _plain(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.isoformat()
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, (set, frozenset)):
        return sorted(_plain(x) for x in o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return {f.name: _plain(getattr(o, f.name)) for f in dataclasses.fields(o)}
    if isinstance(o, (dict, MappingProxyType)):
        return [[_plain(k), _plain(v)] for k, v in o.items()]
    if isinstance(o, (list, tuple)):
        return [_plain(x) for x in o]
    if hasattr(o, "_asdict"):
        return _plain(o._asdict())
    return o


def _hash(o: Any) -> str:
    return hashlib.sha256(orjson.dumps(_plain(o))).hexdigest()[:16]


def _dump_db(path: Path) -> str:
    db = sqlite3.connect(path)
    h = hashlib.sha256()
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name")]
    for table in tables:
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] != "fired_at"]
        rows = db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
        h.update(table.encode())
        h.update(repr(sorted(rows, key=repr)).encode())
        print(f"table {table}: {len(rows)} rows")
    db.close()
    return h.hexdigest()[:16]


def digest(args: argparse.Namespace) -> None:
    cmdb = Path(args.cmdb) if args.cmdb else ROOT / "cmdb.yaml"
    with tempfile.TemporaryDirectory(prefix="ingestd-digest-") as tmp_s:
        tmp = Path(tmp_s)
        rules = Path(args.rules) if args.rules else ROOT / "rules"
        path = tmp / "d.db"
        if args.new:  # what speed (and bench.run's new20) sends
            raw = [b for b, _ in new_alert_bodies(cmdb, args.alerts)]
            t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
            stream = [(raw[i:i + 16], t0 + timedelta(seconds=i // 16))
                      for i in range(0, len(raw), 16)]
        else:
            stream = list(_stream(cmdb, args.seed, args.alerts))
        clock = Clock(stream[0][1])
        ids, problems = _counter("inc-"), _counter("prb-")
        cpu = 0.0

        async def go() -> None:
            nonlocal cpu
            store = SqliteStore(path)
            await store.open()
            try:
                await feed(store)
            finally:
                await store.close()

        async def feed(store: SqliteStore) -> None:
            nonlocal cpu
            proc = build(cmdb, rules, clock, ids, problems)
            await restore(proc, store)
            for n, (bodies, now) in enumerate(stream):
                clock.now = max(clock.now, now)
                work: list[Work] = [Intake(parse_body(b)) for b in bodies]
                if n % 5 == 4:
                    work.append(Tick(clock.now, await store.due_timers(clock.now, 200)))
                t0 = time.process_time()
                batch, results, stats = proc.process(work)
                cpu += time.process_time() - t0
                print(f"{n} {_hash([batch, results, stats])}")
                await store.apply(batch)
                if args.restart and n == len(stream) // 2:  # state rebuilt from the store
                    proc = build(cmdb, rules, clock, ids, problems)
                    await restore(proc, store)

        asyncio.run(go())
        print(f"database {_dump_db(path)}")
        print(f"processor CPU {cpu:.2f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("speed", help="CPU per new alert, optionally profiled")
    s.add_argument("--alerts", type=int, default=20_000)
    s.add_argument("--per-body", type=int, default=20)
    s.add_argument("--bodies-per-batch", type=int, default=16)
    s.add_argument("--cmdb", help="default: the largest scenario's CMDB")
    s.add_argument("--rules", help="default: no rules (as bench.run's new20)")
    s.add_argument("--store", action="store_true", help="also write each batch to SQLite")
    s.add_argument("--profile", action="store_true")
    s.add_argument("--sort", default="tottime")
    s.add_argument("--top", type=int, default=40)
    s.set_defaults(func=speed)
    d = sub.add_parser("digest", help="hash of what a mixed stream makes the store write")
    d.add_argument("--alerts", type=int, default=20_000)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--cmdb", help="default: the repository's cmdb.yaml")
    d.add_argument("--rules", help="default: the repository's rules/")
    d.add_argument("--new", action="store_true", help="brand-new alerts only, as speed sends")
    d.add_argument("--no-restart", dest="restart", action="store_false",
                   help="no restart from the store halfway")
    d.set_defaults(func=digest)
    args = p.parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
