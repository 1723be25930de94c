"""What the ticket sync does with the incident's ticket, event by event (pure decision)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingestd.notify.model import Event
from ingestd.notify.tickets import Step, Ticket, plan

AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=1)
OPEN = Ticket("1", "New", closed=False)
CLOSED_RECENTLY = Ticket("1", "Closed", closed=True, closed_at=AT - timedelta(minutes=10))
CLOSED_LONG_AGO = Ticket("1", "Closed", closed=True, closed_at=AT - timedelta(hours=5))
CLOSED_LATER = Ticket("1", "Closed", closed=True, closed_at=AT + timedelta(minutes=1))
WONT_FIX = Ticket("1", "Rejected", closed=True, closed_at=AT - timedelta(minutes=10), wont_fix=True)


@pytest.mark.parametrize(("event", "ticket", "steps"), [
    (Event.OPENED, None, [Step.CREATE]),
    (Event.ESCALATED, None, [Step.CREATE, Step.COMMENT]),
    (Event.RESOLVED, None, [Step.CREATE, Step.RESOLVE]),
    (Event.OPENED, OPEN, []),                       # found again after a restart: no second ticket
    (Event.ACKNOWLEDGED, OPEN, [Step.COMMENT]),
    (Event.NOTE, OPEN, [Step.COMMENT]),
    (Event.ESCALATED, OPEN, [Step.REPRIORITISE]),
    (Event.REPRIORITISED, OPEN, [Step.REPRIORITISE]),
    (Event.RESOLVED, OPEN, [Step.RESOLVE]),
    (Event.RESOLVED, CLOSED_RECENTLY, []),
    (Event.REOPENED, CLOSED_RECENTLY, [Step.REOPEN]),
    (Event.REOPENED, CLOSED_LONG_AGO, [Step.CREATE_LINKED]),
    (Event.REOPENED, WONT_FIX, [Step.COMMENT]),     # people said won't fix: never reopened
    (Event.OPENED, CLOSED_LATER, []),               # a late retry older than the close
])
def test_plan(event: Event, ticket: Ticket | None, steps: list[Step]) -> None:
    assert plan(event, ticket, AT, WINDOW) == steps
