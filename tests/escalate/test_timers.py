"""SLA and escalation timers as pure functions of the incident's clock readings."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingestd.domain import Priority
from ingestd.escalate import SlaPolicy, Timer, TimerKind, due, timers
from ingestd.route import load_rules
from tests.route import fixtures

OPENED = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def m(minutes: float) -> datetime:
    return OPENED + timedelta(minutes=minutes)


def keys(ts: list[Timer]) -> list[tuple[str, datetime, str | None]]:
    return [(t.key, t.due_at, t.target) for t in ts]


def test_default_p1_timers() -> None:
    ts = timers(Priority.P1, OPENED, OPENED)
    assert keys(ts) == [
        ("sla.acknowledge", m(15), None),
        ("escalation.1", m(15), "next_tier"),
        ("escalation.2", m(30), "team_lead"),
        ("escalation.3", m(120), "management"),
        ("sla.resolve", m(240), None),
    ]
    assert keys(due(ts, m(20))) == [("sla.acknowledge", m(15), None), ("escalation.1", m(15), "next_tier")]


def test_p0_is_tighter() -> None:
    ts = {t.key: t.due_at for t in timers(Priority.P0, OPENED, OPENED)}
    assert ts["sla.acknowledge"] == m(5) and ts["sla.resolve"] == m(60)


def test_acknowledgement_stops_the_ack_timers_but_not_the_resolve_ones() -> None:
    acked = m(20)  # after escalation.1 fired, before escalation.2
    before = timers(Priority.P1, OPENED, m(19), acknowledged_at=acked)
    assert "escalation.2" in [t.key for t in before]  # not yet acknowledged at 19 minutes
    after = timers(Priority.P1, OPENED, m(21), acknowledged_at=acked)
    assert keys(after) == [
        ("escalation.3", m(120), "management"),  # `when: unresolved` keeps running
        ("sla.resolve", m(240), None),
    ]
    assert due(after, m(60)) == []  # nothing more fires at the hour: the team-lead level stopped


def test_resolution_stops_everything() -> None:
    assert timers(Priority.P1, OPENED, m(50), acknowledged_at=m(10), resolved_at=m(45)) == []


def test_priority_change_moves_the_same_keys() -> None:
    p2 = {t.key: t.due_at for t in timers(Priority.P2, OPENED, m(3))}
    p0 = {t.key: t.due_at for t in timers(Priority.P0, OPENED, m(3))}
    assert set(p2) >= {"sla.acknowledge", "sla.resolve"}
    assert p0["sla.acknowledge"] < p2["sla.acknowledge"]


def test_p4_has_no_escalation_by_default() -> None:
    assert {t.kind for t in timers(Priority.P4, OPENED, OPENED)} == {TimerKind.SLA_ACKNOWLEDGE, TimerKind.SLA_RESOLVE}


def test_policy_from_sla_yaml_and_route_choice(tmp_path: Path) -> None:
    sla = """
        targets:
          P1: {acknowledge: 10m, resolve: 2h, escalation: fast}
        escalation_policies:
          - name: fast
            levels:
              - {after: 5m, target: on_call}
              - {after: 10m, target: "team:infra"}
          - name: dba-policy
            levels:
              - {after: 10m, target: team_lead}
        """
    rules = load_rules(fixtures.write(tmp_path / "r", {"sla.yaml": sla}), fixtures.cmdb())
    assert keys(rules.timers(Priority.P1, OPENED, OPENED)) == [
        ("escalation.1", m(5), "on_call"),
        ("sla.acknowledge", m(10), None),
        ("escalation.2", m(10), "team:infra"),
        ("sla.resolve", m(120), None),
    ]
    # a route chose dba-policy: it replaces the priority's default
    chosen = rules.timers(Priority.P1, OPENED, OPENED, escalation="dba-policy")
    assert [t.key for t in chosen if t.kind is TimerKind.ESCALATION] == ["escalation.1"]
    # the routing decision names the policy that applies
    d = rules.route(rules.context({"alertname": "PostgresDown"}, OPENED, "pg"))
    assert d.escalation == "dba-policy"
    d = rules.route(rules.context({"severity": "critical"}, OPENED, "tor-1"))  # P1 by the matrix
    assert d.priority is Priority.P1 and d.escalation == "fast"


def test_defaults_without_sla_yaml() -> None:
    assert SlaPolicy().target(Priority.P1).acknowledge == timedelta(minutes=15)
