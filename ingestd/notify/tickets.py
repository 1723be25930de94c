"""Ticket-system sync: what to do with the incident's ticket for each event.

:func:`plan` is the pure decision; :class:`TicketSender` carries it out through
a :class:`TicketBackend` (Redmine, Jira). The ticket is always found again by
the incident id, so a restart never opens a second ticket, and every comment
carries the notification's idempotency key, so a retried delivery never
comments twice.

The rules:

- no ticket yet: create one (and comment the event unless it is the opening);
- an open ticket: comment; re-prioritise on escalation or re-prioritisation;
  resolve it when the incident resolves; an ``opened`` event finds its ticket
  already there after a crash and does nothing;
- a ticket people closed as "won't fix": never reopened, only commented;
- a closed ticket and a new event after the close: reopened within the
  receiver's ``reopen_window`` from the close, otherwise a new ticket that
  links to the old one; an event older than the close (a late retry) is
  dropped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ingestd.notify.model import Event, Notification
from ingestd.notify.templates import TemplateSet


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    status: str
    closed: bool
    closed_at: datetime | None = None
    wont_fix: bool = False


class Step(enum.Enum):
    CREATE = "create"
    CREATE_LINKED = "create_linked"
    COMMENT = "comment"
    REPRIORITISE = "reprioritise"
    RESOLVE = "resolve"
    REOPEN = "reopen"


def plan(event: Event, ticket: Ticket | None, at: datetime, reopen_window: timedelta) -> list[Step]:
    """The steps, in order; an empty list means the ticket already says it."""
    if ticket is None:
        if event in (Event.OPENED, Event.REOPENED):
            return [Step.CREATE]
        if event is Event.RESOLVED:
            return [Step.CREATE, Step.RESOLVE]
        return [Step.CREATE, Step.COMMENT]
    if not ticket.closed:
        if event is Event.OPENED:
            return []
        if event is Event.RESOLVED:
            return [Step.RESOLVE]
        if event in (Event.ESCALATED, Event.REPRIORITISED):
            return [Step.REPRIORITISE]
        return [Step.COMMENT]
    if event is Event.RESOLVED:
        return []
    if ticket.wont_fix:
        return [Step.COMMENT]
    if ticket.closed_at is not None and ticket.closed_at > at:
        return []
    if ticket.closed_at is None or at - ticket.closed_at <= reopen_window:
        return [Step.REOPEN]
    return [Step.CREATE_LINKED]


def marker(key: str) -> str:
    """The line every comment ends with, so a retry can tell it was already made."""
    return f"[ingestd {key}]"


class TicketBackend(Protocol):
    async def find(self, incident_id: str) -> Ticket | None:
        """The newest ticket for the incident, open or closed."""

    async def create(self, n: Notification, subject: str, description: str,
                     follows: Ticket | None) -> Ticket: ...

    async def has_note(self, ticket: Ticket, mark: str) -> bool: ...

    async def update(self, ticket: Ticket, note: str, *, priority: str | None = None,
                     status: Step | None = None) -> None:
        """Add ``note``; also set ``priority`` (P0…P4) and resolve or reopen when asked."""


class TicketSender:
    def __init__(self, backend: TicketBackend, templates: TemplateSet,
                 reopen_window: timedelta) -> None:
        self.backend = backend
        self.templates = templates
        self.reopen_window = reopen_window

    async def send(self, n: Notification) -> None:
        ticket = await self.backend.find(n.incident.id)
        steps = plan(n.event, ticket, n.at, self.reopen_window)
        if not steps:
            return
        mark = marker(n.idempotency_key)
        note = f"{self.templates.render('comment', n)}\n\n{mark}"
        if steps[0] in (Step.CREATE, Step.CREATE_LINKED):
            follows = ticket if steps[0] is Step.CREATE_LINKED else None
            description = self.templates.render("description", n)
            if follows is not None:
                description = f"Follows ticket {follows.id} (closed).\n\n{description}"
            ticket = await self.backend.create(
                n, self.templates.render("subject", n), description, follows)
            steps = steps[1:]
        elif ticket is not None and await self.backend.has_note(ticket, mark):
            return
        assert ticket is not None
        for step in steps:
            if step is Step.REPRIORITISE:
                await self.backend.update(ticket, note, priority=n.incident.priority)
            elif step in (Step.RESOLVE, Step.REOPEN):
                await self.backend.update(ticket, note, status=step)
            else:
                await self.backend.update(ticket, note)
