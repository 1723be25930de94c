"""The pipeline in one place: dedup -> correlate -> dispatch -> notify/escalate.

:class:`Processor` is synchronous and does no I/O: it takes a batch of work
(bodies, people's actions, clock ticks), updates its in-memory state and
describes everything that must become durable as one
:class:`~ingestd.store.records.WriteBatch`. The daemon's committer writes that
batch in one transaction before it answers anyone; ``ingestd replay`` runs the
same processor without a daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingestd.cmdb import Cmdb
from ingestd.context.changes import ChangeLog, as_suspect
from ingestd.context.recurrence import RecurrencePolicy, RecurrenceTracker, signature
from ingestd.correlate import Correlator
from ingestd.dedup import Classified, EpisodeTracker, Outcome
from ingestd.domain import Alert, AlertStatus, Episode, IncidentStatus
from ingestd.ids import new_incident_id
from ingestd.maintenance import Window
from ingestd.maintenance.stored import window_from_doc
from ingestd.pipeline.book import SYSTEM, IncidentBook, Summary
from ingestd.pipeline.dispatch import Decision, DispatchContext, Dispatcher
from ingestd.pipeline.notices import Notices
from ingestd.pipeline.sla import SLA_ACKNOWLEDGE, SlaPolicy
from ingestd.pipeline.work import (
    Action,
    ActionError,
    Intake,
    ProblemAction,
    ReportChange,
    Result,
    SetWindow,
    Tick,
    Work,
)
from ingestd.store.records import (
    AlertRecord,
    EpisodeRecord,
    IncidentRecord,
    TimelineRecord,
    WriteBatch,
)

SEEN_FLUSH = timedelta(seconds=5)
"""How long a re-send's seen-count and last-seen time may wait to be written."""

_NO_INCIDENTS: frozenset[str] = frozenset()
"""What a re-send touches: shared, so that the common case allocates nothing."""
_FIRING, _RESOLVED = AlertStatus.FIRING.value, AlertStatus.RESOLVED.value


@dataclass(slots=True)
class Stats:
    """Counts of the last batch, for metrics."""

    received: int = 0
    new: int = 0
    resolved: int = 0
    repeats: int = 0
    stale: int = 0
    unmapped: int = 0
    opened: list[str] | None = None
    closed: list[str] | None = None


