"""Concurrent intake clients and the checks that follow a crash.

Shared by the reliability tests and the longer harnesses in ``bench/``. A client
behaves as Alertmanager does: a body answered 503 or lost with the connection is
sent again until it is stored or the client's time is up.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from ingestd.intake.fingerprint import fingerprint

INTAKE = "/api/v1/alerts/alertmanager"
EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def body(run: str, seq: int, alerts: int = 3, annotation_bytes: int = 0) -> tuple[bytes, list[str]]:
    """One Alertmanager body of ``alerts`` distinct firing alerts; their fingerprints."""
    items = []
    fps = []
    for k in range(alerts):
        labels = {"alertname": "LoadTest", "run": run, "seq": str(seq), "k": str(k),
                  "instance": f"node-{(seq + k) % 4 + 1}:9100", "severity": "warning"}
        fp = fingerprint(labels)
        fps.append(fp)
        items.append({
            "status": "firing", "labels": labels,
            "annotations": {"summary": "x" * annotation_bytes} if annotation_bytes else {},
            "startsAt": rfc3339(EPOCH + timedelta(seconds=seq)),
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": fp})
    doc = {"version": "4", "receiver": "ingestd", "status": "firing", "alerts": items,
           "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
           "externalURL": "http://127.0.0.1:9093", "groupKey": f"{{}}:{{seq={seq}}}",
           "truncatedAlerts": 0}
    return json.dumps(doc).encode(), fps


@dataclass
class Tally:
    """What the clients saw: statuses by code, and every fingerprint answered 2xx."""

    statuses: Counter[str] = field(default_factory=Counter)
    acked: set[str] = field(default_factory=set)
    acked_bodies: int = 0
    unacked_bodies: int = 0


async def send_until_stored(session: aiohttp.ClientSession, url: str, raw: bytes,
                            tally: Tally, deadline: float, headers: dict[str, str] | None = None,
                            ) -> bool:
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        try:
            async with session.post(url + INTAKE, data=raw, headers=headers) as r:
                await r.read()
                tally.statuses[str(r.status)] += 1
                if 200 <= r.status < 300:
                    return True
                if r.status != 503:
                    raise AssertionError(f"intake answered {r.status} to a valid body")
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            tally.statuses["connection error"] += 1
        await asyncio.sleep(0.05)
    return False


async def drive(url: str | Any, bodies: list[tuple[bytes, list[str]]], clients: int,
                tally: Tally, time_limit: float = 120.0,
                headers: dict[str, str] | None = None) -> None:
    """``clients`` concurrent senders share ``bodies``; each body is sent until stored.

    ``url`` is a string or a callable giving the daemon's current URL (it changes
    when a harness restarts the daemon on another port)."""
    queue: asyncio.Queue[tuple[bytes, list[str]]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    deadline = asyncio.get_running_loop().time() + time_limit
    timeout = aiohttp.ClientTimeout(total=30)

    async def client() -> None:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                try:
                    raw, fps = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                target = url() if callable(url) else url
                if await send_until_stored(session, target, raw, tally, deadline, headers):
                    tally.acked.update(fps)
                    tally.acked_bodies += 1
                else:
                    tally.unacked_bodies += 1

    await asyncio.gather(*(client() for _ in range(clients)))


def all_incidents(url: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every incident, every page of ``GET /api/v1/incidents?status=any``."""
    out: list[dict[str, Any]] = []
    cursor = ""
    while True:
        q = f"{url}/api/v1/incidents?status=any&limit=1000" + (f"&cursor={cursor}" if cursor else "")
        req = urllib.request.Request(q, headers=headers or {})
        with urllib.request.urlopen(req, timeout=30) as r:
            page = json.loads(r.read())
        out.extend(page["incidents"])
        cursor = page["next_cursor"]
        if not cursor:
            return out


@dataclass
class Check:
    acked: int
    found_once: int
    missing: list[str]
    duplicated: list[str]
    incidents: int
    episodes: int

    @property
    def ok(self) -> bool:
        return not self.missing and not self.duplicated and self.found_once == self.acked


def check_acked(url: str, acked: set[str], headers: dict[str, str] | None = None) -> Check:
    """Every acknowledged fingerprint appears as exactly one episode of exactly one incident."""
    incidents = all_incidents(url, headers)
    seen: Counter[str] = Counter()
    ids: Counter[str] = Counter(i["id"] for i in incidents)
    assert all(n == 1 for n in ids.values()), "an incident listed twice"
    for inc in incidents:
        for a in inc["alerts"]:
            seen[a["fingerprint"]] += 1
    missing = sorted(fp for fp in acked if seen[fp] == 0)
    duplicated = sorted(fp for fp in acked if seen[fp] > 1)
    return Check(acked=len(acked), found_once=sum(1 for fp in acked if seen[fp] == 1),
                 missing=missing, duplicated=duplicated, incidents=len(incidents),
                 episodes=sum(seen.values()))


def db_fingerprints(db: Path) -> Counter[str]:
    """Episodes per fingerprint, read from the SQLite file itself (daemon stopped)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT e.fingerprint FROM episodes e JOIN incidents i ON i.id = e.incident_id"
        ).fetchall()
    return Counter(r[0] for r in rows)


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def metric(url: str, name: str) -> dict[str, float]:
    """Samples of one metric family from ``/metrics``: {sample name with labels: value}."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith(name):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


async def crash_cycles(daemon: Any, bodies: list[tuple[bytes, list[str]]], clients: int,
                       kills: int, rng: Any, tally: Tally, time_limit: float = 120.0) -> int:
    """Drive ``bodies`` while SIGKILLing ``daemon`` at random moments ``kills`` times,
    restarting it on the same store each time; returns the kills done under load.

    The moments are random points of the load's progress (the k-th kill once a random
    share of the bodies within the k-th of ``kills`` equal stretches of 10-90% is stored),
    so a faster daemon is killed as often as a slower one."""
    sender = asyncio.create_task(drive(daemon.url, bodies, clients, tally, time_limit))
    done = 0
    stretch = 0.8 / kills
    for k in range(kills):
        target = len(bodies) * (0.1 + stretch * (k + rng.uniform(0.0, 1.0)))
        while tally.acked_bodies < target and not sender.done():
            await asyncio.wait({sender}, timeout=0.002)
        if sender.done():
            break
        daemon.kill()
        done += 1
        await asyncio.sleep(rng.uniform(0.0, 0.2))  # clients meet a closed port meanwhile
        await asyncio.to_thread(daemon.start)
    await sender
    return done
