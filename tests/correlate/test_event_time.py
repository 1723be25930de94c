"""Correlation on the faults' own time: onsets from the rules' ``for``, windows measured
from a fault's onset, causes before effects, flaps of the alert itself, slow vs failing.

Each test builds its own small graph, different from the shop of test_topology.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingestd.cmdb import CI, Cmdb
from ingestd.correlate.base import RootChanged
from ingestd.knowledge import Role, default_knowledge, load_knowledge
from ingestd.knowledge.alerts import KnowledgeError
from tests.correlate.test_topology import Feed, at


def graph(*cis: tuple[str, str, list[str]]) -> Cmdb:
    return Cmdb([CI(i, type=t, depends_on=tuple(d)) for i, t, d in cis])


# A payment platform: two racks, a replicated checkout, a single-homed ledger database.
PAY = graph(
    ("tor-a", "network", []), ("tor-b", "network", []),
    ("n1", "node", ["tor-a"]), ("n2", "node", ["tor-a"]), ("n3", "node", ["tor-b"]),
    ("ledger-db", "database", ["n3"]),
    ("fraud", "service", ["n1", "n2"]),
    ("search", "service", ["n1", "n2"]),
    ("checkout", "service", ["n1", "n2", "ledger-db", "fraud"]),
    ("gateway", "service", ["checkout"]),
    ("probe-pay", "endpoint", ["gateway"]),
)


def test_a_crash_loop_firing_15m_late_is_still_the_cause_of_earlier_errors() -> None:
    # KubePodCrashLooping has `for: 15m`: it fires long after its effects but began before them
    f = Feed(PAY)
    f.fire("gw", "HTTP5xxRateHigh", "gateway", 0)
    f.fire("probe", "BlackboxProbeFailed", "probe-pay", 1)
    f.fire("crash", "KubePodCrashLooping", "checkout", 14.5)
    assert f.inc("gw") == f.inc("probe") == f.inc("crash")
    assert f.root("gw") == "checkout"


def test_a_cause_that_began_after_the_errors_did_not_cause_them() -> None:
    f = Feed(PAY)
    f.fire("gw", "HTTP5xxRateHigh", "gateway", 0)
    f.fire("co", "HTTP5xxRateHigh", "checkout", 0.5)
    f.fire("db", "PostgresqlDown", "ledger-db", 7)  # NodeDown-like: fires within a minute
    assert f.inc("db") != f.inc("gw")
    assert f.root("gw") == "checkout" and f.root("db") == "ledger-db"


def test_the_window_runs_from_the_faults_onset_not_its_last_alert() -> None:
    # errors on the gateway keep re-firing (a flap): the incident stays open, but a
    # failed probe 25 minutes after the onset is another fault
    f = Feed(PAY)
    for n, start in enumerate([0, 8, 16]):
        f.fire(f"gw{n}", "HTTP5xxRateHigh", "gateway", start, end=start + 6)
    f.fire("late", "BlackboxProbeFailed", "probe-pay", 25)
    assert f.inc("gw0") == f.inc("gw1") == f.inc("gw2")
    assert f.inc("late") != f.inc("gw0")


def test_a_ci_that_is_down_keeps_collecting_its_own_alerts() -> None:
    f = Feed(PAY)
    f.fire("db", "PostgresqlDown", "ledger-db", 0)
    f.fire("db-late", "PostgresqlTooManyConnections", "ledger-db", 1)  # standalone: its own
    f.fire("db-exp", "TargetDown", "ledger-db", 40)  # still down 40 minutes later
    assert f.inc("db-exp") == f.inc("db")
    assert f.inc("db-late") != f.inc("db")


def test_a_re_fire_after_its_cause_recovered_is_not_a_flap() -> None:
    f = Feed(PAY)
    f.fire("db", "PostgresqlDown", "ledger-db", 0, end=10)
    f.fire("co1", "HTTP5xxRateHigh", "checkout", 1, end=9.5)
    assert f.inc("co1") == f.inc("db")
    # the same alert again 3 minutes later: the database is fine, so this is a new fault
    f.fire("co2", "HTTP5xxRateHigh", "checkout", 12.5, fp="HTTP5xxRateHigh/checkout")
    assert f.inc("co2") != f.inc("db")


def test_a_slow_dependency_explains_slowness_not_errors() -> None:
    f = Feed(PAY)
    f.fire("db", "PostgresqlSlowQueries", "ledger-db", 0)
    f.fire("lat", "HighRequestLatency", "checkout", 2)
    f.fire("err", "HTTP5xxRateHigh", "gateway", 3)
    assert f.inc("lat") == f.inc("db")
    assert f.inc("err") != f.inc("db")
    assert f.root("db") == "ledger-db"


def test_errors_on_two_services_sharing_replica_nodes_are_not_a_silent_node_failure() -> None:
    # fraud and search both run on n1 and n2: one node failing would only degrade them,
    # so their failing together does not point at a node: two faults, no inferred root
    f = Feed(PAY)
    f.fire("fraud", "KubePodCrashLooping", "fraud", 15)
    f.fire("search", "KubeDeploymentReplicasMismatch", "search", 15.5)
    assert f.inc("fraud") != f.inc("search")
    assert f.root("fraud") == "fraud" and f.root("search") == "search"
    assert not [c for c in f.changes if isinstance(c, RootChanged) and c.inferred]


def test_nodes_failing_together_behind_one_switch_infer_the_switch() -> None:
    f = Feed(PAY)
    f.fire("n1", "NodeDown", "n1", 0)
    f.fire("n2", "NodeDown", "n2", 0.1)
    view = f.c.incident(f.inc("n1"))
    assert f.inc("n1") == f.inc("n2")
    assert view is not None and view.root_ci == "tor-a" and view.root_inferred
    assert [c.new_root for c in f.changes if isinstance(c, RootChanged)] == ["tor-a"]


def test_a_link_alert_joins_the_neighbours_fault_as_an_effect() -> None:
    db = graph(("core", "network", []), ("tor", "network", ["core"]),
               ("h1", "host", ["tor"]), ("h2", "host", ["tor"]))
    f = Feed(db)
    f.fire("tor", "SnmpTargetDown", "tor", 0)
    f.fire("h1", "NodeDown", "h1", 0.5)
    f.fire("link", "SnmpInterfaceDown", "core", 3)  # the router noticed a bit later
    assert f.inc("link") == f.inc("tor") == f.inc("h1")
    assert f.root("tor") == "tor"


def test_a_fresh_fault_wins_over_an_old_failure_of_the_same_ci() -> None:
    # checkout has crash-looped for half an hour; a new ledger outage makes it fail again
    f = Feed(PAY)
    f.fire("crash", "KubePodCrashLooping", "checkout", 15)
    f.fire("db", "PostgresqlDown", "ledger-db", 30)
    f.fire("co", "HTTP5xxRateHigh", "checkout", 31)
    assert f.inc("co") == f.inc("db") != f.inc("crash")


def test_a_warning_that_foretold_a_local_failure_is_the_same_incident() -> None:
    f = Feed(PAY)
    f.fire("fill", "HostDiskWillFillIn24Hours", "n3", 0)
    f.fire("other", "HostDiskWillFillIn24Hours", "n1", 5)
    f.fire("full", "HostOutOfDiskSpace", "n3", 20)
    assert f.inc("full") == f.inc("fill") != f.inc("other")
    assert f.root("full") == "n3"
    # the incident now takes part in the graph: the database on n3 fails with it
    f.fire("db", "PostgresqlDown", "ledger-db", 21)
    assert f.inc("db") == f.inc("fill")


def test_rule_for_durations_come_from_knowledge_and_can_be_overridden(tmp_path: object) -> None:
    k = default_knowledge()
    assert k.meaning("KubePodCrashLooping").delay == timedelta(minutes=15)
    assert k.meaning("HighRequestLatency").role is Role.SLOW
    assert k.meaning("SomethingLatencyTooHigh").role is Role.SLOW
    assert k.meaning("NodeDown").delay == timedelta(0)
    from pathlib import Path
    p = Path(str(tmp_path)) / "alerts.yaml"
    p.write_text("alerts:\n  MyAppDown: {role: cause, for: 1h30m}\n")
    assert load_knowledge(p).meaning("MyAppDown").delay == timedelta(hours=1, minutes=30)
    p.write_text("alerts:\n  MyAppDown: {role: cause, for: soon}\n")
    with pytest.raises(KnowledgeError, match="'for' must be a duration"):
        load_knowledge(p)


def test_a_replay_ticked_on_the_wall_clock_still_reopens_on_event_time() -> None:
    # a recorded stream posted long after it happened: ticks carry today's date, yet a flap
    # 5 minutes (event time) after the incident resolved still finds and reopens it
    f = Feed(PAY)
    f.fire("l1", "HTTP5xxRateHigh", "gateway", 0, end=5)
    assert f.c.tick(at(60 * 24 * 365)) == []
    f.fire("l2", "HTTP5xxRateHigh", "gateway", 10)
    assert f.inc("l2") == f.inc("l1")
