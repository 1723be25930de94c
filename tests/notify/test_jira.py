"""Jira REST v2 sync against a small recording Jira on 127.0.0.1 (not the real Jira).

The fake implements only what the documented endpoints return that the
connector reads: search by JQL label, create, comment, edit priority,
transitions, issue links.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ingestd.notify.model import Event
from ingestd.notify.receivers import build_receivers

from .factory import note, receivers

AUTH = "Basic " + base64.b64encode(b"bot@example.com:jira-token").decode()
TRANSITIONS = {"Open": [("11", "Done", "Done", "done")],
               "Done": [("21", "Reopen", "Open", "new")]}


class FakeJira:
    def __init__(self) -> None:
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[str]] = {}
        self.links: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        app = web.Application(middlewares=[self.auth])
        r = app.router
        r.add_get("/rest/api/2/search", self.search)
        r.add_post("/rest/api/2/issue", self.create)
        r.add_put("/rest/api/2/issue/{key}", self.edit)
        r.add_get("/rest/api/2/issue/{key}/comment", self.list_comments)
        r.add_post("/rest/api/2/issue/{key}/comment", self.add_comment)
        r.add_get("/rest/api/2/issue/{key}/transitions", self.transitions)
        r.add_post("/rest/api/2/issue/{key}/transitions", self.transition)
        r.add_post("/rest/api/2/issueLink", self.link)
        self.app = app

    @web.middleware
    async def auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        if request.headers.get("Authorization") != AUTH:
            return web.json_response({"errorMessages": ["unauthorised"]}, status=401)
        return await handler(request)  # type: ignore[no-any-return]

    def close_issue(self, key: str, resolution: str, when: datetime) -> None:
        f = self.issues[key]["fields"]
        f["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
        f["resolution"] = {"name": resolution}
        f["resolutiondate"] = when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    async def search(self, request: web.Request) -> web.Response:
        m = re.search(r'labels = "([^"]+)"', request.query["jql"])
        assert m and 'project = "OPS"' in request.query["jql"]
        found = [i for i in self.issues.values() if m.group(1) in i["fields"]["labels"]]
        found.sort(key=lambda i: int(i["id"]), reverse=True)
        return web.json_response({"issues": found[: int(request.query["maxResults"])],
                                  "total": len(found)})

    async def create(self, request: web.Request) -> web.Response:
        fields = (await request.json())["fields"]
        n = len(self.issues) + 1
        key = f"OPS-{n}"
        self.issues[key] = {"id": str(n), "key": key, "fields": {
            **fields, "status": {"name": "Open", "statusCategory": {"key": "new"}},
            "resolution": None, "resolutiondate": None}}
        self.comments[key] = []
        return web.json_response({"id": str(n), "key": key, "self": f"/rest/api/2/issue/{n}"},
                                 status=201)

    async def edit(self, request: web.Request) -> web.Response:
        self.issues[request.match_info["key"]]["fields"].update((await request.json())["fields"])
        return web.Response(status=204)

    async def list_comments(self, request: web.Request) -> web.Response:
        return web.json_response({"comments": [{"body": b}
                                               for b in self.comments[request.match_info["key"]]]})

    async def add_comment(self, request: web.Request) -> web.Response:
        self.comments[request.match_info["key"]].append((await request.json())["body"])
        return web.json_response({"id": "1"}, status=201)

    async def transitions(self, request: web.Request) -> web.Response:
        status = self.issues[request.match_info["key"]]["fields"]["status"]["name"]
        return web.json_response({"transitions": [
            {"id": i, "name": n, "to": {"name": to, "statusCategory": {"key": cat}}}
            for i, n, to, cat in TRANSITIONS[status]]})

    async def transition(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        tid = (await request.json())["transition"]["id"]
        f = self.issues[key]["fields"]
        (t,) = [t for t in TRANSITIONS[f["status"]["name"]] if t[0] == tid]
        if t[3] == "done":
            self.close_issue(key, "Done", datetime.now(UTC))
        else:
            f["status"] = {"name": t[2], "statusCategory": {"key": t[3]}}
            f["resolution"] = f["resolutiondate"] = None
        return web.Response(status=204)

    async def link(self, request: web.Request) -> web.Response:
        self.links.append(await request.json())
        return web.Response(status=201)


@pytest.fixture
async def jira() -> AsyncIterator[tuple[FakeJira, str]]:
    fake = FakeJira()
    runner = web.AppRunner(fake.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def sender(url: str, session: aiohttp.ClientSession) -> Any:
    cfg = receivers(f"""
