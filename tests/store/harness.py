"""Several ``ingestd serve`` replicas on one PostgreSQL schema, and a scenario posted over them.

Shared by the replica tests and ``bench/replicas.py``. The bodies of a
scenario go to the replicas at random, each copy of an HA pair to a different
replica, one after the other (in stream order, as a load balancer in front of
one Alertmanager pair would see them) or with ``concurrency`` in flight. A
replica that does not answer is skipped for the next one, as a load balancer
would, and a 503 is retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
if not SHARED.exists():
    SHARED = Path(os.environ.get("INGESTD_SHARED", "/work/shared"))
SCENARIOS = SHARED / "scenarios"
PG_URL = os.environ.get("INGESTD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SERVE = Path(__file__).resolve().parent / "serve_replicated.py"


def load_score() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ingestd_score", SCENARIOS / "score.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a schema per run ---------------------------------------------------------------------


async def create_schema(base: str = PG_URL) -> str:
    """A fresh schema; returns a URL whose connections use it."""
    name = "t_" + uuid.uuid4().hex[:16]
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await conn.close()
    return f"{base}?search_path={name}"


async def drop_schema(url: str, base: str = PG_URL) -> None:
    name = url.rsplit("search_path=", 1)[1]
    for _ in range(50):  # PostgreSQL may be restarting under a harness
        try:
            conn = await asyncpg.connect(base)
            break
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.2)
    else:
        return
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def pg_fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def wait_processed(url: str, limit: float = 60.0) -> None:
    """Until the inbox holds no unprocessed work."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            rows = await pg_fetch(url, "SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL")
            if rows[0][0] == 0:
                return
        except (OSError, asyncpg.PostgresError):
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"the inbox was not drained within {limit}s")


# -- replicas -----------------------------------------------------------------------------


