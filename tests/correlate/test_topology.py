"""Topology-aware correlation on small graphs built in code, on event time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ingestd.cmdb import CI, Cmdb
from ingestd.correlate.base import (
    Change,
    CorrelationSettings,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
    IncidentsMerged,
    RootChanged,
)
from ingestd.correlate.explain import explain
from ingestd.correlate.topology import TopologyCorrelator
from ingestd.domain import Episode, frozen_labels
from ingestd.knowledge import default_knowledge

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def cmdb(*cis: tuple[str, str, list[str]], service: str | None = None) -> Cmdb:
    return Cmdb([CI(i, type=t, depends_on=tuple(d), service=service if t == "service" else None)
                 for i, t, d in cis])


class Feed:
    """Episodes for one correlator, with the changes it answered."""

    def __init__(self, db: Cmdb, **settings: object) -> None:
        self.c = TopologyCorrelator(db, CorrelationSettings(**settings))  # type: ignore[arg-type]
        self.changes: list[Change] = []
        self.eps: dict[str, Episode] = {}

    def fire(self, name: str, alertname: str, ci: str | None, start: float,
             end: float | None = None, fp: str | None = None) -> Episode:
        fp = fp or f"{alertname}/{ci}"
        ep = Episode(Episode.make_key(fp, at(start)), fp, alertname, ci, "critical",
                     frozen_labels({"alertname": alertname}), at(start))
        self.eps[name] = ep
        self.changes += self.c.firing(ep)
        if end is not None:
            self.resolve(name, end)
        return ep

    def resolve(self, name: str, end: float) -> Sequence[Change]:
        ep = self.eps[name]
        done = Episode(ep.key, ep.fingerprint, ep.alertname, ep.ci, ep.severity, ep.labels,
                       ep.starts_at, at(end))
        ch = self.c.resolved(done)
        self.changes += ch
        return ch

    def inc(self, name: str) -> str:
        iid = self.c.incident_of(self.eps[name].key)
        assert iid is not None
        return iid

    def root(self, name: str) -> str | None:
        view = self.c.incident(self.inc(name))
        assert view is not None
        return view.root_ci


SHOP = cmdb(
    ("sw", "network", []),
    ("h1", "host", ["sw"]), ("h2", "host", ["sw"]), ("h3", "host", ["sw"]),
    ("db", "database", ["h1"]),
    ("cache", "cache", ["h2"]),
    ("api", "service", ["h3", "db", "cache"]),
    ("web", "service", ["h3", "api"]),
)


def test_shared_upstream_failure_is_one_incident_with_the_right_root() -> None:
    f = Feed(SHOP)
    f.fire("web", "HTTP5xxRateHigh", "web", 0)
    f.fire("api", "HTTP5xxRateHigh", "api", 0.5)
    f.fire("db", "PostgresqlDown", "db", 1)
    assert f.inc("web") == f.inc("api") == f.inc("db")
    assert f.root("web") == "db"
    assert [c.new_root for c in f.changes if isinstance(c, RootChanged)] == ["api", "db"]


def test_two_independent_faults_next_to_each_other_stay_two() -> None:
    f = Feed(SHOP)
    f.fire("db", "PostgresqlDown", "db", 0)
    f.fire("cache", "RedisDown", "cache", 0.5)
    assert f.inc("db") != f.inc("cache")
    assert f.root("db") == "db" and f.root("cache") == "cache"
    # a symptom of both joins one of them and merges nothing
    f.fire("api", "HTTP5xxRateHigh", "api", 1)
    assert f.inc("api") in (f.inc("db"), f.inc("cache"))
    assert f.inc("db") != f.inc("cache")
    assert not [c for c in f.changes if isinstance(c, IncidentsMerged)]


def test_unmonitored_switch_is_inferred_as_root() -> None:
    f = Feed(SHOP)
    f.fire("h1", "NodeDown", "h1", 0)
    f.fire("h2", "NodeDown", "h2", 0.2)
    f.fire("h3", "NodeDown", "h3", 0.4)
    f.fire("db", "PostgresqlDown", "db", 1)
    assert len({f.inc(n) for n in ("h1", "h2", "h3", "db")}) == 1
    view = f.c.incident(f.inc("h1"))
    assert view is not None and view.root_ci == "sw" and view.root_inferred
    rc = [c for c in f.changes if isinstance(c, RootChanged)]
    assert rc[-1].new_root == "sw" and rc[-1].inferred and "2 of the 3" in rc[-1].reason


def test_deeper_cause_arriving_later_moves_the_root() -> None:
    f = Feed(SHOP)
    f.fire("db", "PostgresqlDown", "db", 0)
    assert f.root("db") == "db"
    f.fire("h1", "NodeDown", "h1", 2)
    assert f.inc("h1") == f.inc("db") and f.root("db") == "h1"
    rc = [c for c in f.changes if isinstance(c, RootChanged)]
    assert rc[-1].old_root == "db" and rc[-1].new_root == "h1" and not rc[-1].inferred


def test_bridging_alert_merges_two_incidents_and_says_so() -> None:
    db = cmdb(("h1", "host", []), ("db", "database", ["h1"]),
              ("a", "service", ["db"]), ("b", "service", ["db"]),
              ("c", "service", ["db"]), ("d", "service", ["db"]))
    f = Feed(db)
    f.fire("a", "HTTP5xxRateHigh", "a", 0)
    f.fire("b", "HTTP5xxRateHigh", "b", 0.5)
    assert f.inc("a") != f.inc("b")
    first, second = f.inc("a"), f.inc("b")
    f.fire("db", "MysqlDown", "db", 1)
    assert f.inc("a") == f.inc("b") == f.inc("db") == first
    assert f.root("a") == "db"
    merged = [c for c in f.changes if isinstance(c, IncidentsMerged)]
    assert [(m.source, m.target) for m in merged] == [(second, first)]
    assert f.c.incident(second) is not None  # the old id still answers (the merged one)


def test_recurrence_after_a_quiet_period_is_a_new_incident() -> None:
    f = Feed(SHOP, reopen_window=timedelta(minutes=15))
    f.fire("db1", "PostgresqlDown", "db", 0, end=10)
    assert any(isinstance(c, IncidentResolved) for c in f.changes)
    f.fire("db2", "PostgresqlDown", "db", 60)
    assert f.inc("db2") != f.inc("db1")


def test_a_flap_stays_in_its_incident() -> None:
    f = Feed(SHOP, reopen_window=timedelta(minutes=15))
    f.fire("l1", "HighRequestLatency", "web", 0, end=5)
    f.fire("l2", "HighRequestLatency", "web", 12, end=20)
    assert f.inc("l1") == f.inc("l2")
    assert any(isinstance(c, IncidentReopened) for c in f.changes)


def test_reopen_window_zero_never_reopens() -> None:
    f = Feed(SHOP, reopen_window=timedelta(0))
    f.fire("l1", "HighRequestLatency", "web", 0, end=5)
    f.fire("l2", "HighRequestLatency", "web", 6)
    assert f.inc("l1") != f.inc("l2")
    assert not any(isinstance(c, IncidentReopened) for c in f.changes)


def test_max_age_starts_a_new_incident_linked_to_the_old() -> None:
    f = Feed(SHOP, max_age=timedelta(hours=1))
    # a flapping database: each re-fire comes within the reopen window of the last
    for n, start in enumerate([0, 20, 40]):
        f.fire(f"db{n}", "PostgresqlDown", "db", start, end=start + 10)
    assert f.inc("db0") == f.inc("db1") == f.inc("db2")
    f.fire("db3", "PostgresqlDown", "db", 61)
    assert f.inc("db3") != f.inc("db0")
    opened = [c for c in f.changes if isinstance(c, IncidentOpened)]
    assert opened[-1].linked_to == f.inc("db0")


def test_auto_resolve_after_quiet_period() -> None:
    f = Feed(SHOP, auto_resolve_after=timedelta(hours=2))
    f.fire("db", "PostgresqlDown", "db", 0)  # the source never resolves it
    assert f.c.tick(at(60)) == []
    ch = f.c.tick(at(121))
    assert len(ch) == 1 and isinstance(ch[0], IncidentResolved)
    assert ch[0].reason == "quiet for 2h (auto-resolve)"
    view = f.c.incident(f.inc("db"))
    assert view is not None and not view.active


def test_standalone_warning_is_not_merged_into_a_neighbours_fault() -> None:
    f = Feed(SHOP)
    f.fire("h1", "NodeDown", "h1", 0)
    f.fire("mem", "HostMemoryUnderMemoryPressure", "h1", 1)
    f.fire("disk", "HostDiskWillFillIn24Hours", "db", 1)
    assert len({f.inc("h1"), f.inc("mem"), f.inc("disk")}) == 3


def test_unmapped_alerts_are_incidents_of_their_own_per_fingerprint() -> None:
    f = Feed(SHOP)
    f.fire("x", "BackupJobFailed", None, 0)
    f.fire("y", "KubeJobFailed", None, 0.1)
    f.fire("x2", "BackupJobFailed", None, 0.2, fp="other")
    assert len({f.inc("x"), f.inc("y"), f.inc("x2")}) == 3
    assert f.root("x") is None


def test_certificate_alerts_blame_the_certificate() -> None:
    db = cmdb(("cert", "certificate", []), ("lb", "load-balancer", []),
              ("home", "endpoint", ["lb", "cert"]), ("shop", "endpoint", ["lb", "cert"]))
    f = Feed(db)
    f.fire("a", "BlackboxSslCertificateExpired", "home", 0)
    f.fire("b", "BlackboxSslCertificateExpired", "shop", 0.5)
    f.fire("c", "BlackboxProbeFailed", "shop", 1)
    assert f.inc("a") == f.inc("b") == f.inc("c")
    view = f.c.incident(f.inc("a"))
    assert view is not None and view.root_ci == "cert" and view.root_inferred


def test_all_resolved_resolves_the_incident_at_event_time() -> None:
    f = Feed(SHOP)
    f.fire("db", "PostgresqlDown", "db", 0)
    f.fire("api", "HTTP5xxRateHigh", "api", 1)
    assert f.resolve("db", 10) == []
    ch = f.resolve("api", 12)
    assert len(ch) == 1 and isinstance(ch[0], IncidentResolved) and ch[0].at == at(12)


def test_explain_gives_paths_and_blast_radius() -> None:
    f = Feed(SHOP)
    f.fire("db", "PostgresqlDown", "db", 0)
    f.fire("web", "HTTP5xxRateHigh", "web", 1)
    view = f.c.incident(f.inc("db"))
    assert view is not None
    ex = explain(view, SHOP)
    assert ex.root_ci == "db"
    assert ex.paths["web"] == ["web", "api", "db"]
    assert ex.blast_radius == []  # no CI here names a business service


def test_restore_rebuilds_open_incidents() -> None:
    f = Feed(SHOP)
    f.fire("db", "PostgresqlDown", "db", 0)
    view = f.c.incident(f.inc("db"))
    assert view is not None
    c2 = TopologyCorrelator(SHOP, knowledge=default_knowledge())
    c2.restore([view], [f.eps["db"]])
    ep = Episode("k", "fp-api", "HTTP5xxRateHigh", "api", "critical", frozen_labels({}), at(1))
    c2.firing(ep)
    assert c2.incident_of("k") == view.id


def test_restored_certificate_incident_takes_later_certificate_alerts() -> None:
    """(The restart bug this once had shows only in a long stream: test_restart_midstream.)"""
    db = cmdb(("cert", "certificate", []), ("lb", "load-balancer", []),
              ("home", "endpoint", ["lb", "cert"]), ("shop", "endpoint", ["lb", "cert"]))
    f = Feed(db)
    f.fire("a", "BlackboxSslCertificateExpired", "home", 0)
    f.fire("b", "BlackboxSslCertificateExpired", "shop", 0.5)
    view = f.c.incident(f.inc("a"))
    assert view is not None
    c2 = TopologyCorrelator(db, knowledge=default_knowledge(), new_id=lambda t: f"new-{t}")
    c2.restore([view], [f.eps["a"], f.eps["b"]])
    # After the restart, the same fault on a third endpoint joins the restored incident,
    late = Episode("k", "fp-x", "BlackboxSslCertificateExpired", "home", "critical",
                   frozen_labels({}), at(1))
    c2.firing(late)
    assert c2.incident_of("k") == view.id
    # and once everything resolved and was forgotten, new alerts still place cleanly.
    for name in ("a", "b"):
        e = f.eps[name]
        c2.resolved(Episode(e.key, e.fingerprint, e.alertname, e.ci, e.severity, e.labels,
                            e.starts_at, at(2)))
    c2.resolved(Episode("k", "fp-x", late.alertname, "home", "critical", frozen_labels({}),
                        at(1), at(2)))
    c2.tick(at(600))
    fresh = Episode("k2", "fp-y", "BlackboxProbeFailed", "home", "critical", frozen_labels({}),
                    at(601))
    c2.firing(fresh)
    assert c2.incident_of("k2") not in (None, view.id)
