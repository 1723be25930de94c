"""Teams, on-call rotations and overrides.

A rotation hands off every day or every week at a set wall-clock time in a
time zone, so a 09:00 Europe/Berlin hand-off stays at 09:00 local across
daylight-saving changes. ``start`` is the local date of the first shift of
the first member; the members then take turns in list order. An override
(a holiday, a swap) puts someone else on call for a span of time and wins
over the rotation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class RotationKind(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def days(self) -> int:
        return 1 if self is RotationKind.DAILY else 7


@dataclass(frozen=True, slots=True)
class Shift:
    person: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Rotation:
    kind: RotationKind
    members: tuple[str, ...]
    handoff: time
    timezone: ZoneInfo
    start: date

    def _index_and_day(self, at: datetime) -> tuple[int, date]:
        local = at.astimezone(self.timezone)
        day = local.date()
        if local.time().replace(tzinfo=None) < self.handoff:
            day -= timedelta(days=1)
        n = (day - self.start).days // self.kind.days
        return n, self.start + timedelta(days=n * self.kind.days)

    def _local(self, d: date) -> datetime:
        """The hand-off on local date ``d``, as a UTC instant."""
        return datetime.combine(d, self.handoff, tzinfo=self.timezone).astimezone(UTC)

    def shift(self, at: datetime) -> Shift:
        """Who the rotation puts on call at ``at``, and that shift's bounds (UTC)."""
        n, first_day = self._index_and_day(at)
        start = self._local(first_day)
        end = self._local(first_day + timedelta(days=self.kind.days))
        return Shift(self.members[n % len(self.members)], start, end)

    def on_call(self, at: datetime) -> str:
        return self.shift(at).person


@dataclass(frozen=True, slots=True)
class Override:
    """``on_call`` takes over from ``start`` (inclusive) to ``end`` (exclusive)."""

    on_call: str
    start: datetime
    end: datetime
    reason: str = ""

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    members: tuple[str, ...] = ()
    lead: str | None = None
    next_tier: str | None = None
    """The team an escalation to ``next_tier`` goes to (e.g. infra -> platform)."""
    rotation: Rotation | None = None
    overrides: tuple[Override, ...] = ()

    def on_call(self, at: datetime) -> str | None:
        """The engineer on call at ``at``: an override if one covers it, else the rotation."""
        for o in self.overrides:
            if o.covers(at):
                return o.on_call
        if self.rotation is None:
            return None
        return self.rotation.on_call(at)

    def on_call_reason(self, at: datetime) -> str:
        for o in self.overrides:
            if o.covers(at):
                why = f" ({o.reason})" if o.reason else ""
                return f"override {o.start.isoformat()} .. {o.end.isoformat()}{why}"
        if self.rotation is None:
            return "the team has no rotation"
        s = self.rotation.shift(at)
        return f"{self.rotation.kind} rotation, shift {s.start.isoformat()} .. {s.end.isoformat()}"
