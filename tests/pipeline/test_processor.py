"""The pipeline as one synchronous function: alerts and actions in, a write batch out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingestd.api.views import with_alert_entries
from ingestd.cmdb import parse_cmdb
from ingestd.correlate.per_ci import PerCiCorrelator
from ingestd.domain import Alert, AlertStatus, IncidentStatus, frozen_labels
from ingestd.ids import new_incident_id
from ingestd.intake.fingerprint import fingerprint
from ingestd.pipeline.dispatch import CmdbDispatcher
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.sla import DefaultSla
from ingestd.pipeline.work import Action, Intake

CMDB = parse_cmdb("""
cis:
  - id: node-1
    type: host
    team: infra
    match: [{instance: "node-1:9100"}]
  - id: cart
    type: service
    team: shop
    service: webshop
    criticality: critical
    match: [{service: cart}]
    depends_on: [node-1]
""")

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


def alert(status: str = "firing", starts: datetime = T0, ends: datetime | None = None,
          **labels: str) -> Alert:
    labels = labels or {"alertname": "NodeDown", "instance": "node-1:9100", "severity": "critical"}
    return Alert(fingerprint(labels), AlertStatus(status), frozen_labels(labels),
                 frozen_labels({"summary": "s"}), starts, ends)


@pytest.fixture
def proc() -> Processor:
    return Processor(CMDB, PerCiCorrelator(new_incident_id), CmdbDispatcher(), DefaultSla(),
                     Clock())


def test_new_alert_opens_incident_on_its_ci_with_team_and_priority(proc: Processor) -> None:
    batch, results, _ = proc.process([Intake([alert()])])
    assert results[0].new == 1
    (inc,) = batch.incidents.values()
    assert inc.root_ci == "node-1" and inc.team == "infra" and inc.status is IncidentStatus.OPEN
    assert inc.priority.value == "P1"  # critical severity, medium CI
    assert [e.incident_id for e in batch.episodes.values()] == [inc.id]
    # the alert's joining is shown from its episode row, not stored as a timeline row
    assert [t.kind for t in batch.timeline] == ["opened"]
    shown = with_alert_entries(batch.timeline, list(batch.episodes.values()))
    assert [t.kind for t in shown] == ["opened", "alert"]


def test_resend_changes_nothing_but_the_seen_count(proc: Processor) -> None:
    proc.process([Intake([alert()])])
    batch, results, stats = proc.process([Intake([alert()]), Intake([alert()])])
    assert [r.repeats for r in results] == [1, 1]
    assert not batch.episodes and not batch.incidents and not batch.timeline
    (fp,) = batch.seen_only
    assert batch.seen_only[fp][0] == 2
    assert stats.repeats == 2


def test_resends_cost_no_write_until_the_seen_count_is_due(proc: Processor) -> None:
    clock = proc.clock
    assert isinstance(clock, Clock)
    proc.process([Intake([alert()])])
    proc.process([Intake([alert()])])  # the first re-send count is written at once
    batch, _, _ = proc.process([Intake([alert()]), Intake([alert()])])
    assert not batch  # nothing to commit: no transaction, no fsync
    clock.now += timedelta(seconds=5)
    batch, _, _ = proc.process([Intake([alert()])])
    (seen,) = batch.seen_only.values()
    assert seen == (3, clock.now)  # the deferred counts are not lost


def test_changed_annotations_on_a_resend_are_stored(proc: Processor) -> None:
    proc.process([Intake([alert()])])
    a = alert()
    changed = Alert(a.fingerprint, a.status, a.labels, frozen_labels({"summary": "new text"}),
                    a.starts_at, None)
    batch, _, _ = proc.process([Intake([changed])])
    assert batch.alerts[a.fingerprint].annotations == {"summary": "new text"}
    assert not batch.incidents


def test_firing_resolved_firing_makes_two_episodes_and_resolves_between(proc: Processor) -> None:
    b1, _, _ = proc.process([Intake([alert()])])
    (inc,) = b1.incidents
    b2, res, _ = proc.process([Intake([alert("resolved", ends=T0 + timedelta(minutes=5))])])
    assert res[0].resolved == 1
    assert b2.incidents[inc].status is IncidentStatus.RESOLVED
    assert list(b2.episode_ends.values()) == [T0 + timedelta(minutes=5)]
    b3, res, _ = proc.process([Intake([alert(starts=T0 + timedelta(minutes=30))])])
    assert res[0].new == 1
    (ep,) = b3.episodes.values()
    assert ep.starts_at == T0 + timedelta(minutes=30)


def test_late_ha_copy_of_a_resolved_alert_is_ignored(proc: Processor) -> None:
    proc.process([Intake([alert()])])
    proc.process([Intake([alert("resolved", ends=T0 + timedelta(minutes=5))])])
    batch, res, stats = proc.process([Intake([alert()])])  # peer B still says firing
    assert res[0].new == 0 and stats.stale == 1
    assert not batch.episodes and not batch.incidents


def test_alert_first_seen_resolved_still_belongs_to_an_incident(proc: Processor) -> None:
    batch, res, _ = proc.process([Intake([alert("resolved", ends=T0 + timedelta(minutes=2))])])
    (ep,) = batch.episodes.values()
    assert ep.ends_at == T0 + timedelta(minutes=2)
    assert batch.incidents[ep.incident_id].status is IncidentStatus.RESOLVED


def test_unmapped_alert_gets_an_incident_of_its_own(proc: Processor) -> None:
    batch, _, stats = proc.process([Intake([alert(alertname="Weird", instance="nowhere")])])
    (inc,) = batch.incidents.values()
    assert inc.root_ci is None and inc.team is None
    assert stats.unmapped == 1


def test_acknowledge_then_resolve_by_a_person(proc: Processor) -> None:
    b, _, _ = proc.process([Intake([alert()])])
    (inc,) = b.incidents
    b, res, _ = proc.process([Action(inc, "acknowledge", "alice", "looking")])
    assert res[0].error is None
    assert b.incidents[inc].status is IncidentStatus.ACKNOWLEDGED
    assert b.incidents[inc].acknowledged_by == "alice"
    assert ("acknowledged", "alice", {"note": "looking"}) in [
        (t.kind, t.actor, t.detail) for t in b.timeline]
    assert (inc, "sla.acknowledge") in b.cancel_timers
    assert (inc, "sla.resolve") not in b.cancel_timers
    b, res, _ = proc.process([Action(inc, "acknowledge", "bob")])
    assert res[0].error is not None and res[0].error.status == 409
    b, res, _ = proc.process([Action(inc, "resolve", "alice", "rebooted the switch")])
    assert b.incidents[inc].status is IncidentStatus.RESOLVED


def test_action_on_unknown_incident_is_404(proc: Processor) -> None:
    _, res, _ = proc.process([Action("inc-nope", "acknowledge", "alice")])
    assert res[0].error is not None and res[0].error.status == 404


def test_a_new_alert_on_a_manually_resolved_incident_reopens_it(proc: Processor) -> None:
    b, _, _ = proc.process([Intake([alert()])])
    (inc,) = b.incidents
    proc.process([Action(inc, "resolve", "alice")])
    other = alert(alertname="NodeHighLoad", instance="node-1:9100", severity="warning")
    b, _, _ = proc.process([Intake([other])])
    assert b.incidents[inc].status is IncidentStatus.OPEN
    assert "reopened" in [t.kind for t in b.timeline]


def test_opening_arms_sla_timers_from_the_wall_clock(proc: Processor) -> None:
    b, _, _ = proc.process([Intake([alert()])])
    kinds = {(t.kind, t.due_at - proc.clock()) for t in b.timers}
    assert ("sla.acknowledge", timedelta(minutes=15)) in kinds  # P1
