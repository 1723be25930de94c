"""Redmine over its REST API (tested against Redmine 5.0).

The incident id is stored in an issue custom field (``incident_field``, by
name or numeric id; it must be a string field with "used as a filter" on, so
``cf_<id>=INC`` finds it). Searching uses ``status_id=*`` so closed tickets are
found too. Statuses, priorities, trackers and the field id are looked up by
name once and cached.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp

from ingestd.notify import http
from ingestd.notify.errors import DeliveryError
from ingestd.notify.model import Notification
from ingestd.notify.options import RedmineOptions
from ingestd.notify.templates import TemplateSet
from ingestd.notify.tickets import Step, Ticket, TicketSender

SUBJECT_MAX = 255


class RedmineBackend:
    def __init__(self, opts: RedmineOptions, session: aiohttp.ClientSession) -> None:
        self.opts = opts
        self.session = session
        self.base = opts.url.rstrip("/")
        self.tls = http.ssl_for(opts.tls)
        self.headers = {"X-Redmine-API-Key": opts.api_key}
        self._ids: dict[str, dict[str, int]] = {}
        self._closed: dict[int, bool] = {}
        self._field_id: int | None = int(opts.incident_field) if opts.incident_field.isdigit() else None

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        _, text = await http.call(self.session, "GET", self.base + path, tls=self.tls,
                                  headers=self.headers, params=params)
        return http.parse_json(text, f"Redmine {path}")

    async def _lookup(self, kind: str, path: str, key: str, name: str) -> int:
        if kind not in self._ids:
            items = (await self._get(path))[key]
            self._ids[kind] = {str(i["name"]): int(i["id"]) for i in items}
            if kind == "status":
                self._closed = {int(i["id"]): bool(i.get("is_closed")) for i in items}
        try:
            return self._ids[kind][name]
        except KeyError:
            known = ", ".join(sorted(self._ids[kind]))
            raise DeliveryError(f"Redmine has no {kind} named {name!r} (has: {known}); "
                                "fix the receiver's options", retryable=False) from None

    async def field_id(self) -> int:
        if self._field_id is None:
            self._field_id = await self._lookup("custom field", "/custom_fields.json",
                                                "custom_fields", self.opts.incident_field)
        return self._field_id

    async def status_id(self, name: str) -> int:
        return await self._lookup("status", "/issue_statuses.json", "issue_statuses", name)

    async def priority_id(self, prio: str) -> int:
        name = self.opts.priorities.get(prio)
        if name is None:
            raise DeliveryError(f"no Redmine priority mapped for {prio}", retryable=False)
        return await self._lookup("priority", "/enumerations/issue_priorities.json",
                                  "issue_priorities", name)

    async def find(self, incident_id: str) -> Ticket | None:
        fid = await self.field_id()
        found = await self._get("/issues.json", {
            "project_id": self.opts.project, "status_id": "*", f"cf_{fid}": incident_id,
            "sort": "id:desc", "limit": "1"})
        issues = found.get("issues") or []
        return self._ticket(issues[0]) if issues else None

    def _ticket(self, issue: dict[str, Any]) -> Ticket:
        status = issue.get("status") or {}
        name = str(status.get("name", ""))
        closed = bool(status.get("is_closed", self._closed.get(int(status.get("id", 0)), False)))
        closed_on = issue.get("closed_on")
        return Ticket(
            id=str(issue["id"]), status=name, closed=closed,
            closed_at=datetime.fromisoformat(closed_on.replace("Z", "+00:00")) if closed and closed_on else None,
            wont_fix=closed and name in self.opts.wont_fix_statuses,
        )

    async def create(self, n: Notification, subject: str, description: str,
                     follows: Ticket | None) -> Ticket:
        tracker = await self._lookup("tracker", "/trackers.json", "trackers", self.opts.tracker)
        issue = {
            "project_id": self.opts.project, "tracker_id": tracker,
            "subject": subject[:SUBJECT_MAX], "description": description,
            "priority_id": await self.priority_id(n.incident.priority),
            "custom_fields": [{"id": await self.field_id(), "value": n.incident.id}],
        }
        _, text = await http.call(self.session, "POST", f"{self.base}/issues.json", tls=self.tls,
                                  headers=self.headers, json={"issue": issue})
        created = http.parse_json(text, "Redmine create")["issue"]
        ticket = self._ticket(created)
        if follows is not None:
            await http.call(self.session, "POST", f"{self.base}/issues/{ticket.id}/relations.json",
                            tls=self.tls, headers=self.headers,
                            json={"relation": {"issue_to_id": int(follows.id),
                                               "relation_type": "relates"}})
        return ticket

    async def has_note(self, ticket: Ticket, mark: str) -> bool:
        issue = (await self._get(f"/issues/{ticket.id}.json", {"include": "journals"}))["issue"]
        return any(mark in (j.get("notes") or "") for j in issue.get("journals") or [])

    async def update(self, ticket: Ticket, note: str, *, priority: str | None = None,
                     status: Step | None = None) -> None:
        issue: dict[str, Any] = {"notes": note}
        if priority is not None:
            issue["priority_id"] = await self.priority_id(priority)
        if status is Step.RESOLVE:
            issue["status_id"] = await self.status_id(self.opts.resolve_status)
        elif status is Step.REOPEN:
            issue["status_id"] = await self.status_id(self.opts.reopen_status)
        await http.call(self.session, "PUT", f"{self.base}/issues/{ticket.id}.json", tls=self.tls,
                        headers=self.headers, json={"issue": issue})


def redmine_sender(opts: RedmineOptions, templates: TemplateSet,
                   session: aiohttp.ClientSession) -> TicketSender:
    return TicketSender(RedmineBackend(opts, session), templates,
                        timedelta(seconds=opts.reopen_window))
