"""The incident book: the in-memory records of the incidents correlation still works on.

It applies the correlator's :data:`~ingestd.correlate.Change` records to
incident rows, writes the timeline, and notes what the batch must persist.

An alert joining an incident is not written to the timeline: its episode row holds
the same facts, and the API shows it as an "alert" entry
(:func:`ingestd.api.views.with_alert_entries`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ingestd.correlate import (
    Change,
    EpisodeAttached,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
    IncidentsMerged,
    RootChanged,
)
from ingestd.domain import Episode, IncidentStatus
from ingestd.store.records import IncidentRecord, TimelineRecord, WriteBatch

SYSTEM = "ingestd"

SEVERITY_ORDER = ("critical", "page", "error", "high", "warning", "info", "none")
"""Most severe first; a severity not listed ranks after these."""

_RANK = {s: i for i, s in enumerate(SEVERITY_ORDER)}


def severity_rank(severity: str) -> int:
    return _RANK.get(severity.lower(), len(SEVERITY_ORDER))


@dataclass(slots=True)
class Summary:
    """What an incident's episodes add up to, kept as episodes arrive (never rescanned)."""

    last_activity: datetime | None = None
    severity: str = ""
    severity_rank: int = len(SEVERITY_ORDER)
    """``severity_rank(severity)``, kept so that each episode ranks only its own."""
    first: str | None = None
    """Key of the earliest episode."""
    first_on: dict[str, str] = field(default_factory=dict)
    """CI -> key of its earliest episode."""

    def add(self, ep: Episode, episodes: dict[str, Episode]) -> None:
        if self.last_activity is None or ep.starts_at > self.last_activity:
            self.last_activity = ep.starts_at
        rank = severity_rank(ep.severity)
        if not self.severity or rank < self.severity_rank:
            self.severity, self.severity_rank = ep.severity, rank
        if self.first is None or _earlier(ep, episodes.get(self.first)):
            self.first = ep.key
        if ep.ci and (ep.ci not in self.first_on
                      or _earlier(ep, episodes.get(self.first_on[ep.ci]))):
            self.first_on[ep.ci] = ep.key

    def lead(self, root: str | None) -> str | None:
        """The most telling episode: the first on the root CI, else the first of all."""
        return self.first_on.get(root or "") or self.first


def _earlier(ep: Episode, other: Episode | None) -> bool:
    """``(ep.starts_at, ep.key) < (other.starts_at, other.key)``, without building tuples."""
    if other is None:
        return True
    if ep.starts_at != other.starts_at:
        return ep.starts_at < other.starts_at
    return ep.key < other.key


