"""Jira (Cloud and Server/Data Center) over REST API v2.

The incident id is a label (``label_prefix`` + id) on the issue, so JQL
``labels = "ingestd-INC-1"`` finds the ticket again. Comments, priority edits,
transitions (by transition name or target status name) and issue links use
the documented v2 endpoints. Cloud authenticates with e-mail + API token
(basic), Server/Data Center with a personal access token (bearer).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from ingestd.notify import http
from ingestd.notify.errors import DeliveryError
from ingestd.notify.model import Notification
from ingestd.notify.options import JiraOptions
from ingestd.notify.templates import TemplateSet
from ingestd.notify.tickets import Step, Ticket, TicketSender

SUMMARY_MAX = 255


def parse_jira_time(s: str) -> datetime:
    """Jira's ``2026-01-05T08:00:00.000+0000``."""
    return datetime.fromisoformat(re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", s.replace("Z", "+00:00")))


class JiraBackend:
    def __init__(self, opts: JiraOptions, session: aiohttp.ClientSession) -> None:
        self.opts = opts
        self.session = session
        self.api = opts.url.rstrip("/") + "/rest/api/2"
        self.tls = http.ssl_for(opts.tls)
        self.headers = {"Accept": "application/json"}
        if opts.bearer_token:
            self.headers["Authorization"] = f"Bearer {opts.bearer_token}"
        else:
            self.headers["Authorization"] = http.basic_auth(opts.username or "", opts.api_token or "")

    def label(self, incident_id: str) -> str:
        return self.opts.label_prefix + re.sub(r"\s+", "_", incident_id)

    async def _call(self, method: str, path: str, *, json: Any = None,
                    params: dict[str, str] | None = None) -> Any:
        _, text = await http.call(self.session, method, self.api + path, tls=self.tls, json=json,
                                  params=params, headers=self.headers)
        return http.parse_json(text, f"Jira {path}") if text.strip() else None

    async def find(self, incident_id: str) -> Ticket | None:
        jql = (f'project = "{self.opts.project}" AND labels = "{self.label(incident_id)}" '
               "ORDER BY created DESC")
        found = await self._call("GET", "/search", params={
            "jql": jql, "maxResults": "1", "fields": "status,resolution,resolutiondate"})
        issues = found.get("issues") or []
        return self._ticket(issues[0]) if issues else None

    def _ticket(self, issue: dict[str, Any]) -> Ticket:
        fields = issue.get("fields") or {}
        status = fields.get("status") or {}
        closed = (status.get("statusCategory") or {}).get("key") == "done"
        resolution = (fields.get("resolution") or {}).get("name")
        when = fields.get("resolutiondate")
        return Ticket(
            id=str(issue["key"]), status=str(status.get("name", "")), closed=closed,
            closed_at=parse_jira_time(when) if closed and when else None,
            wont_fix=closed and resolution in self.opts.wont_fix_resolutions,
        )

    def _priority(self, prio: str) -> dict[str, str]:
        name = self.opts.priorities.get(prio)
        if name is None:
            raise DeliveryError(f"no Jira priority mapped for {prio}", retryable=False)
        return {"name": name}

    async def create(self, n: Notification, subject: str, description: str,
                     follows: Ticket | None) -> Ticket:
        created = await self._call("POST", "/issue", json={"fields": {
            "project": {"key": self.opts.project},
            "issuetype": {"name": self.opts.issue_type},
            "summary": subject.replace("\n", " ")[:SUMMARY_MAX],
            "description": description,
            "labels": [self.label(n.incident.id)],
            "priority": self._priority(n.incident.priority),
        }})
        key = str(created["key"])
        if follows is not None:
            await self._call("POST", "/issueLink", json={
                "type": {"name": "Relates"},
                "inwardIssue": {"key": key}, "outwardIssue": {"key": follows.id}})
        return Ticket(id=key, status="", closed=False)

    async def has_note(self, ticket: Ticket, mark: str) -> bool:
        found = await self._call("GET", f"/issue/{ticket.id}/comment",
                                 params={"maxResults": "1000", "orderBy": "-created"})
        return any(mark in (c.get("body") or "") for c in found.get("comments") or [])

    async def update(self, ticket: Ticket, note: str, *, priority: str | None = None,
                     status: Step | None = None) -> None:
        if priority is not None:
            await self._call("PUT", f"/issue/{ticket.id}",
                             json={"fields": {"priority": self._priority(priority)}})
        if status is not None:
            await self._transition(ticket, self.opts.resolve_transition if status is Step.RESOLVE
                                   else self.opts.reopen_transition)
        await self._call("POST", f"/issue/{ticket.id}/comment", json={"body": note})

    async def _transition(self, ticket: Ticket, name: str) -> None:
        found = await self._call("GET", f"/issue/{ticket.id}/transitions")
        options = found.get("transitions") or []
        for t in options:
            if name.lower() in (str(t.get("name", "")).lower(),
                                str((t.get("to") or {}).get("name", "")).lower()):
                await self._call("POST", f"/issue/{ticket.id}/transitions",
                                 json={"transition": {"id": str(t["id"])}})
                return
        have = ", ".join(str(t.get("name")) for t in options) or "none"
        raise DeliveryError(f"Jira issue {ticket.id} has no transition {name!r} from status "
                            f"{ticket.status!r} (available: {have})", retryable=False)


def jira_sender(opts: JiraOptions, templates: TemplateSet,
                session: aiohttp.ClientSession) -> TicketSender:
    return TicketSender(JiraBackend(opts, session), templates,
                        timedelta(seconds=opts.reopen_window))