class Processor:
    def __init__(
        self,
        cmdb: Cmdb,
        correlator: Correlator,
        dispatcher: Dispatcher,
        sla: SlaPolicy,
        clock: Callable[[], datetime],
        new_id: Callable[[datetime], str] | None = None,
        recurrence: RecurrencePolicy | None = None,
        base_url: str = "",
    ) -> None:
        self.cmdb = cmdb
        self.correlator = correlator
        self.dispatcher = dispatcher
        self.sla = sla
        self.clock = clock
        self.tracker = EpisodeTracker()
        self.book = IncidentBook()
        self.notices = Notices(self._services_of, base_url)
        self.changes = ChangeLog()
        self._decisions: dict[str, tuple[tuple[object, ...], Decision]] = {}
        self._unsaved_seen: dict[str, tuple[int, datetime]] = {}
        """Re-sends that changed nothing: counted here, written with the next batch that writes
        anyway (at most SEEN_FLUSH later), so a pure re-send costs no transaction."""
        self._seen_saved_at: datetime | None = None
        self._services: dict[str, tuple[str, ...]] = {}
        self._services_cmdb: int = 0
        self.windows: dict[str, Window] = {}
        """Maintenance windows set through the API, by name."""
        self.recurrence = RecurrenceTracker(recurrence or RecurrencePolicy(),
                                            new_id or new_incident_id)
        self._ann_hash: dict[str, int] = {}

    # -- the batch --------------------------------------------------------------------

    def process(self, items: Sequence[Work]) -> tuple[WriteBatch, list[Result], Stats]:
        now = self.clock()
        batch = WriteBatch()
        stats = Stats(opened=[], closed=[])
        touched: set[str] = set()
        new_keys: list[str] = []
        results: list[Result] = []
        for item in items:
            res = Result()
            if isinstance(item, Intake):
                for alert in item.alerts:
                    touched |= self._alert(alert, now, batch, res, stats, new_keys)
            elif isinstance(item, Action):
                try:
                    touched.add(self._action(item, now, batch))
                    res.incident = self.book.records.get(item.incident_id)
                except ActionError as e:
                    res.error = e
            elif isinstance(item, Tick):
                touched |= self.book.apply(self.correlator.tick(item.now), batch, now)
                touched |= self._fire_timers(item, batch)
                touched |= self._waiting_to_be_told()
            elif isinstance(item, SetWindow):
                self._set_window(item, now, batch)
                touched |= self._waiting_to_be_told()
            elif isinstance(item, ReportChange):
                self.changes.add(item.change)
                batch.changes.append(item.change)
            elif isinstance(item, ProblemAction):
                try:
                    res.incident = self._problem_action(item, now, batch)
                except ActionError as e:
                    res.error = e
            results.append(res)
        for key in new_keys:
            ep = self.book.episodes[key]
            inc = self.correlator.incident_of(key)
            if inc is None:  # a correlator must place every episode
                raise RuntimeError(f"episode {key} was placed in no incident")
            batch.episodes[key] = EpisodeRecord(
                key, ep.fingerprint, inc, ep.starts_at, ep.ends_at, ep.ci, ep.alertname,
                ep.severity, ep.labels,
            )
        for inc in sorted(touched):  # in a fixed order: problem ids and notices follow it
            rec = self.book.records.get(inc)
            if rec is None:  # merged away
                continue
            self._refresh(rec, now, batch)
            if rec.created_at == now:
                self._recurrence(rec, now, batch)
            batch.incidents[rec.id] = rec
        self._save_seen(batch, now)
        stats.opened = [r.priority.value for r in batch.incidents.values() if r.created_at == now]
        stats.closed = [r.priority.value for r in batch.incidents.values()
                        if r.resolved_at is not None and r.updated_at == now
                        and r.status is IncidentStatus.RESOLVED]
        return batch, results, stats

    def _save_seen(self, batch: WriteBatch, now: datetime) -> None:
        if not self._unsaved_seen:
            return
        due = self._seen_saved_at is None or now - self._seen_saved_at >= SEEN_FLUSH
        if batch or due:
            batch.seen_only.update(self._unsaved_seen)
            self._unsaved_seen = {}
            self._seen_saved_at = now

    # -- alerts -----------------------------------------------------------------------

    def _alert(self, alert: Alert, now: datetime, batch: WriteBatch, res: Result, stats: Stats,
               new_keys: list[str]) -> AbstractSet[str]:
        stats.received += 1
        c = self.tracker.classify(alert)
        fp = alert.fingerprint
        outcome = c.outcome
        if outcome is Outcome.REPEAT or outcome is Outcome.STALE:
            res.repeats += 1
            if outcome is Outcome.REPEAT:
                stats.repeats += 1
                ann = alert.annotations_hash
                if self._ann_hash.get(fp) != ann:
                    self._ann_hash[fp] = ann
                    batch.alerts[fp] = self._alert_record(alert, c, now)
                    return _NO_INCIDENTS
            else:
                stats.stale += 1
            seen = self._unsaved_seen.get(fp)
            self._unsaved_seen[fp] = (seen[0] + 1 if seen else 1, now)
            return _NO_INCIDENTS
        self._ann_hash[fp] = alert.annotations_hash
        batch.alerts[fp] = self._alert_record(alert, c, now)
        touched: set[str] = set()
        if c.closed_previous:
            touched |= self._end_episode(c.closed_previous, c.starts_at, batch, now)
        if c.outcome is Outcome.RESOLVED:
            res.resolved += 1
            stats.resolved += 1
            assert c.ends_at is not None
            return touched | self._end_episode(c.key, c.ends_at, batch, now)
        res.new += 1
        stats.new += 1
        mapped = self.cmdb.map_labels(alert.labels)
        if mapped.ci is None:
            stats.unmapped += 1
        ep = Episode(c.key, fp, alert.alertname, mapped.ci, alert.severity, alert.labels,
                     c.starts_at, None)
        self.book.episodes[ep.key] = ep
        new_keys.append(ep.key)
        touched |= self.book.apply(self.correlator.firing(ep), batch, now)
        if c.ends_at is not None:
            touched |= self._end_episode(c.key, c.ends_at, batch, now)
        return touched

    def _end_episode(self, key: str, ends_at: datetime, batch: WriteBatch,
                     now: datetime) -> set[str]:
        batch.episode_ends[key] = ends_at
        ep = self.book.episodes.get(key)
        if ep is None:  # its incident is no longer in memory: only the row changes
            return set()
        ended = Episode(ep.key, ep.fingerprint, ep.alertname, ep.ci, ep.severity, ep.labels,
                        ep.starts_at, ends_at)
        inc = self.correlator.incident_of(key)
        self.book.episode_resolved(ended, inc)
        touched = {inc} if inc else set()
        return touched | self.book.apply(self.correlator.resolved(ended), batch, now)

    @staticmethod
    def _alert_record(alert: Alert, c: Classified, now: datetime) -> AlertRecord:
        return AlertRecord(
            fingerprint=alert.fingerprint, source=alert.source, labels=alert.labels,
            annotations=alert.annotations,
            status=_RESOLVED if c.ends_at else _FIRING,
            starts_at=c.starts_at, ends_at=c.ends_at, episode=c.key, last_seen=now,
            generator_url=alert.generator_url,
        )

    # -- derived incident fields, dispatch, notices, timers ---------------------------

    def _refresh(self, rec: IncidentRecord, now: datetime, batch: WriteBatch) -> None:
        members = self.book.members.get(rec.id, set())
        firing = self.book.firing.get(rec.id, set())
        summary = self.book.summaries.get(rec.id) or Summary()
        view = self.correlator.incident(rec.id)
        cis = set(view.cis) if view else set(summary.first_on)
        if rec.root_ci:
            cis.add(rec.root_ci)
        rec.cis = sorted(cis)
        rec.alert_count = len(members)
        rec.firing_count = len(firing)
        rec.last_activity = max(summary.last_activity or rec.opened_at, rec.opened_at)
        rec.updated_at = now
        lead_key = summary.lead(rec.root_ci)
        lead = self.book.episodes.get(lead_key) if lead_key else None
        if lead is not None:
            rec.labels = dict(lead.labels)
            root = f" on {rec.root_ci}" if rec.root_ci else ""
            more = f" (+{len(members) - 1} related)" if len(members) > 1 else ""
            rec.title = f"{lead.alertname or 'alert'}{root}{more}"
        self._suspects(rec, now, batch)
        severity = summary.severity
        decision = self._decide(rec, lead.key if lead else None, severity, now)
        self._apply_decision(rec, decision, now, batch)
        self.notices.after_change(rec, decision, now, batch, self.sla)

    def _decide(self, rec: IncidentRecord, lead: str | None, severity: str,
                now: datetime) -> Decision:
        """Dispatch again only when what it depends on changed (or a window may have moved)."""
        key = (rec.root_ci, rec.root_inferred, lead, severity, rec.status.value,
               id(self.dispatcher), id(self.cmdb))
        cached = self._decisions.get(rec.id)
        if cached is not None and cached[0] == key and not self.windows and not rec.held_by:
            return cached[1]
        decision = self.dispatcher.decide(DispatchContext(
            labels=rec.labels, root=self.cmdb.get(rec.root_ci), root_inferred=rec.root_inferred,
            blast_radius=len(self._services_of(rec)), severity=severity,
            status=rec.status.value, at=now, windows=tuple(self.windows.values()),
        ))
        self._decisions[rec.id] = (key, decision)
        return decision

    def _apply_decision(self, rec: IncidentRecord, d: Decision, now: datetime,
                        batch: WriteBatch) -> None:
        fresh = rec.created_at == now and not rec.team and not rec.priority_reason
        if d.priority is not rec.priority and not fresh:
            batch.timeline.append(TimelineRecord(rec.id, now, "priority_changed", SYSTEM, {
                "old": rec.priority.value, "new": d.priority.value, "reason": d.priority_reason}))
        rec.priority, rec.priority_reason = d.priority, d.priority_reason
        if d.team != rec.team:
            if not fresh:
                batch.timeline.append(TimelineRecord(rec.id, now, "routed", SYSTEM, {
                    "team": d.team, "route": list(d.route_path)}))
            rec.team = d.team
        if d.assignee and not rec.assignee:
            rec.assignee = d.assignee
            batch.timeline.append(TimelineRecord(rec.id, now, "assigned", SYSTEM,
                                                 {"assignee": d.assignee, "why": "on call"}))
        rec.tags = list(d.tags)
        rec.runbook_url = d.runbook_url
        rec.receivers = list(d.receivers)
        rec.escalation = d.escalation
        rec.suppressed = d.suppressed

    def _set_window(self, item: SetWindow, now: datetime, batch: WriteBatch) -> None:
        name = str(item.doc["name"])
        if item.end_only:
            self.windows.pop(name, None)
            batch.windows[name] = {}
            return
        self.windows[name] = window_from_doc(item.doc)
        batch.windows[name] = item.doc
        for key, w in list(self.windows.items()):  # forget windows long over
            if w.end < now and key != name:
                del self.windows[key]
                batch.windows[key] = {}

    def _waiting_to_be_told(self) -> set[str]:
        """Active incidents not yet told (held by a window, under a threshold): look again."""
        return {r.id for r in self.book.records.values()
                if r.status.is_active and not r.notified and not r.suppressed}

    def _services_of(self, rec: IncidentRecord) -> tuple[str, ...]:
        """Business services that depend on the root (cached per CMDB)."""
        if not rec.root_ci:
            return ()
        if self._services_cmdb != id(self.cmdb):
            self._services, self._services_cmdb = {}, id(self.cmdb)
        found = self._services.get(rec.root_ci)
        if found is None:
            found = self._services[rec.root_ci] = tuple(sorted(self.cmdb.blast_radius(rec.root_ci)))
        return found

    def _suspects(self, rec: IncidentRecord, now: datetime, batch: WriteBatch) -> None:
        found = [as_suspect(c, rec.root_ci)
                 for c in self.changes.suspects(self.cmdb, rec.root_ci, rec.opened_at)]
        if found != rec.suspects:
            rec.suspects = found
            if found:
                batch.timeline.append(TimelineRecord(rec.id, now, "suspect_changes", SYSTEM, {
                    "changes": found}))

    def _recurrence(self, rec: IncidentRecord, now: datetime, batch: WriteBatch) -> None:
        lead = rec.labels.get("alertname", "")
        sig = signature(rec.root_ci, lead)
        if sig is None:
            return
        problem = self.recurrence.observe(rec, sig, rec.opened_at)
        if problem is None:
            return
        rec.problem_id = problem.id
        batch.problems[problem.id] = problem
        batch.timeline.append(TimelineRecord(rec.id, now, "problem", SYSTEM, {
            "problem": problem.id, "recurrences": len(problem.incidents)}))

    def _problem_action(self, a: ProblemAction, now: datetime, batch: WriteBatch) -> object:
        problem = next((p for p in self.recurrence.open_problems.values()
                        if p.id == a.problem_id), None)
        if problem is None:
            raise ActionError(404, "not_found", f"no open problem {a.problem_id!r}")
        if a.kind == "note":
            if not a.note:
                raise ActionError(400, "missing_note", "give 'note': the text to add")
        elif a.kind == "close":
            problem.status, problem.closed_at = "closed", now
            self.recurrence.closed(problem)
        else:
            raise ActionError(400, "unknown_action", f"unknown action {a.kind!r}")
        problem.notes.append({"at": now.isoformat(), "actor": a.actor, "kind": a.kind,
                              "note": a.note})
        batch.problems[problem.id] = problem
        return problem

    # -- people's actions -------------------------------------------------------------

    def _action(self, a: Action, now: datetime, batch: WriteBatch) -> str:
        rec = self.book.records.get(a.incident_id)
        if rec is None:
            raise ActionError(404, "not_found", f"no incident {a.incident_id!r} is active;"
                              " a resolved incident older than the reopen window cannot change")
        kind = a.kind
        detail: dict[str, object] = {}
        if kind == "acknowledge":
            if rec.status is not IncidentStatus.OPEN:
                raise ActionError(409, "conflict", f"incident is {rec.status.value}, not open")
            rec.status = IncidentStatus.ACKNOWLEDGED
            rec.acknowledged_at, rec.acknowledged_by = now, a.actor
        elif kind == "resolve":
            if not rec.status.is_active:
                raise ActionError(409, "conflict", f"incident is already {rec.status.value}")
            rec.status, rec.resolved_at = IncidentStatus.RESOLVED, now
        elif kind == "reopen":
            if rec.status.is_active:
                raise ActionError(409, "conflict", f"incident is {rec.status.value}, not resolved")
            rec.status, rec.resolved_at = IncidentStatus.OPEN, None
            rec.acknowledged_at = rec.acknowledged_by = None
        elif kind == "assign":
            if not a.assignee:
                raise ActionError(400, "missing_assignee", "give 'assignee'")
            detail["assignee"] = a.assignee
            detail["previous"] = rec.assignee
            rec.assignee = a.assignee
        elif kind == "note":
            if not a.note:
                raise ActionError(400, "missing_note", "give 'note': the text to add")
        else:
            raise ActionError(400, "unknown_action", f"unknown action {kind!r}")
        if a.note:
            detail["note"] = a.note
        past = {"acknowledge": "acknowledged", "resolve": "resolved", "reopen": "reopened",
                "assign": "assigned", "note": "note"}[kind]
        batch.timeline.append(TimelineRecord(rec.id, now, past, a.actor, detail))
        rec.updated_at = now
        batch.incidents[rec.id] = rec
        self.notices.after_action(rec, past, a.actor, a.note, now, batch, self.sla)
        return rec.id

    # -- timers -----------------------------------------------------------------------

    def _fire_timers(self, tick: Tick, batch: WriteBatch) -> set[str]:
        touched = set()
        for t in tick.due:
            batch.fired_timers.append(t.id)
            rec = self.book.records.get(t.incident_id)
            if rec is None or not rec.status.is_active:
                continue
            if t.kind == SLA_ACKNOWLEDGE and rec.status is not IncidentStatus.OPEN:
                continue
            self.notices.timer_fired(rec, t, tick.now, batch, self.sla)
            touched.add(rec.id)
        return touched