@dataclass
class Replica:
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class ReplicaSet:
    """``count`` replicas of ``ingestd serve --db URL`` on free ports."""

    db: str
    cmdb: Path
    workdir: Path
    count: int = 2
    rules: Path | None = None
    """Rules directory; by default an empty one (a scenario's CMDB is not the example's)."""
    extra: list[str] = field(default_factory=list)
    replicas: list[Replica] = field(default_factory=list)

    def start(self, wait: float = 30.0) -> None:
        for i in range(self.count):
            self.replicas.append(self.spawn(i))
        for r in self.replicas:
            self.wait_ready(r, wait)

    def spawn(self, i: int) -> Replica:
        r = Replica(free_port(), self.workdir / f"replica-{i}.log")
        rules = self.rules or self.workdir / "no-rules"
        rules.mkdir(exist_ok=True)
        args = [sys.executable, str(SERVE), "serve", "--listen", f"127.0.0.1:{r.port}",
                "--cmdb", str(self.cmdb), "--db", self.db, "--auth", "none",
                "--rules", str(rules), *self.extra]
        logf = r.log.open("ab")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        r.proc = subprocess.Popen(args, cwd=self.workdir, stdout=logf, stderr=logf, env=env)
        return r

    def add(self, wait: float = 30.0) -> Replica:
        r = self.spawn(len(self.replicas))
        self.replicas.append(r)
        self.wait_ready(r, wait)
        return r

    @staticmethod
    def wait_ready(r: Replica, wait: float) -> None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            assert r.proc is not None
            if r.proc.poll() is not None:
                raise RuntimeError(f"replica exited {r.proc.returncode}:\n{r.log.read_text()}")
            try:
                with urllib.request.urlopen(r.url + "/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"replica not ready after {wait}s:\n{r.log.read_text()}")

    @property
    def urls(self) -> list[str]:
        return [r.url for r in self.replicas]

    async def leader(self, wait: float = 15.0) -> Replica:
        """The replica holding the pipeline lease (per the store's leader row)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                rows = await pg_fetch(self.db, "SELECT holder FROM leader WHERE id = 1")
                holder = rows[0][0] if rows else ""
                pid = int(holder.rsplit(":", 1)[1]) if ":" in holder else -1
                for r in self.replicas:
                    if r.alive and r.proc is not None and r.proc.pid == pid:
                        return r
            except (OSError, asyncpg.PostgresError):
                pass
            await asyncio.sleep(0.1)
        raise AssertionError("no live replica leads the pipeline")

    def kill(self, r: Replica) -> None:
        if r.alive and r.proc is not None:
            r.proc.send_signal(signal.SIGKILL)
            r.proc.wait()

    def stop(self) -> None:
        for r in self.replicas:
            if r.alive and r.proc is not None:
                r.proc.terminate()
        for r in self.replicas:
            if r.proc is not None:
                try:
                    r.proc.wait(15)
                except subprocess.TimeoutExpired:
                    r.proc.kill()
                    r.proc.wait()


# -- posting a scenario -------------------------------------------------------------------


def pair_key(body: bytes) -> str:
    """What the two copies of an HA pair have in common."""
    d = json.loads(body)
    alerts = sorted((a.get("fingerprint", ""), a.get("status", ""), a.get("startsAt", ""),
                     a.get("endsAt", "")) for a in d.get("alerts", []))
    return hashlib.sha1(json.dumps([d.get("groupKey"), d.get("status"), alerts]).encode()
                        ).hexdigest()


def spread(stream: Sequence[bytes], n: int, seed: int) -> list[int]:
    """A replica index for each body: at random, never the replica of its pair's other copy."""
    rng = random.Random(seed)
    last: dict[str, int] = {}
    out = []
    for body in stream:
        key = pair_key(body)
        choices = [i for i in range(n) if i != last.get(key)] or list(range(n))
        pick = rng.choice(choices)
        last[key] = pick
        out.append(pick)
    return out


@dataclass
class PostStats:
    posted: int = 0
    ok: int = 0
    retries_503: int = 0
    failovers: int = 0
    non2xx: int = 0
    seconds: float = 0.0
    acked: list[int] = field(default_factory=list)
    """Indexes of the bodies answered 2xx."""


async def post_spread(stream: Sequence[bytes], urls: Sequence[str], seed: int = 1,
                      concurrency: int = 1, on_progress: Any = None) -> PostStats:
    """Post every body to its replica (retrying 503, failing over a dead replica)."""
    stats = PostStats()
    plan = spread(stream, len(urls), seed)
    headers = {"Content-Type": "application/json"}
    sem = asyncio.Semaphore(concurrency)
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as sess:

        async def post(i: int, body: bytes) -> None:
            target = plan[i]
            delay = 0.05
            for _attempt in range(200):
                url = urls[target] + "/api/v1/alerts/alertmanager"
                try:
                    async with sess.post(url, data=body, headers=headers) as r:
                        await r.read()
                        if r.status == 503:
                            stats.retries_503 += 1
                            await asyncio.sleep(min(delay, float(r.headers.get("Retry-After", 1))))
                            delay = min(delay * 2, 1.0)
                            continue
                        if 200 <= r.status < 300:
                            stats.ok += 1
                            stats.acked.append(i)
                        else:
                            stats.non2xx += 1
                        return
                except (aiohttp.ClientError, TimeoutError):
                    stats.failovers += 1
                    target = (target + 1) % len(urls)
                    await asyncio.sleep(0.02)
            stats.non2xx += 1

        async def one(i: int, body: bytes) -> None:
            async with sem:
                await post(i, body)
                stats.posted += 1
                if on_progress is not None:
                    await on_progress(stats.posted)

        if concurrency <= 1:
            for i, body in enumerate(stream):
                await one(i, body)
        else:
            await asyncio.gather(*(one(i, b) for i, b in enumerate(stream)))
    stats.seconds = time.monotonic() - started
    return stats


async def fetch_incidents(url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    async with aiohttp.ClientSession() as sess:
        while True:
            q = {"status": "any", "limit": "500", **({"cursor": cursor} if cursor else {})}
            async with sess.get(url + "/api/v1/incidents", params=q) as r:
                assert r.status == 200, await r.text()
                page = await r.json()
            out.extend(page["incidents"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out


def evaluate(scenario: Path, incidents: list[dict[str, Any]]) -> dict[str, Any]:
    score = load_score()
    truth = score.Truth(str(scenario / "truth.json"))
    result: dict[str, Any] = score.evaluate(truth, score.predict_from_incidents(truth, incidents))
    return result


def load_stream(scenario: Path) -> list[bytes]:
    return [ln for ln in (scenario / "stream.jsonl").read_bytes().split(b"\n") if ln.strip()]


def synthetic(n: int, alerts_per_body: int = 5) -> list[bytes]:
    """Bodies of new alerts, each its own fault: every alert a new episode and incident."""
    out = []
    for i in range(n):
        alerts = []
        for j in range(alerts_per_body):
            k = i * alerts_per_body + j
            alerts.append({
                "status": "firing",
                "labels": {"alertname": f"Synthetic{k % 50}", "instance": f"synthetic-{k}",
                           "job": "synthetic", "severity": "warning"},
                "annotations": {"summary": "load is high"},
                "startsAt": f"2026-01-05T{8 + (k // 3600) % 12:02d}:{(k // 60) % 60:02d}:"
                            f"{k % 60:02d}Z",
                "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph"})
        out.append(json.dumps({"version": "4", "status": "firing", "receiver": "ingestd",
                               "groupKey": f"{{}}:{{n=\"{i}\"}}", "alerts": alerts,
                               "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
                               "externalURL": "http://am", "truncatedAlerts": 0}).encode())
    return out


KEYS = ("alerts", "incidents", "f1", "rca", "lost", "dup")


def summary(result: dict[str, Any]) -> dict[str, Any]:
    return {k: round(result[k], 6) if isinstance(result[k], float) else result[k] for k in KEYS}
