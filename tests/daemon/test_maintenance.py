"""Maintenance windows set through the API hold alerts on their CIs and on dependents."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import DaemonProcess
from tests.daemon.conftest import rules_dir
from tests.daemon.test_timers_and_delivery import body, call, incident_of
from tests.notify.recorder import Recorder


def window(d: DaemonProcess, name: str, cis: list[str], seconds: float) -> None:
    end = datetime.now(UTC) + timedelta(seconds=seconds)
    call(d.url + "/api/v1/maintenance", json.dumps(
        {"name": name, "cis": cis, "end": end.isoformat(), "reason": "switch firmware"}).encode())


async def test_window_holds_dependents_alerts_and_routes_them_when_it_ends(
        tmp_path: Path, hooks: Recorder, daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory(extra=["--rules", str(rules_dir(tmp_path, hooks))])
    await asyncio.to_thread(d.start)
    await asyncio.to_thread(window, d, "tor-b-firmware", ["tor-b"], 3.0)
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager",
                            body("NodeDown", "node-3:9100"))  # node-3 hangs on tor-b
    inc = await asyncio.to_thread(incident_of, d, "NodeDown")
    detail = await asyncio.to_thread(call, f"{d.url}/api/v1/incidents/{inc['id']}")
    held = [t for t in detail["timeline"] if t["kind"] == "held"]
    assert held and "tor-b-firmware" in held[0]["detail"]["reason"]
    assert hooks.requests == []  # kept and marked, nobody told
    told = await hooks.wait_for("/slack-ops", 1)  # the window ends: routed at once
    assert told[0].json()["event"] == "opened"
    detail = await asyncio.to_thread(call, f"{d.url}/api/v1/incidents/{inc['id']}")
    assert "released" in [t["kind"] for t in detail["timeline"]]


async def test_resolve_during_a_window_is_not_eaten(
        tmp_path: Path, hooks: Recorder, daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory(extra=["--rules", str(rules_dir(tmp_path, hooks))])
    await asyncio.to_thread(d.start)
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager",
                            body("NodeDown", "node-4:9100"))
    await hooks.wait_for("/slack-ops", 1)  # told before the window starts
    await asyncio.to_thread(window, d, "node-4-reboot", ["node-4"], 60.0)
    resolved = body("NodeDown", "node-4:9100").replace(
        b'"status": "firing", "labels"', b'"status": "resolved", "labels"').replace(
        b'"0001-01-01T00:00:00Z"', b'"2026-01-05T08:05:00Z"')
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager", resolved)
    inc = await asyncio.to_thread(incident_of, d, "NodeDown")
    assert inc["status"] == "resolved"
    told = await hooks.wait_for("/slack-ops", 2)
    assert [r.json()["event"] for r in told] == ["opened", "resolved"]


async def test_window_on_an_unknown_ci_is_refused(
        tmp_path: Path, hooks: Recorder, daemon_factory: type[DaemonProcess]) -> None:
    import urllib.error

    d = daemon_factory(extra=["--rules", str(rules_dir(tmp_path, hooks))])
    await asyncio.to_thread(d.start)
    try:
        await asyncio.to_thread(window, d, "x", ["tor-q"], 60.0)
    except urllib.error.HTTPError as e:
        assert e.code == 400 and json.loads(e.read())["path"] == "cis"
    else:
        raise AssertionError("a window on an unknown CI was accepted")
