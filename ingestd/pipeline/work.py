"""What the pipeline's single writer takes in: bodies, people's actions, clock ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingestd.domain import Alert
from ingestd.store.records import ChangeRecord, DueTimer


@dataclass(slots=True)
class Intake:
    alerts: list[Alert]
    source: str = "alertmanager"


@dataclass(slots=True)
class Action:
    incident_id: str
    kind: str  # acknowledge | resolve | reopen | assign | note
    actor: str
    note: str = ""
    assignee: str | None = None


@dataclass(slots=True)
class Tick:
    now: datetime
    due: list[DueTimer] = field(default_factory=list)


@dataclass(slots=True)
class ReportChange:
    change: ChangeRecord


@dataclass(slots=True)
class ProblemAction:
    problem_id: str
    kind: str  # note | close
    actor: str
    note: str = ""


@dataclass(slots=True)
class SetWindow:
    """Start (or replace) a maintenance window; ``end_only`` ends the named one now."""

    doc: dict[str, Any]
    end_only: bool = False


Work = Intake | Action | Tick | ReportChange | ProblemAction | SetWindow


class ActionError(Exception):
    """An action that cannot apply: unknown incident (404) or wrong state (409)."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


@dataclass(slots=True)
class Result:
    """What one work item produced: counts for intake, the incident for an action."""

    new: int = 0
    resolved: int = 0
    repeats: int = 0
    incident: Any = None
    error: ActionError | None = None
