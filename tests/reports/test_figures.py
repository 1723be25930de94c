"""The service numbers against a hand-computed history (every figure worked out below)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingestd.domain import IncidentStatus, Priority
from ingestd.reports.figures import (
    IncidentFacts,
    build_report,
    facts_of,
    quantile,
    repeats,
    sla_outcome,
)
from ingestd.store.records import IncidentRecord, TimelineRecord

NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)  # a Monday, ISO week 2026-W04
START = NOW - timedelta(days=14)  # 2026-01-05 12:00, week 2026-W02
M = timedelta(minutes=1)
H = timedelta(hours=1)
RESOLVED, OPEN, ACKED = IncidentStatus.RESOLVED, IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def inc(id: str, created: datetime, prio: str, team: str, root: str, name: str, alerts: int,
        ack: timedelta | None = None, res: timedelta | None = None,
        status: IncidentStatus = RESOLVED) -> IncidentFacts:
    return IncidentFacts(id, created, Priority(prio), status, team, root, name, alerts,
                         created + ack if ack else None, created + res if res else None)


# id created         prio team  root           alert     alerts ack   resolve
A = inc("A", at(5, 13), "P1", "shop", "cart", "CartDown", 3, 10 * M, 2 * H)
B = inc("B", at(6, 13), "P1", "shop", "cart", "CartDown", 2, 20 * M, 5 * H)  # repeats A (1 day)
C = inc("C", at(7, 10), "P2", "infra", "node-1", "HostDown", 5, 30 * M, 1 * H)  # repeats H (5 days)
D = inc("D", at(12, 9), "P2", "infra", "node-1", "DiskFull", 1, 2 * H, 10 * H)
E = inc("E", at(13, 8), "P0", "dba", "postgres-main", "PgDown", 4, None, 30 * M)
F = inc("F", at(14, 10), "P3", "shop", "cart", "CartDown", 1, status=OPEN)  # B was 7d21h before
G = inc("G", at(19, 11, 30), "P4", "infra", "node-3", "Load", 2, 10 * M, status=ACKED)
H_ = inc("H", at(2, 10), "P2", "infra", "node-1", "HostDown", 1, 5 * M, 1 * H)  # before the window
OLD = IncidentFacts("I", datetime(2025, 12, 1, tzinfo=UTC), Priority.P2, OPEN, "infra")

PERIOD = [A, B, C, D, E, F, G]


@pytest.fixture
def report() -> dict:
    return build_report(PERIOD, [F, G, OLD], NOW, START, earlier=[H_])


def test_response_times_median_and_p90(report: dict) -> None:
    # acknowledged: A 600, B 1200, C 1800, D 7200, G 600 -> 600 600 1200 1800 7200
    # p90 at position 3.6: 1800 + 0.6 * (7200 - 1800) = 5040
    assert report["incidents"] == 7
    assert report["time_to_acknowledge"] == {"count": 5, "median_seconds": 1200,
                                             "p90_seconds": pytest.approx(5040)}
    # resolved: E 1800, C 3600, A 7200, B 18000, D 36000; p90: 18000 + 0.6 * 18000 = 28800
    assert report["time_to_resolve"] == {"count": 5, "median_seconds": 7200,
                                         "p90_seconds": pytest.approx(28800)}


def test_sla_compliance(report: dict) -> None:
    # acknowledge: met A (10m of 15m), C (30m of 1h), G (10m of 1d);
    # breached B (20m > 15m), D (2h > 1h), E (resolved at 30m > 5m), F (open past 4h)
    assert report["sla"]["acknowledge"] == {"met": 3, "breached": 4, "pending": 0,
                                            "compliance": pytest.approx(3 / 7)}
    # resolve: met A (2h of 4h), C (1h of 8h), E (30m of 1h); breached B (5h > 4h),
    # D (10h > 8h), F (open past 3 days); pending G (7 days not yet run out)
    assert report["sla"]["resolve"] == {"met": 3, "breached": 3, "pending": 1,
                                        "compliance": 0.5}


def test_repeat_rate_and_compression(report: dict) -> None:
    assert report["repeat"] == {"incidents": 7, "repeats": 2, "rate": pytest.approx(2 / 7),
                                "window_seconds": 7 * 86400}
    # 3 + 2 + 5 + 1 + 4 + 1 + 2 alert episodes in 7 incidents
    assert report["compression"] == {"alerts": 18, "incidents": 7,
                                     "ratio": pytest.approx(18 / 7)}


def test_open_incidents_by_age(report: dict) -> None:
    rows = {r["age"]: r for r in report["open_by_age"]}
    assert [r["age"] for r in report["open_by_age"]] == ["<1h", "1h-4h", "4h-24h", "1d-7d", ">7d"]
    assert rows["<1h"]["total"] == 1 and rows["<1h"]["P4"] == 1  # G, 30 minutes old
    assert rows["1d-7d"]["total"] == 1 and rows["1d-7d"]["P3"] == 1  # F, 5 days 2 hours
    assert rows[">7d"]["total"] == 1 and rows[">7d"]["P2"] == 1  # the December incident
    assert rows["1h-4h"]["total"] == rows["4h-24h"]["total"] == 0
    assert report["open"] == 3


def test_by_week(report: dict) -> None:
    weeks = report["by_week"]
    assert [(w["week"], w["starts"], w["incidents"]) for w in weeks] == [
        ("2026-W02", "2026-01-05", 3), ("2026-W03", "2026-01-12", 3), ("2026-W04", "2026-01-19", 1)]
    w02 = weeks[0]
    # TTA 600, 1200, 1800: p90 at 1.8 -> 1200 + 0.8 * 600; TTR 3600, 7200, 18000
    assert w02["time_to_acknowledge"]["median_seconds"] == 1200
    assert w02["time_to_acknowledge"]["p90_seconds"] == pytest.approx(1680)
    assert w02["time_to_resolve"]["median_seconds"] == 7200
    assert w02["time_to_resolve"]["p90_seconds"] == pytest.approx(15840)
    assert weeks[1]["time_to_acknowledge"] == {"count": 1, "median_seconds": 7200,
                                               "p90_seconds": 7200}  # only D acknowledged


def test_by_team_and_priority(report: dict) -> None:
    teams = {r["team"]: r for r in report["by_team"]}
    assert sorted(teams) == ["dba", "infra", "shop"]
    assert teams["infra"]["incidents"] == 3
    assert teams["infra"]["time_to_acknowledge"]["median_seconds"] == 1800  # 600 1800 7200
    assert teams["dba"]["time_to_acknowledge"]["count"] == 0
    assert teams["dba"]["time_to_acknowledge"]["median_seconds"] is None
    assert teams["shop"]["sla"]["acknowledge"]["compliance"] == pytest.approx(1 / 3)  # A of A B F
    prios = {r["priority"]: r for r in report["by_priority"]}
    assert sorted(prios) == ["P0", "P1", "P2", "P3", "P4"]
    # P1: 600 and 1200 -> median 900, p90 600 + 0.9 * 600
    assert prios["P1"]["time_to_acknowledge"]["median_seconds"] == 900
    assert prios["P1"]["time_to_acknowledge"]["p90_seconds"] == pytest.approx(1140)
    assert prios["P0"]["sla"]["resolve"]["compliance"] == 1.0


def test_repeats_need_the_same_fault_within_the_window() -> None:
    first = inc("1", at(1, 0), "P2", "t", "db", "Down", 1)
    again = inc("2", at(8, 0), "P2", "t", "db", "Down", 1)  # exactly 7 days: a repeat
    other = inc("3", at(8, 1), "P2", "t", "db", "Slow", 1)  # another alert on the same CI
    late = inc("4", at(15, 1), "P2", "t", "db", "Down", 1)  # 7 days 1 hour after "2"
    assert repeats([first, again, other, late])["repeats"] == 1


def test_pending_target_becomes_breached_when_the_clock_runs_out() -> None:
    f = inc("x", at(10, 0), "P1", "t", "c", "a", 1, status=OPEN)
    assert sla_outcome(f, "acknowledge", at(10, 0, 14)) == "pending"
    assert sla_outcome(f, "acknowledge", at(10, 0, 16)) == "breached"


def test_quantile_of_nothing_is_none() -> None:
    assert quantile([], 0.5) is None
    assert quantile([5.0], 0.9) == 5.0


def test_facts_take_the_first_acknowledgement_from_the_timeline() -> None:
    created = at(10, 8)
    rec = IncidentRecord(id="r", status=IncidentStatus.ACKNOWLEDGED, opened_at=created,
                         updated_at=at(10, 12), created_at=created, priority=Priority.P2,
                         labels={"alertname": "HostDown"}, root_ci="node-1", alert_count=2,
                         acknowledged_at=at(10, 11))  # the re-acknowledgement after a reopen
    timeline = [TimelineRecord("r", at(10, 8, 20), "acknowledged", "ann", {}),
                TimelineRecord("r", at(10, 9), "resolved", "ann", {}),
                TimelineRecord("r", at(10, 10), "reopened", "system", {}),
                TimelineRecord("r", at(10, 11), "acknowledged", "bob", {})]
    f = facts_of(rec, timeline)
    assert f.acknowledged_at == at(10, 8, 20)
    assert f.resolved_at is None  # it is active again
    assert f.reopened and f.fault == ("node-1", "HostDown")
    report = build_report([f], [f], at(10, 12), at(10, 0))
    assert report["time_to_acknowledge"]["median_seconds"] == 20 * 60
    assert report["reopened"] == {"incidents": 1}
