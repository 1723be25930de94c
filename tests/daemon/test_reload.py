"""Editing the rules or the CMDB of a running daemon: good edits apply, broken ones are refused."""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from pathlib import Path

from tests.conftest import ROOT, DaemonProcess
from tests.daemon.conftest import rules_dir
from tests.daemon.test_timers_and_delivery import body, call, incident_of
from tests.notify.recorder import Recorder


def reload_ok(d: DaemonProcess) -> str:
    text = call_text(d.url + "/metrics")
    line = next(ln for ln in text.splitlines()
                if ln.startswith("ingestd_config_last_reload_successful"))
    return line.rsplit(" ", 1)[1]


def call_text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()  # type: ignore[no-any-return]


def wait_for(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_broken_rule_edit_is_refused_and_routing_goes_on_unchanged(
        tmp_path: Path, hooks: Recorder, daemon_factory: type[DaemonProcess]) -> None:
    rules = rules_dir(tmp_path, hooks)
    cmdb = tmp_path / "cmdb.yaml"
    shutil.copy(ROOT / "cmdb.yaml", cmdb)
    d = daemon_factory(cmdb=cmdb, extra=["--rules", str(rules)])
    await asyncio.to_thread(d.start)
    routes = rules / "routes.yaml"
    good = routes.read_text()
    routes.write_text(good.replace("team: dba", "team: dbas"))  # a typo in a team name
    d.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
    await asyncio.to_thread(wait_for, lambda: reload_ok(d) == "0.0")
    log = d.log.read_text()
    assert f'{routes}:' in log and 'unknown team "dbas"' in log
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager",
                            body("PostgresDown", "postgres-main:9187"))
    inc = await asyncio.to_thread(incident_of, d, "PostgresDown")
    assert inc["team"] == "dba"  # the rules in force before the edit

    routes.write_text(good.replace("team: dba\n", "team: infra\n", 1))  # a good edit
    await asyncio.to_thread(wait_for, lambda: reload_ok(d) == "1.0")  # picked up by the watcher
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager",
                            body("RedisDown", "redis-cart:9121"))
    inc = await asyncio.to_thread(incident_of, d, "RedisDown")
    assert inc["team"] == "infra"


async def test_broken_cmdb_edit_is_refused_and_the_old_cmdb_keeps_mapping(
        tmp_path: Path, hooks: Recorder, daemon_factory: type[DaemonProcess]) -> None:
    rules = rules_dir(tmp_path, hooks)
    cmdb = tmp_path / "cmdb.yaml"
    shutil.copy(ROOT / "cmdb.yaml", cmdb)
    d = daemon_factory(cmdb=cmdb, extra=["--rules", str(rules)])
    await asyncio.to_thread(d.start)
    cmdb.write_text(cmdb.read_text().replace("depends_on: [tor-b]", "depends_on: [tor-z]", 1))
    d.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
    await asyncio.to_thread(wait_for, lambda: reload_ok(d) == "0.0")
    assert "tor-z" in d.log.read_text()
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager",
                            body("NodeDown", "node-3:9100"))
    inc = await asyncio.to_thread(incident_of, d, "NodeDown")
    assert inc["root_ci"] == "node-3" and inc["team"] == "infra"
