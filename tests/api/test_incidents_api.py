"""The incident API on a running daemon: list, filters, pages, detail, actions, OpenAPI."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ingestd.api.views import with_alert_entries
from ingestd.store.records import EpisodeRecord, TimelineRecord
from tests.api.conftest import Running
from tests.conftest import FIXTURES


def body(alerts: list[dict], status: str = "firing") -> bytes:  # type: ignore[type-arg]
    return json.dumps({
        "receiver": "ingestd", "status": status, "alerts": alerts, "groupLabels": {},
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am", "version": "4",
        "groupKey": "{}:{}", "truncatedAlerts": 0}).encode()


def am_alert(name: str, instance: str, starts: str = "2026-01-05T08:00:00Z",
             status: str = "firing", ends: str = "0001-01-01T00:00:00Z",
             severity: str = "critical") -> dict:  # type: ignore[type-arg]
    return {"status": status, "labels": {"alertname": name, "instance": instance,
                                         "severity": severity},
            "annotations": {"summary": f"{name} on {instance}"}, "startsAt": starts,
            "endsAt": ends, "generatorURL": "http://prom/graph"}


async def test_posted_alert_becomes_an_incident_with_ci_team_and_timeline(running: Running) -> None:
    r = await running.post_body(body([am_alert("NodeDown", "node-3:9100")]))
    assert r.status == 200, await r.text()
    (inc,) = await running.incidents()
    assert inc["root_ci"] == "node-3" and inc["team"] == "infra" and inc["status"] == "open"
    assert inc["alerts"][0]["starts_at"] == "2026-01-05T08:00:00.000000Z"
    async with running.http.get(f"{running.url}/api/v1/incidents/{inc['id']}") as r:
        detail = await r.json()
    assert [t["kind"] for t in detail["timeline"]][:2] == ["opened", "alert"]
    (shown,) = [t for t in detail["timeline"] if t["kind"] == "alert"]
    assert shown["at"] == "2026-01-05T08:00:00.000000Z" and shown["actor"] == "ingestd"
    assert shown["detail"] == {"episode": shown["detail"]["episode"],
                               "fingerprint": inc["alerts"][0]["fingerprint"],
                               "alertname": "NodeDown", "ci": "node-3", "status": "firing"}
    assert "webshop" in detail["blast_radius"]


async def test_timeline_shows_every_alert_of_the_incident_in_time_order(
        running: Running) -> None:
    await running.post_body(body([am_alert("NodeDown", "node-3:9100")]))
    # a late alert that started before the incident opened; then both resolve
    await running.post_body(body([am_alert("NodeHighLoad", "node-3:9100",
                                           starts="2026-01-05T07:59:30Z")]))
    await running.post_body(body([
        am_alert("NodeDown", "node-3:9100", status="resolved", ends="2026-01-05T08:03:00Z"),
        am_alert("NodeHighLoad", "node-3:9100", starts="2026-01-05T07:59:30Z",
                 status="resolved", ends="2026-01-05T08:02:00Z")]))
    (inc,) = await running.incidents(status="open,acknowledged,resolved")
    async with running.http.get(f"{running.url}/api/v1/incidents/{inc['id']}") as r:
        detail = await r.json()
    alerts = [t for t in detail["timeline"] if t["kind"] == "alert"]
    assert [(t["at"], t["detail"]["alertname"], t["detail"]["status"]) for t in alerts] == [
        ("2026-01-05T07:59:30.000000Z", "NodeHighLoad", "firing"),
        ("2026-01-05T08:00:00.000000Z", "NodeDown", "firing")]
    kinds = [t["kind"] for t in detail["timeline"]]
    assert kinds[:3] == ["alert", "opened", "alert"] and kinds.count("alert") == 2
    assert "resolved" in kinds


async def test_filters_by_status_team_ci_and_priority(running: Running) -> None:
    await running.post_body(body([am_alert("NodeDown", "node-3:9100")]))
    await running.post_body(body([am_alert("RedisDown", "redis-cart:9121", severity="warning")]))
    assert {i["root_ci"] for i in await running.incidents(team="infra")} == {"node-3"}
    assert {i["root_ci"] for i in await running.incidents(ci="redis-cart")} == {"redis-cart"}
    assert await running.incidents(status="resolved") == []
    p1 = await running.incidents(priority="P1")
    assert [i["root_ci"] for i in p1] == ["node-3"]


async def test_cursor_pagination_walks_every_incident_once(running: Running) -> None:
    alerts = [am_alert(f"Unmapped{i}", f"host-{i}") for i in range(25)]
    await running.post_body(body(alerts))
    seen = []
    params = {"status": "any", "limit": "7"}
    pages = 0
    while True:
        async with running.http.get(running.url + "/api/v1/incidents", params=params) as r:
            doc = await r.json()
        pages += 1
        seen += [i["id"] for i in doc["incidents"]]
        if not doc["next_cursor"]:
            break
        params["cursor"] = doc["next_cursor"]
    assert len(seen) == 25 == len(set(seen))
    assert pages == 4


async def test_bad_query_parameters_are_400_with_the_parameter_named(running: Running) -> None:
    for params, path in [({"status": "sleeping"}, "status"), ({"limit": "0"}, "limit"),
                         ({"limit": "x"}, "limit"), ({"cursor": "%%%"}, "cursor"),
                         ({"priority": "P9"}, "priority"), ({"since": "yesterday"}, "since")]:
        async with running.http.get(running.url + "/api/v1/incidents", params=params) as r:
            assert r.status == 400, params
            assert (await r.json())["path"] == path


async def test_acknowledge_assign_note_resolve_reopen(running: Running) -> None:
    await running.post_body(body([am_alert("NodeDown", "node-3:9100")]))
    (inc,) = await running.incidents()
    base = f"{running.url}/api/v1/incidents/{inc['id']}"
    steps = [("acknowledge", {"actor": "alice"}, "acknowledged"),
             ("assign", {"assignee": "bob"}, "acknowledged"),
             ("notes", {"note": "switch port flapping"}, "acknowledged"),
             ("resolve", {"note": "replaced the cable"}, "resolved"),
             ("reopen", {}, "open")]
    for action, payload, status in steps:
        async with running.http.post(f"{base}/{action}", json=payload) as r:
            assert r.status == 200, (action, await r.text())
            assert (await r.json())["status"] == status
    async with running.http.post(f"{base}/reopen", json={}) as r:
        assert r.status == 409
    async with running.http.get(base) as r:
        detail = await r.json()
    kinds = [(t["kind"], t["actor"]) for t in detail["timeline"]]
    assert ("acknowledged", "alice") in kinds
    assert detail["assignee"] == "bob"
    notes = [t["detail"].get("note") for t in detail["timeline"]]
    assert "switch port flapping" in notes and "replaced the cable" in notes


async def test_unknown_incident_is_404(running: Running) -> None:
    async with running.http.get(running.url + "/api/v1/incidents/inc-none") as r:
        assert r.status == 404
    async with running.http.post(running.url + "/api/v1/incidents/inc-none/acknowledge") as r:
        assert r.status == 404


async def test_every_fixture_body_is_stored_and_resending_changes_no_count(
        running: Running) -> None:
    bodies = [p.read_bytes() for p in sorted(FIXTURES.glob("*.json"))]
    for b in bodies:
        r = await running.post_body(b)
        assert r.status == 200, await r.text()
    first = await running.daemon.store.counts()
    incidents = await running.incidents()
    for b in bodies:
        assert (await running.post_body(b)).status == 200
    assert await running.daemon.store.counts() == first
    assert len(await running.incidents()) == len(incidents)
    stored = {a["fingerprint"] for i in incidents for a in i["alerts"]}
    sent = {a["fingerprint"] for b in bodies for a in json.loads(b)["alerts"]}
    assert stored == sent


async def test_openapi_lists_every_api_route(running: Running) -> None:
    from ingestd.api.routes import ROUTE_ROLES

    async with running.http.get(running.url + "/api/v1/openapi.json") as r:
        doc = await r.json()
    for method, path in ROUTE_ROLES:
        if path.startswith("/api/"):
            assert method.lower() in doc["paths"][path], (method, path)


def test_alert_entries_join_the_stored_timeline_in_time_order() -> None:
    def at(minute: int) -> datetime:
        return datetime(2026, 1, 5, 8, minute, tzinfo=UTC)

    def episode(key: str, minute: int) -> EpisodeRecord:
        return EpisodeRecord(key, f"fp-{key}", "inc-1", at(minute), None, "node-3", "NodeDown",
                             "critical", {})

    stored = [TimelineRecord("inc-1", at(0), "opened", "ingestd", {}),
              TimelineRecord("inc-1", at(0), "alert", "ingestd", {"episode": "old-row"}),
              TimelineRecord("inc-1", at(9), "notified", "ingestd", {}),  # on the wall clock
              TimelineRecord("inc-1", at(5), "resolved", "ingestd", {}),  # written after it
              TimelineRecord("inc-1", at(6), "reopened", "ingestd", {}),
              TimelineRecord("inc-1", at(6), "notified", "ingestd", {})]
    shown = with_alert_entries(stored, [episode("b", 6), episode("a", 0), episode("c", 12)])
    assert [(t.kind, t.at.minute, t.detail.get("episode")) for t in shown] == [
        ("opened", 0, None), ("alert", 0, "a"), ("resolved", 5, None), ("alert", 6, "b"),
        ("reopened", 6, None), ("notified", 6, None), ("notified", 9, None), ("alert", 12, "c")]
