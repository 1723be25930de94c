"""SLA timers and escalations fire once across a SIGKILL; pending notifications survive one."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from pathlib import Path

from tests.conftest import DaemonProcess
from tests.daemon.conftest import rules_dir
from tests.notify.recorder import HANG, Recorder

FAST_SLA = """
targets:
  P0: {acknowledge: 2s, resolve: 1h, escalation: fast}
  P1: {acknowledge: 2s, resolve: 1h, escalation: fast}
  P2: {acknowledge: 2s, resolve: 1h, escalation: fast}
  P3: {acknowledge: 2s, resolve: 1h, escalation: fast}
  P4: {acknowledge: 2s, resolve: 1h, escalation: fast}
escalation_policies:
  - name: fast
    levels:
      - {after: 4s, target: team_lead}
  - name: database
    levels:
      - {after: 4s, target: team_lead}
"""


def body(name: str, instance: str) -> bytes:
    return json.dumps({
        "receiver": "ingestd", "status": "firing", "version": "4", "groupKey": "{}:{}",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
        "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": name, "instance": instance,
                                                    "severity": "critical"},
                    "annotations": {}, "startsAt": "2026-01-05T08:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": ""}]}).encode()


def call(url: str, data: bytes | None = None) -> dict:  # type: ignore[type-arg]
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def incident_of(d: DaemonProcess, alertname: str) -> dict:  # type: ignore[type-arg]
    for inc in call(d.url + "/api/v1/incidents?status=any")["incidents"]:
        if any(a["alertname"] == alertname for a in inc["alerts"]):
            return inc
    raise AssertionError(f"no incident holds {alertname}")


def events(hooks: Recorder, incident_id: str) -> list[tuple[str, str]]:
    """What the receiver learnt: one event per idempotency key (a re-delivery is no news)."""
    seen: dict[str, tuple[str, str]] = {}
    for r in hooks.at("/slack-ops"):
        doc = r.json()
        if doc["incident"]["id"] == incident_id:
            key = r.headers["Idempotency-Key"]
            event = (doc["event"], doc["detail"].get("timer") or doc["detail"].get("level", ""))
            assert seen.get(key, event) == event, "one key, two different messages"
            seen[key] = event
    return list(seen.values())


async def test_escalation_fires_once_across_a_sigkill_and_stops_at_acknowledgement(
        tmp_path: Path, hooks: Recorder, daemon_factory: type[DaemonProcess]) -> None:
    rules = rules_dir(tmp_path, hooks, FAST_SLA)
    d = daemon_factory(extra=["--rules", str(rules)])
    await asyncio.to_thread(d.start)
    started = time.monotonic()
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager", body("Ignored", "a"))
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager", body("Answered", "b"))
    ignored = await asyncio.to_thread(incident_of, d, "Ignored")
    answered = await asyncio.to_thread(incident_of, d, "Answered")
    await asyncio.to_thread(call, f"{d.url}/api/v1/incidents/{answered['id']}/acknowledge", b"{}")
    await hooks.wait_for("/slack-ops", 3)  # two openings and one acknowledgement
    d.kill()  # before any timer is due: they live in the store, not in the process
    assert time.monotonic() - started < 2.0, "the machine was too slow for this test's timers"
    await asyncio.to_thread(d.start)
    await hooks.wait_for("/slack-ops", 5)  # the ack breach and the escalation of "Ignored"
    await asyncio.sleep(3)  # time for any duplicate to show
    assert sorted(events(hooks, ignored["id"])) == [
        ("escalated", "1"), ("escalated", "sla.acknowledge"), ("opened", "")]
    assert sorted(events(hooks, answered["id"])) == [("acknowledged", ""), ("opened", "")]
    timeline = (await asyncio.to_thread(call, f"{d.url}/api/v1/incidents/{ignored['id']}"))[
        "timeline"]
    assert [t["kind"] for t in timeline].count("sla_breached") == 1
    assert [t["kind"] for t in timeline].count("escalated") == 1
    metrics = await asyncio.to_thread(
        lambda: urllib.request.urlopen(d.url + "/metrics").read().decode())
    assert 'ingestd_timers_fired_total{kind="escalation"} 1.0' in metrics


async def test_notification_pending_at_a_sigkill_is_delivered_once_after_restart(
        tmp_path: Path, hooks: Recorder, daemon_factory: type[DaemonProcess]) -> None:
    hooks.on("/slack-ops", HANG)  # the first delivery never gets an answer
    rules = rules_dir(tmp_path, hooks)
    d = daemon_factory(extra=["--rules", str(rules)])
    await asyncio.to_thread(d.start)
    await asyncio.to_thread(call, d.url + "/api/v1/alerts/alertmanager", body("Pending", "c"))
    await hooks.wait_for("/slack-ops", 1)
    d.kill()  # with the delivery in flight
    await asyncio.to_thread(d.start)
    delivered = await hooks.wait_for("/slack-ops", 2)
    await asyncio.sleep(2)
    keys = [r.headers.get("Idempotency-Key") for r in hooks.at("/slack-ops")]
    assert len(keys) == 2 and keys[0] == keys[1], keys  # the same message, sent again once
    assert delivered[1].json()["event"] == "opened"
    rows = (await asyncio.to_thread(call, d.url + "/api/v1/outbox"))["items"]
    assert [r["state"] for r in rows] == ["delivered"]