receivers:
  - name: jira
    type: jira
    url: {url}
    username: bot@example.com
    api_token: jira-token
    project: OPS
    reopen_window: 1h
""")
    return build_receivers(cfg, session)["jira"].sender


def now() -> datetime:
    return datetime.now(UTC)


async def test_jira_issue_follows_the_incident_and_is_found_again(
        jira: tuple[FakeJira, str]) -> None:
    fake, url = jira
    inc = "INC-J1"
    async with aiohttp.ClientSession() as s:
        j = sender(url, s)
        await j.send(note("jira", Event.OPENED, incident=inc, at=now()))
        await j.send(note("jira", Event.REPRIORITISED, incident=inc, seq=2, priority="P0",
                          at=now(), detail={"previous_priority": "P1"}))
    assert list(fake.issues) == ["OPS-1"]
    f = fake.issues["OPS-1"]["fields"]
    assert f["labels"] == ["ingestd-INC-J1"] and f["issuetype"] == {"name": "Task"}
    assert f["summary"].startswith("[P1] disk full on db01")
    assert f["priority"] == {"name": "Highest"}  # re-prioritised
    assert "Priority was P1." in fake.comments["OPS-1"][0]
    async with aiohttp.ClientSession() as s:  # a restart: new objects
        j = sender(url, s)
        resolved = note("jira", Event.RESOLVED, incident=inc, seq=3, at=now())
        await j.send(resolved)
        await j.send(resolved)  # delivered twice after a crash: one transition, one comment
    assert list(fake.issues) == ["OPS-1"]
    assert fake.issues["OPS-1"]["fields"]["status"]["name"] == "Done"
    assert len(fake.comments["OPS-1"]) == 2
    assert fake.calls.count(("POST", "/rest/api/2/issue/OPS-1/transitions")) == 1


async def test_jira_reopen_window_and_wont_fix(jira: tuple[FakeJira, str]) -> None:
    fake, url = jira
    async with aiohttp.ClientSession() as s:
        j = sender(url, s)
        for inc in ("INC-W", "INC-O", "INC-R"):
            await j.send(note("jira", Event.OPENED, incident=inc, at=now()))
        closed_at = now() - timedelta(hours=3)
        fake.close_issue("OPS-1", "Won't Fix", closed_at)
        fake.close_issue("OPS-2", "Done", closed_at)
        fake.close_issue("OPS-3", "Done", now() - timedelta(minutes=5))
        for inc in ("INC-W", "INC-O", "INC-R"):
            await j.send(dataclasses.replace(note("jira", Event.REOPENED, incident=inc, seq=2),
                                             at=now()))
    # Won't fix: commented, not reopened, no new issue.
    assert fake.issues["OPS-1"]["fields"]["status"]["name"] == "Done"
    assert fake.comments["OPS-1"][-1].startswith("Reopened")
    # Closed 3 h ago, window 1 h: a new issue linked to the old one.
    assert fake.issues["OPS-2"]["fields"]["status"]["name"] == "Done"
    assert fake.issues["OPS-4"]["fields"]["labels"] == ["ingestd-INC-O"]
    assert fake.issues["OPS-4"]["fields"]["description"].startswith("Follows ticket OPS-2 (closed).")
    assert fake.links == [{"type": {"name": "Relates"}, "inwardIssue": {"key": "OPS-4"},
                           "outwardIssue": {"key": "OPS-2"}}]
    # Closed 5 min ago: the same issue is reopened.
    assert fake.issues["OPS-3"]["fields"]["status"]["name"] == "Open"
    assert len(fake.issues) == 4
