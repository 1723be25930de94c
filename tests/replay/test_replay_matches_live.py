"""``ingestd replay`` gives exactly the incidents the live daemon gives for the same stream."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import ROOT, SCENARIOS, DaemonProcess

SCENARIO = SCENARIOS / "s0004-sockshop"


def shape(incidents: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(i["root_ci"], i["root_inferred"], i["team"], i["priority"], i["status"],
             tuple(sorted((a["fingerprint"], a["starts_at"], a["ends_at"]) for a in i["alerts"])))
            for i in incidents}


async def live(d: DaemonProcess, lines: list[str]) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        for line in lines:
            async with http.post(d.url + "/api/v1/alerts/alertmanager", data=line.encode(),
                                 headers={"Content-Type": "application/json"}) as r:
                assert r.status == 200, await r.text()
        out: list[dict[str, Any]] = []
        params = {"status": "any", "limit": "500"}
        while True:
            async with http.get(d.url + "/api/v1/incidents", params=params) as r:
                doc = await r.json()
            out += doc["incidents"]
            if not doc["next_cursor"]:
                return out
            params["cursor"] = doc["next_cursor"]


async def test_replay_of_a_scenario_equals_the_live_daemon(
        daemon_factory: type[DaemonProcess]) -> None:
    lines = [ln for ln in (SCENARIO / "stream.jsonl").read_text().splitlines() if ln.strip()]
    d = daemon_factory(cmdb=SCENARIO / "cmdb.yaml")
    await asyncio.to_thread(d.start)
    from_daemon = await live(d, lines)
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "ingestd", "replay", str(SCENARIO / "stream.jsonl"),
                         "--cmdb", str(SCENARIO / "cmdb.yaml"), "--rules", str(ROOT / "rules"),
                         "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from_replay = json.loads(done.stdout)["incidents"]
    assert len(from_replay) == len(from_daemon) > 10
    assert shape(from_replay) == shape(from_daemon)


def test_replay_diff_shows_what_a_cmdb_change_would_do(tmp_path: Path) -> None:
    changed = tmp_path / "cmdb.yaml"
    text = (SCENARIO / "cmdb.yaml").read_text()
    changed.write_text(text.replace('team: "', 'team: "x-'))  # every CI changes owner
    done = subprocess.run(
        [sys.executable, "-m", "ingestd", "replay", str(SCENARIO / "stream.jsonl"),
         "--cmdb", str(SCENARIO / "cmdb.yaml"), "--rules", str(ROOT / "rules"),
         "--diff-cmdb", str(changed)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, _, after = done.stdout.partition("with the change:")
    assert "team=x-" not in before
    assert "- before:" in after and "+ after:" in after and "team=x-" in after


async def test_export_of_a_live_store_replays_to_the_same_incidents(
        tmp_path: Path, daemon_factory: type[DaemonProcess]) -> None:
    lines = [ln for ln in (SCENARIO / "stream.jsonl").read_text().splitlines() if ln.strip()]
    d = daemon_factory(cmdb=SCENARIO / "cmdb.yaml")
    await asyncio.to_thread(d.start)
    from_daemon = await live(d, lines)
    d.stop()
    stream = tmp_path / "export.jsonl"
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "ingestd", "export", "--db", d.db, "-o",
                         str(stream)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "ingestd", "replay", str(stream), "--cmdb",
                         str(SCENARIO / "cmdb.yaml"), "--rules", str(ROOT / "rules"), "--json"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    replayed = json.loads(done.stdout)["incidents"]

    def episodes(incs: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
        return {(a["fingerprint"], a["starts_at"], a["ends_at"]) for i in incs for a in i["alerts"]}

    assert episodes(replayed) == episodes(from_daemon)
    assert {i["root_ci"] for i in replayed} == {i["root_ci"] for i in from_daemon}
