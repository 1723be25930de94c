"""JSON sources through declared mappings: the shipped Grafana and Zabbix ones, and a custom one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestd.domain import AlertStatus
from ingestd.intake.errors import IntakeError
from ingestd.intake.mapped import MappingError, load_mappings, parse_mapping
from tests.api.conftest import Running, start_daemon

# A Grafana 10 unified-alerting webhook body, as the webhook contact point sends it.
GRAFANA = {
    "receiver": "ingestd", "status": "firing", "orgId": 1,
    "alerts": [{
        "status": "firing",
        "labels": {"alertname": "HighCPU", "grafana_folder": "infra", "instance": "node-3:9100",
                   "severity": "warning"},
        "annotations": {"summary": "CPU above 90% on node-3"},
        "startsAt": "2026-01-05T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://grafana:3000/alerting/grafana/abc/view",
        "fingerprint": "c6eadffa33fcdf37", "silenceURL": "http://grafana:3000/alerting/silence/new",
        "dashboardURL": "", "panelURL": "", "values": {"B": 93.1}, "valueString": "[ var='B' value=93.1 ]"}],
    "groupLabels": {"alertname": "HighCPU"}, "commonLabels": {"alertname": "HighCPU"},
    "commonAnnotations": {}, "externalURL": "http://grafana:3000/", "version": "1",
    "groupKey": "{}:{alertname=\"HighCPU\"}", "truncatedAlerts": 0,
    "title": "[FIRING:1] HighCPU", "state": "alerting", "message": "CPU above 90%",
}

ZABBIX_PROBLEM = {
    "event_id": "8812", "trigger_id": "17001", "host": "node-4", "host_ip": "10.0.2.4",
    "trigger": "Zabbix agent is not available", "severity": "High", "status": "PROBLEM",
    "event_time": "2026.01.05 08:00:00",
    "recovery_time": "{EVENT.RECOVERY.DATE} {EVENT.RECOVERY.TIME}",
    "opdata": "", "url": "http://zabbix/tr_events.php?triggerid=17001",
}
ZABBIX_RESOLVED = {**ZABBIX_PROBLEM, "status": "RESOLVED", "recovery_time": "2026.01.05 08:10:00"}


def test_grafana_body_maps_labels_status_and_times() -> None:
    (a,) = load_mappings(None)["grafana"].parse(json.dumps(GRAFANA).encode())
    assert a.labels["instance"] == "node-3:9100" and a.status is AlertStatus.FIRING
    assert a.annotations["summary"] == "CPU above 90% on node-3"
    assert a.starts_at.isoformat() == "2026-01-05T08:00:00+00:00" and a.source == "grafana"


def test_zabbix_problem_and_recovery_are_one_alert() -> None:
    z = load_mappings(None)["zabbix"]
    (p,) = z.parse(json.dumps(ZABBIX_PROBLEM).encode())
    (r,) = z.parse(json.dumps(ZABBIX_RESOLVED).encode())
    assert p.fingerprint == r.fingerprint
    assert p.status is AlertStatus.FIRING and r.status is AlertStatus.RESOLVED
    assert r.ends_at is not None and (r.ends_at - p.starts_at).total_seconds() == 600
    assert p.labels["instance"] == "node-4" and p.labels["alertname"].startswith("Zabbix agent")


def test_body_that_does_not_fit_the_mapping_names_the_path() -> None:
    z = load_mappings(None)["zabbix"]
    with pytest.raises(IntakeError) as e:
        z.parse(json.dumps({**ZABBIX_PROBLEM, "event_time": "yesterday"}).encode())
    assert e.value.path == "event_time" and e.value.error == "bad_time"
    with pytest.raises(IntakeError) as e:
        z.parse(json.dumps({**ZABBIX_PROBLEM, "status": "MAYBE"}).encode())
    assert e.value.path == "status"


def test_custom_mapping_with_unix_times_and_field_identity(tmp_path: Path) -> None:
    (tmp_path / "script.yaml").write_text(
        "name: backup-script\nalerts: events\nlabel_fields: {alertname: check, instance: target}\n"
        "static_labels: {severity: critical}\nstatus: state\nfiring_values: [bad]\n"
        "resolved_values: [good]\nstarts_at: since\ntime_format: unix\nidentity: [id]\n")
    m = load_mappings(tmp_path)["backup-script"]
    body = {"events": [{"id": 7, "check": "BackupFailed", "target": "postgres-main:9187",
                        "state": "bad", "since": 1767600000}]}
    (a,) = m.parse(json.dumps(body).encode())
    assert a.labels == {"severity": "critical", "alertname": "BackupFailed",
                        "instance": "postgres-main:9187"}
    assert a.starts_at.isoformat() == "2026-01-05T08:00:00+00:00"


@pytest.mark.parametrize("doc, why", [
    ({"name": "x"}, "'starts_at' is required"),
    ({"name": "x", "starts_at": "t", "labels": "l", "colour": "red"}, "unknown keys"),
    ({"name": "x", "starts_at": "t"}, "give 'labels'"),
    ({"name": "x", "starts_at": "t", "labels": "l", "timezone": "Mars/Olympus"}, "timezone"),
])
def test_bad_mapping_is_refused_with_the_reason(doc: dict, why: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(MappingError, match=why):
        parse_mapping(doc, "sources/x.yaml")


async def test_grafana_and_zabbix_bodies_become_incidents_through_the_api(tmp_path: Path) -> None:
    import aiohttp

    daemon, runner, url = await start_daemon(tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            run = Running(daemon, url, http)
            for source, body in [("grafana", GRAFANA), ("zabbix", ZABBIX_PROBLEM)]:
                async with http.post(f"{url}/api/v1/alerts/{source}", json=body) as r:
                    assert r.status == 200, await r.text()
            async with http.post(f"{url}/api/v1/alerts/nagios", json={}) as r:
                assert r.status == 404 and "grafana" in (await r.json())["detail"]
            roots = {i["root_ci"] for i in await run.incidents()}
            assert roots == {"node-3", "node-4"}
            async with http.post(f"{url}/api/v1/alerts/zabbix", json=ZABBIX_RESOLVED) as r:
                assert (await r.json())["resolved"] == 1
            node4 = [i for i in await run.incidents() if i["root_ci"] == "node-4"]
            assert node4[0]["status"] == "resolved"
    finally:
        await runner.cleanup()
