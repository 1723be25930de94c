"""PostgreSQL restarted under load: intake answers 503 meanwhile, recovers by itself, loses nothing.

Restarting the server disturbs every other user of it, so this runs only with
``-m slow`` (and as ``python bench/replicas.py pg-restart``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .harness import ROOT, ReplicaSet, pg_fetch, post_spread, synthetic, wait_processed

CLUSTERS = Path("/etc/postgresql")

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not CLUSTERS.is_dir(), reason="no local cluster to restart")]


def _cluster() -> str:
    return sorted(p.name for p in CLUSTERS.iterdir())[-1]


async def _pg_ctl(action: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        "pg_ctlcluster", "--skip-systemctl-redirect", _cluster(), "main", action,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    return await proc.wait()


async def test_intake_rides_out_a_database_restart(pg_url: str, tmp_path: Path) -> None:
    bodies = synthetic(600)
    rs = ReplicaSet(pg_url, ROOT / "cmdb.yaml", tmp_path, 2)
    rs.start()
    restarted = []

    async def restart_at_a_third(n: int) -> None:
        if n == len(bodies) // 3 and not restarted:
            restarted.append(await _pg_ctl("restart"))

    try:
        stats = await post_spread(bodies, rs.urls, seed=7, concurrency=8,
                                  on_progress=restart_at_a_third)
        await wait_processed(pg_url, 120)
        stored = await pg_fetch(pg_url, "SELECT COUNT(*) FROM alerts")
        alive = [r.alive for r in rs.replicas]
    finally:
        rs.stop()
        await _pg_ctl("start")  # whatever happened, leave the server running
    assert restarted == [0]
    assert stats.retries_503 > 0, "intake said 503 while the database was down"
    assert stats.ok == len(bodies) and stats.non2xx == 0
    assert stored[0][0] == len(bodies) * 5, "every acknowledged alert was kept"
    assert all(alive), "the replicas rode it out without restarting"
