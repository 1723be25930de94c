"""Replicas on one PostgreSQL: scenario scores, throughput, a killed leader, a restarted database.

    python bench/replicas.py scenarios      # every scenario: 1 process (SQLite) vs 2 and 3 replicas
    python bench/replicas.py throughput     # bodies/s: 1 replica vs 2 replicas (and SQLite)
    python bench/replicas.py kill           # SIGKILL the leader mid-stream
    python bench/replicas.py pg-restart     # restart PostgreSQL under load (needs root)
    python bench/replicas.py all

Each run uses a schema of its own in ``$INGESTD_TEST_POSTGRES``
(default postgresql://postgres@127.0.0.1:5432/test), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from store.harness import (  # noqa: E402
    SCENARIOS,
    ReplicaSet,
    create_schema,
    drop_schema,
    evaluate,
    fetch_incidents,
    load_stream,
    pg_fetch,
    post_spread,
    summary,
    synthetic,
    wait_processed,
)

SYNTH_CMDB = ROOT / "cmdb.yaml"


def one_process(cmdb: Path, workdir: Path) -> ReplicaSet:
    rs = ReplicaSet(f"sqlite:///{workdir / 'one.db'}", cmdb, workdir, 1)
    rs.start()
    return rs


async def run_scenario(scen: Path, count: int, seed: int, concurrency: int = 1) -> dict[str, Any]:
    stream = load_stream(scen)
    with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as tmp:
        if count == 0:
            rs = one_process(scen / "cmdb.yaml", Path(tmp))
            url = None
        else:
            url = await create_schema()
            rs = ReplicaSet(url, scen / "cmdb.yaml", Path(tmp), count)
            rs.start()
        try:
            stats = await post_spread(stream, rs.urls, seed=seed, concurrency=concurrency)
            if url:
                await wait_processed(url)
            res = summary(evaluate(scen, await fetch_incidents(rs.urls[0])))
            res["acked"] = stats.ok
        finally:
            rs.stop()
            if url:
                await drop_schema(url)
    return res


async def scenarios(args: argparse.Namespace) -> None:
    print("scenario            setup          F1     RCA    lost  dup  incidents")
    for scen in sorted(p for p in SCENARIOS.iterdir() if (p / "stream.jsonl").exists()):
        base = None
        for count in (0, 2, 3):
            res = await run_scenario(scen, count, seed=count + 11)
            label = "1 process SQLite" if count == 0 else f"{count} replicas PG"
            same = "" if base is None else ("  same" if _score(res) == _score(base) else "  DIFFERS")
            base = base or res
            print(f"{scen.name:<19} {label:<14} {res['f1']:.3f}  {res['rca']:.3f}  "
                  f"{res['lost']:>4}  {res['dup']:>3}  {res['incidents']:>9}{same}")


def _score(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["f1"], r["rca"], r["lost"], r["dup"], r["incidents"])


async def throughput(args: argparse.Namespace) -> None:
    bodies = synthetic(args.bodies)
    print(f"{args.bodies} bodies x 5 new alerts, {args.concurrency} in flight, one client")
    print("setup              acked/s   processed/s  mean ack   errors")
    for count in args.replicas:
        with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as tmp:
            url = await create_schema() if count else None
            rs = (ReplicaSet(url, SYNTH_CMDB, Path(tmp), count) if url
                  else one_process(SYNTH_CMDB, Path(tmp)))
            if url:
                rs.start()
            try:
                t0 = time.monotonic()
                stats = await post_spread(bodies, rs.urls, seed=count, concurrency=args.concurrency)
                if url:
                    await wait_processed(url, 600)
                done = time.monotonic() - t0
            finally:
                rs.stop()
                if url:
                    await drop_schema(url)
        label = f"{count} replica(s) PG" if count else "1 process SQLite"
        print(f"{label:<18} {stats.ok / stats.seconds:>8.0f}   {len(bodies) / done:>11.0f}"
              f"   {stats.seconds / max(stats.ok, 1) * args.concurrency * 1000:>6.1f}ms"
              f"   {stats.non2xx}")


async def kill(args: argparse.Namespace) -> None:
    scen = SCENARIOS / "s0002-boutique"
    base = await run_scenario(scen, 0, seed=1)
    stream = load_stream(scen)
    url = await create_schema()
    with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as tmp:
        rs = ReplicaSet(url, scen / "cmdb.yaml", Path(tmp), 3)
        rs.start()
        killed: list[str] = []

        async def progress(n: int) -> None:
            if n == len(stream) // 2 and not killed:
                leader = await rs.leader()
                rs.kill(leader)
                killed.append(leader.url)

        try:
            stats = await post_spread(stream, rs.urls, seed=9, on_progress=progress)
            await wait_processed(url)
            new = await rs.leader()
            live = next(r.url for r in rs.replicas if r.alive)
            res = summary(evaluate(scen, await fetch_incidents(live)))
        finally:
            rs.stop()
            await drop_schema(url)
    print(f"killed the leader {killed[0]} after {len(stream) // 2} of {len(stream)} bodies;"
          f" {new.url} leads now; failovers {stats.failovers}, acked {stats.ok}")
    print(f"one process: {base}\n3 replicas, leader killed: {res}")
    print("same" if _score(res) == _score(base) else "DIFFERS")


async def pg_restart(args: argparse.Namespace) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]  # noqa: ASYNC240
    bodies = synthetic(args.bodies)
    url = await create_schema()
    with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as tmp:
        rs = ReplicaSet(url, SYNTH_CMDB, Path(tmp), 2)
        rs.start()
        restarted: list[float] = []

        async def progress(n: int) -> None:
            if n == len(bodies) // 3 and not restarted:
                t = time.monotonic()
                proc = await asyncio.create_subprocess_exec(
                    "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
                await proc.wait()
                restarted.append(time.monotonic() - t)

        try:
            stats = await post_spread(bodies, rs.urls, seed=4, concurrency=args.concurrency,
                                      on_progress=progress)
            await wait_processed(url, 120)
            stored = await pg_fetch(url, "SELECT COUNT(*) FROM alerts")
        finally:
            rs.stop()
            await drop_schema(url)
    print(f"PostgreSQL restart took {restarted[0]:.1f}s; bodies acked {stats.ok}/{len(bodies)},"
          f" 503 answers retried {stats.retries_503}, connection errors {stats.failovers}")
    print(f"alerts stored {stored[0][0]} of {len(bodies) * 5} sent (every acked one: "
          f"{'yes' if stored[0][0] == len(bodies) * 5 else 'NO'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["scenarios", "throughput", "kill", "pg-restart", "all"])
    ap.add_argument("--bodies", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--replicas", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    steps = {"scenarios": scenarios, "throughput": throughput, "kill": kill,
             "pg-restart": pg_restart}
    for name, step in steps.items():
        if args.what in (name, "all"):
            print(f"== {name}")
            asyncio.run(step(args))
    subprocess.run(["pg_isready", "-h", "127.0.0.1"], check=False)


if __name__ == "__main__":
    main()
