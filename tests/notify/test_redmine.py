"""Ticket sync against the real Redmine: opened, commented, closed; found again after a restart."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from ingestd.notify.metrics import NotifyMetrics
from ingestd.notify.model import Event, Notification
from ingestd.notify.receivers import build_receivers
from ingestd.notify.worker import OutboxWorker

from .conftest import RedmineServer
from .factory import note, receivers
from .memstore import MemoryOutbox

pytestmark = pytest.mark.e2e


def config(rm: RedmineServer) -> str:
    return f"""
receivers:
  - name: tickets
    type: redmine
    url: {rm.url}
    api_key: {{env: REDMINE_KEY}}
    project: ops
    incident_field: External ID
    reopen_window: 1h
    concurrency: 1
"""


def now() -> datetime:
    return datetime.now(UTC)


class Redmine:
    """What a person sees in Redmine, read over its REST API."""

    def __init__(self, rm: RedmineServer, session: aiohttp.ClientSession) -> None:
        self.rm = rm
        self.session = session

    async def get(self, path: str, **params: str) -> Any:
        async with self.session.get(self.rm.url + path, params=params,
                                    headers={"X-Redmine-API-Key": self.rm.api_key}) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def put(self, path: str, body: dict[str, Any]) -> None:
        async with self.session.put(self.rm.url + path, json=body,
                                    headers={"X-Redmine-API-Key": self.rm.api_key}) as r:
            assert r.status == 204, await r.text()

    async def tickets(self, incident: str) -> list[dict[str, Any]]:
        found = await self.get("/issues.json", project_id="ops", status_id="*", cf_1=incident,
                               sort="id:asc")
        return list(found["issues"])

    async def issue(self, issue_id: int) -> dict[str, Any]:
        return dict((await self.get(f"/issues/{issue_id}.json", include="journals,relations"))["issue"])

    async def notes(self, issue_id: int) -> list[str]:
        return [j["notes"] for j in (await self.issue(issue_id))["journals"] if j.get("notes")]


async def deliver(store: MemoryOutbox, session: aiohttp.ClientSession, rm: RedmineServer,
                  *notes: Notification) -> None:
    """One worker run, as a freshly started process would do it."""
    cfg = receivers(config(rm), env={"REDMINE_KEY": rm.api_key})
    w = OutboxWorker(store, build_receivers(cfg, session), now, NotifyMetrics(CollectorRegistry()),
                     rng=random.Random(1))
    ids = [store.add(n, created_at=now()) for n in notes]
    await w.tick()
    await w.drain()
    await w.close()
    for i in ids:
        assert store.state(i) == "delivered", store.rows[i].error


def ev(event: Event, incident: str, seq: int, **kw: Any) -> Notification:
    return note("tickets", event, incident=incident, seq=seq, at=now(), **kw)


async def test_ticket_follows_the_incident_and_is_found_again_after_a_restart(
        redmine: RedmineServer) -> None:
    store = MemoryOutbox()
    inc = "INC-RM-1"
    async with aiohttp.ClientSession() as s:
        rm = Redmine(redmine, s)
        await deliver(store, s, redmine, ev(Event.OPENED, inc, 1))
        (t,) = await rm.tickets(inc)
        assert t["subject"] == "[P1] disk full on db01 (sample notification from ingestd)"
        assert t["priority"]["name"] == "Urgent" and t["status"]["name"] == "New"
        assert "Root CI: db01 (inferred)" in t["description"]
        assert "Incident: http://ingestd.example/incidents/INC-SAMPLE" in t["description"]
        await deliver(store, s, redmine,
                      ev(Event.ACKNOWLEDGED, inc, 2, detail={"actor": "alice"}),
                      ev(Event.ESCALATED, inc, 3, priority="P0",
                         detail={"reason": "time to resolve breached"}))
        issue = await rm.issue(t["id"])
        assert issue["priority"]["name"] == "Immediate"
        notes = await rm.notes(t["id"])
        assert notes[0].startswith("Acknowledged by alice")
        assert "Reason: time to resolve breached" in notes[1]

    # A restart: new session, new sender and worker objects, nothing cached.
    resolved = ev(Event.RESOLVED, inc, 4, status="resolved")
    async with aiohttp.ClientSession() as s:
        rm = Redmine(redmine, s)
        await deliver(store, s, redmine, resolved)
        (t,) = await rm.tickets(inc)  # the same ticket, not a second one
        assert t["status"]["name"] == "Closed"
        journals = len((await rm.issue(t["id"]))["journals"])
        # The same deliveries again (a crash before they were marked delivered): no change.
        await deliver(store, s, redmine, resolved, ev(Event.ACKNOWLEDGED, inc, 2,
                                                      detail={"actor": "alice"}))
        assert len((await rm.issue(t["id"]))["journals"]) == journals
        assert len(await rm.tickets(inc)) == 1

        # Reopened within the window: the same ticket opens again.
        await deliver(store, s, redmine, ev(Event.REOPENED, inc, 5, status="open"))
        (t,) = await rm.tickets(inc)
        assert t["status"]["name"] == "New"
        assert (await rm.notes(t["id"]))[-1].startswith("Reopened")


async def test_a_ticket_closed_as_rejected_is_not_reopened(redmine: RedmineServer) -> None:
    store = MemoryOutbox()
    inc = "INC-RM-2"
    async with aiohttp.ClientSession() as s:
        rm = Redmine(redmine, s)
        await deliver(store, s, redmine, ev(Event.OPENED, inc, 1))
        (t,) = await rm.tickets(inc)
        await rm.put(f"/issues/{t['id']}.json", {"issue": {"status_id": 6, "notes": "won't fix"}})
        await deliver(store, s, redmine, ev(Event.REOPENED, inc, 2, status="open"))
        (t,) = await rm.tickets(inc)
        assert t["status"]["name"] == "Rejected"
        assert (await rm.notes(t["id"]))[-1].startswith("Reopened")


async def test_reopened_after_the_window_opens_a_new_ticket_linked_to_the_old(
        redmine: RedmineServer) -> None:
    store = MemoryOutbox()
    inc = "INC-RM-3"
    async with aiohttp.ClientSession() as s:
        rm = Redmine(redmine, s)
        await deliver(store, s, redmine, ev(Event.OPENED, inc, 1),
                      ev(Event.RESOLVED, inc, 2, status="resolved"))
        (old,) = await rm.tickets(inc)
        assert old["status"]["name"] == "Closed"
        late = dataclasses.replace(ev(Event.REOPENED, inc, 3, status="open"),
                                   at=now() + timedelta(hours=2))
        await deliver(store, s, redmine, late)
        old_again, new = await rm.tickets(inc)
        assert old_again["id"] == old["id"] and old_again["status"]["name"] == "Closed"
        assert new["status"]["name"] == "New"
        assert f"Follows ticket {old['id']} (closed)." in new["description"]
        relations = (await rm.issue(new["id"]))["relations"]
        # Redmine stores a "relates" pair in its own order.
        assert [({r["issue_id"], r["issue_to_id"]}, r["relation_type"]) for r in relations] == [
            ({new["id"], old["id"]}, "relates")]
