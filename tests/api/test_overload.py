"""A full intake queue answers 503 with Retry-After (Alertmanager retries), never a silent drop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiohttp

from tests.api.conftest import start_daemon
from tests.api.test_incidents_api import am_alert, body


async def test_full_queue_answers_503_and_every_200_is_stored(tmp_path: Path) -> None:
    daemon, runner, url = await start_daemon(tmp_path, queue_size=2)
    blocker = sqlite3.connect(tmp_path / "i.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database for a moment
        async with aiohttp.ClientSession() as http:
            async def post(i: int) -> tuple[int, str | None]:
                async with http.post(url + "/api/v1/alerts/alertmanager",
                                     data=body([am_alert(f"A{i}", f"host-{i}")])) as r:
                    return r.status, r.headers.get("Retry-After")

            first = asyncio.create_task(post(0))  # taken by the writer, which now waits
            await _until(lambda: daemon.runtime.in_flight == 1 and daemon.committer.depth == 0)
            second = asyncio.create_task(post(1))  # processed meanwhile, written after the first
            await _until(lambda: daemon.runtime.in_flight == 2 and daemon.committer.depth == 0)
            queued = [asyncio.create_task(post(i)) for i in (2, 3)]
            await _until(lambda: daemon.committer.depth == 2)
            refused = await post(4)
            blocker.execute("ROLLBACK")  # the other writer is done
            answers = [await first, await second] + [await t for t in queued]
        assert refused[0] == 503 and refused[1] is not None
        assert [status for status, _ in answers] == [200, 200, 200, 200]
        stored = {a["alertname"] for i in await _incidents(url) for a in i["alerts"]}
        assert stored == {"A0", "A1", "A2", "A3"}
    finally:
        blocker.close()
        await runner.cleanup()


async def _until(check, seconds: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "the daemon did not reach the expected state"
        await asyncio.sleep(0.01)


async def _incidents(url: str) -> list[dict]:  # type: ignore[type-arg]
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/api/v1/incidents?status=any&limit=100") as r:
            return (await r.json())["incidents"]  # type: ignore[no-any-return]
