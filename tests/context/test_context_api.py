"""Changes as suspects, similar resolved incidents, recurring faults as problems, manual incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.conftest import Running
from tests.api.test_incidents_api import am_alert, body

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


async def change(run: Running, ci: str, at: datetime, summary: str = "deploy") -> None:
    async with run.http.post(run.url + "/api/v1/changes", json={
            "ci": ci, "summary": summary, "author": "ci-bot", "started_at": z(at)}) as r:
        assert r.status == 201, await r.text()


async def detail(run: Running, incident_id: str) -> dict:  # type: ignore[type-arg]
    async with run.http.get(f"{run.url}/api/v1/incidents/{incident_id}") as r:
        return await r.json()  # type: ignore[no-any-return]


async def test_change_on_a_dependency_inside_the_window_is_a_suspect(running: Running) -> None:
    await change(running, "postgres-main", T0 - timedelta(minutes=30), "postgres 15.4 -> 15.5")
    await change(running, "redis-cart", T0 - timedelta(minutes=10), "unrelated: redis config")
    await change(running, "checkout", T0 - timedelta(hours=5), "too old to matter")
    await change(running, "checkout", T0 + timedelta(minutes=20), "after the start")
    await running.post_body(body([am_alert("CheckoutErrors", "x", z(T0))]).replace(
        b'"instance": "x"', b'"namespace": "shop", "deployment": "checkout"'))
    (inc,) = await running.incidents()
    assert inc["root_ci"] == "checkout"
    assert [s["summary"] for s in inc["suspects"]] == ["postgres 15.4 -> 15.5"]
    assert inc["suspects"][0]["on"] == "dependency"
    kinds = [t["kind"] for t in (await detail(running, inc["id"]))["timeline"]]
    assert "suspect_changes" in kinds


async def test_change_on_unknown_ci_or_missing_summary_is_refused(running: Running) -> None:
    for payload, path in [({"ci": "nope", "summary": "x"}, "ci"), ({"ci": "cart"}, "summary"),
                          ({"ci": "cart", "summary": "x", "when": "now"}, "when")]:
        async with running.http.post(running.url + "/api/v1/changes", json=payload) as r:
            assert r.status == 400 and (await r.json())["path"] == path


async def test_third_recurrence_within_the_period_opens_a_problem(running: Running) -> None:
    ids = []
    for n in range(4):
        start = T0 + timedelta(hours=2 * n)
        end = start + timedelta(minutes=10)
        await running.post_body(body([am_alert("RedisDown", "redis-cart:9121", z(start))]))
        await running.post_body(body([am_alert("RedisDown", "redis-cart:9121", z(start),
                                               "resolved", z(end))], "resolved"))
        incs = sorted(await running.incidents(), key=lambda i: i["opened_at"])
        ids.append(incs[-1]["id"])
        problems = (await (await running.http.get(running.url + "/api/v1/problems")).json())[
            "problems"]
        if n < 2:
            assert problems == [], f"a problem after only {n + 1} incidents"
    (problem,) = problems
    assert problem["root_ci"] == "redis-cart" and problem["incidents"] == ids
    async with running.http.post(f"{running.url}/api/v1/problems/{problem['id']}/notes",
                                 json={"note": "memory limit too low"}) as r:
        assert r.status == 200
    async with running.http.post(f"{running.url}/api/v1/problems/{problem['id']}/close",
                                 json={"note": "limit raised"}) as r:
        assert (await r.json())["status"] == "closed"


async def test_similar_resolved_incident_shows_its_resolution(running: Running) -> None:
    await running.post_body(body([am_alert("RedisDown", "redis-cart:9121", z(T0))]))
    (first,) = await running.incidents()
    async with running.http.post(f"{running.url}/api/v1/incidents/{first['id']}/resolve",
                                 json={"note": "restarted redis with more memory"}) as r:
        assert r.status == 200
    await running.post_body(body([am_alert("RedisDown", "redis-cart:9121", z(T0), "resolved",
                                           z(T0 + timedelta(minutes=10)))], "resolved"))
    await running.post_body(body([am_alert("NodeDown", "node-3:9100", z(T0))]))
    later = T0 + timedelta(days=1)
    await running.post_body(body([am_alert("RedisDown", "redis-cart:9121", z(later))]))
    (second,) = await running.incidents(status="open", ci="redis-cart")
    similar = (await detail(running, second["id"]))["similar"]
    assert similar[0]["id"] == first["id"]
    assert similar[0]["resolution"] == "restarted redis with more memory"
    assert all(s["root_ci"] != "node-3" for s in similar)


async def test_a_person_opens_an_incident_by_hand(running: Running) -> None:
    async with running.http.post(running.url + "/api/v1/incidents", json={
            "title": "Customers report failed payments", "ci": "payment",
            "severity": "critical", "summary": "from the service desk"}) as r:
        assert r.status == 201, await r.text()
        inc = await r.json()
    assert inc["root_ci"] == "payment" and inc["team"] == "shop" and inc["status"] == "open"
    async with running.http.post(running.url + "/api/v1/incidents",
                                 json={"ci": "payment"}) as r:
        assert r.status == 400 and (await r.json())["path"] == "title"
