"""The real Alertmanager delivering to ingestd: HA pairs, and a receiver that is down for a while."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.conftest import Alertmanager, Ingestd, Service, alert, free_port, wait_until

pytestmark = pytest.mark.e2e

# postgres-main in the example cmdb.yaml: a critical database owned by dba.
POSTGRES_DOWN = {"alertname": "PostgresDown", "job": "postgres", "instance": "postgres-main:9187",
                 "severity": "critical"}
REPLICATION_LAG = {"alertname": "PostgresReplicationLag", "job": "postgres",
                   "instance": "postgres-main:9187", "severity": "warning"}


@pytest.fixture
def ingestd(tmp_path: Path) -> Iterator[Ingestd]:
    """An ingestd with bearer tokens, not yet started (its port is already chosen)."""
    d = Ingestd(tmp_path / "ingestd")
    yield d
    d.stop()


def delivered(am: Alertmanager) -> bool:
    total, failed = am.webhook_requests()
    return total - failed >= 1


def refused(am: Alertmanager) -> bool:
    return am.webhook_requests()[1] >= 1


def logs(*parts: Alertmanager | Ingestd) -> tuple[Path, ...]:
    return tuple(p.log for p in parts)


def test_ha_pair_without_gossip_both_deliver_and_make_one_incident(
        ingestd: Ingestd, services: list[Service], tmp_path: Path) -> None:
    ingestd.start()
    pair = [Alertmanager(tmp_path, ingestd.webhook_url, name=n) for n in ("am-a", "am-b")]
    services.extend(pair)
    for am in pair:
        am.start()
    copy = alert(POSTGRES_DOWN, summary="PostgreSQL is down")
    for am in pair:  # Prometheus sends every alert to every Alertmanager of the pair
        am.push([copy])

    for am in pair:
        wait_until(partial(delivered, am), 10, f"{am.name} to deliver", logs(am, ingestd))
    wait_until(lambda: ingestd.metric("ingestd_alerts_received_total") >= 2, 5,
               "ingestd to count both copies", logs(ingestd))

    incidents = ingestd.incidents_for("PostgresDown")
    assert len(incidents) == 1, incidents
    inc = incidents[0]
    assert [a["fingerprint"] for a in inc["alerts"]] == [inc["alerts"][0]["fingerprint"]]
    assert (inc["root_ci"], inc["team"], inc["priority"]) == ("postgres-main", "dba", "P0")
    assert ingestd.metric("ingestd_incidents_opened_total") == 1


def test_clustered_pair_both_retry_through_an_outage_and_make_one_incident(
        ingestd: Ingestd, services: list[Service], tmp_path: Path) -> None:
    # ingestd is not running yet: every webhook request is refused, as a 503 would be.
    port_a, port_b = free_port(), free_port()
    a = Alertmanager(tmp_path, ingestd.webhook_url, name="am-a", cluster_port=port_a,
                     peer=f"127.0.0.1:{port_b}")
    b = Alertmanager(tmp_path, ingestd.webhook_url, name="am-b", cluster_port=port_b,
                     peer=f"127.0.0.1:{port_a}")
    services.extend([a, b])
    a.start()
    b.start()
    copy = alert(POSTGRES_DOWN, summary="PostgreSQL is down")
    a.push([copy])
    b.push([copy])
    # The second peer waits one peer-timeout for the first to succeed; it never does.
    for am in (a, b):
        wait_until(partial(refused, am), 15,
                   f"{am.name} to fail against the stopped ingestd", logs(am))

    ingestd.start()
    for am in (a, b):
        wait_until(partial(delivered, am), 15, f"{am.name} to deliver after the outage",
                   logs(a, b, ingestd))

    incidents = ingestd.incidents_for("PostgresDown")
    assert len(incidents) == 1, incidents
    assert len(incidents[0]["alerts"]) == 1
    assert incidents[0]["root_ci"] == "postgres-main"


def test_alerts_sent_while_ingestd_is_down_arrive_once_it_is_up(
        ingestd: Ingestd, services: list[Service], tmp_path: Path) -> None:
    am = Alertmanager(tmp_path, ingestd.webhook_url)
    services.append(am)
    am.start()
    am.push([alert(POSTGRES_DOWN, summary="PostgreSQL is down"),
             alert(REPLICATION_LAG, summary="Replica is 5 minutes behind")])
    # Two groups (group_by alertname, cluster), each retried with backoff.
    wait_until(lambda: am.webhook_requests()[1] >= 4, 15,
               "Alertmanager to retry against the stopped ingestd", logs(am))
    assert ingestd.proc is None

    ingestd.start()
    incidents = wait_until(
        lambda: (lambda incs: incs if sum(len(i["alerts"]) for i in incs) == 2 else None)(
            ingestd.incidents()),
        20, "both alerts to reach ingestd", logs(am, ingestd))

    alerts = [a for i in incidents for a in i["alerts"]]
    assert sorted(a["alertname"] for a in alerts) == ["PostgresDown", "PostgresReplicationLag"]
    assert all(a["status"] == "firing" for a in alerts)
    (down,) = [i for i in incidents if "PostgresDown" in {a["alertname"] for a in i["alerts"]}]
    assert (down["root_ci"], down["team"]) == ("postgres-main", "dba")