class IncidentBook:
    def __init__(self) -> None:
        self.records: dict[str, IncidentRecord] = {}
        self.episodes: dict[str, Episode] = {}
        self.members: dict[str, set[str]] = {}
        """Incident id -> keys of its episodes."""
        self.firing: dict[str, set[str]] = {}
        """Incident id -> keys of its episodes still firing."""
        self.summaries: dict[str, Summary] = {}

    def load(self, record: IncidentRecord, episodes: Iterable[Episode]) -> None:
        self.records[record.id] = record
        members = self.members.setdefault(record.id, set())
        firing = self.firing.setdefault(record.id, set())
        summary = self.summaries.setdefault(record.id, Summary())
        for ep in episodes:
            self.episodes[ep.key] = ep
            members.add(ep.key)
            summary.add(ep, self.episodes)
            if ep.ends_at is None:
                firing.add(ep.key)

    def forget(self, incident_id: str) -> None:
        self.records.pop(incident_id, None)
        self.firing.pop(incident_id, None)
        self.summaries.pop(incident_id, None)
        for key in self.members.pop(incident_id, set()):
            self.episodes.pop(key, None)

    def episode_resolved(self, ep: Episode, incident: str | None) -> None:
        """``ep`` ended; ``incident`` is the one correlation has it in, if it still knows it."""
        self.episodes[ep.key] = ep
        if incident is not None and ep.key in self.members.get(incident, ()):
            # an episode is a member of one incident, and firing in that one only
            self.firing.get(incident, set()).discard(ep.key)
            return
        for keys in self.firing.values():
            keys.discard(ep.key)

    def apply(self, changes: Iterable[Change], batch: WriteBatch, now: datetime) -> set[str]:
        """Apply correlation's changes; return the ids of the incidents they touched."""
        touched: set[str] = set()
        for ch in changes:
            touched |= self._apply_one(ch, batch, now)
        return touched

    def _note(self, batch: WriteBatch, incident: str, at: datetime, kind: str,
              **detail: object) -> None:
        batch.timeline.append(TimelineRecord(incident, at, kind, SYSTEM, dict(detail)))

    def _apply_one(self, ch: Change, batch: WriteBatch, now: datetime) -> set[str]:
        match ch:
            case IncidentOpened():
                rec = IncidentRecord(
                    id=ch.incident, status=IncidentStatus.OPEN, opened_at=ch.at,
                    updated_at=now, created_at=now, root_ci=ch.root_ci,
                    root_inferred=ch.root_inferred, last_activity=ch.at, linked_to=ch.linked_to,
                )
                self.records[ch.incident] = rec
                self.members[ch.incident] = set()
                self.firing[ch.incident] = set()
                self._attach(ch.incident, ch.episode)
                self._note(batch, ch.incident, ch.at, "opened", episode=ch.episode,
                           root_ci=ch.root_ci, root_inferred=ch.root_inferred,
                           **({"linked_to": ch.linked_to} if ch.linked_to else {}))
                return {ch.incident}
            case EpisodeAttached():
                self._attach(ch.incident, ch.episode)
                rec = self.records[ch.incident]
                if not rec.status.is_active:
                    self._reopen(rec, batch, ch.at, now, f"new alert {ch.episode}")
                return {ch.incident}
            case IncidentsMerged():
                src, dst = self.records[ch.source], self.records[ch.target]
                summary = self.summaries.setdefault(ch.target, Summary())
                for key in self.members.pop(ch.source, set()):
                    self.members[ch.target].add(key)
                    if key in self.episodes:
                        summary.add(self.episodes[key], self.episodes)
                self.summaries.pop(ch.source, None)
                self.firing[ch.target] |= self.firing.pop(ch.source, set())
                src.status = IncidentStatus.CLOSED
                src.merged_into = dst.id
                src.updated_at = now
                batch.moves.append((src.id, dst.id))
                batch.incidents[src.id] = src
                self._note(batch, src.id, ch.at, "merged", into=dst.id, reason=ch.reason)
                self._note(batch, dst.id, ch.at, "merged", source=src.id, reason=ch.reason)
                if not dst.status.is_active and self.firing[dst.id]:
                    self._reopen(dst, batch, ch.at, now, f"merged with {src.id}")
                self.records.pop(src.id, None)
                return {dst.id}
            case RootChanged():
                rec = self.records[ch.incident]
                rec.root_ci, rec.root_inferred = ch.new_root, ch.inferred
                self._note(batch, ch.incident, ch.at, "root_changed", old=ch.old_root,
                           new=ch.new_root, inferred=ch.inferred, reason=ch.reason)
                return {ch.incident}
            case IncidentResolved():
                rec = self.records[ch.incident]
                if rec.status.is_active:
                    rec.status = IncidentStatus.RESOLVED
                    rec.resolved_at = ch.at
                    self._note(batch, ch.incident, ch.at, "resolved", reason=ch.reason)
                return {ch.incident}
            case IncidentReopened():
                rec = self.records[ch.incident]
                self._attach(ch.incident, ch.episode)
                self._reopen(rec, batch, ch.at, now, f"alert {ch.episode} fired again")
                return {ch.incident}
        raise TypeError(f"unknown change {ch!r}")

    def _attach(self, incident: str, key: str) -> None:
        self.members.setdefault(incident, set()).add(key)
        ep = self.episodes.get(key)
        if ep is None:
            return
        summary = self.summaries.get(incident)
        if summary is None:  # not setdefault: a Summary is costly to make for nothing
            summary = self.summaries[incident] = Summary()
        summary.add(ep, self.episodes)
        if ep.ends_at is None:
            self.firing.setdefault(incident, set()).add(key)

    def _reopen(self, rec: IncidentRecord, batch: WriteBatch, at: datetime, now: datetime,
                why: str) -> None:
        rec.status = IncidentStatus.OPEN
        rec.resolved_at = None
        rec.acknowledged_at = None
        rec.acknowledged_by = None
        self._note(batch, rec.id, at, "reopened", reason=why)
