"""Routing through the tree: continue, inheritance, the default route, priority."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd.domain import Priority
from ingestd.route import RuleSet, load_rules
from tests.route import fixtures

AT = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def rules(tmp_path: Path) -> RuleSet:
    return load_rules(fixtures.write(tmp_path / "rules"), fixtures.cmdb())


def with_routes(tmp_path: Path, routes: str) -> RuleSet:
    return load_rules(fixtures.write(tmp_path / "rules", {"routes.yaml": routes}), fixtures.cmdb())


def test_child_inherits_team_escalation_and_tags_and_adds_its_own(rules: RuleSet) -> None:
    d = rules.route(rules.context({"alertname": "PostgresDown", "severity": "warning"}, AT, "pg"))
    assert [r.name for r in d.paths[0]] == ["root", "dbs", "db-down"]
    assert d.team == "dba"  # set on dbs, inherited by db-down
    assert d.escalation == "dba-policy"  # inherited
    assert d.tags == ("data",)
    assert d.receivers == ("pager-dba",)  # the child's own receivers replace the parent's
    assert d.runbook_url == "https://rb.example.com/postgresdown/pg"
    assert d.assignee == "carol"  # dba's weekly rotation, first week


def test_parent_settings_apply_when_no_child_matches(rules: RuleSet) -> None:
    d = rules.route(rules.context({"alertname": "PostgresConnections"}, AT, "pg"))
    assert [r.name for r in d.paths[0]] == ["root", "dbs"]
    assert d.receivers == ("slack-dba",)
    assert d.runbook_url is None


def test_default_route_is_the_root_cis_owner_in_the_cmdb(rules: RuleSet) -> None:
    d = rules.route(rules.context({"alertname": "TorDown", "severity": "critical"}, AT, "tor-1"))
    assert [r.name for r in d.paths[0]] == ["root"]
    assert d.team == "netops"
    assert "owner of tor-1 in the CMDB" in d.team_reason
    assert d.receivers == ("slack-ops",)  # the root's receivers
    assert d.assignee == "omar"  # netops daily rotation: day 2 (2026-01-06 after 09:00)


def test_no_owner_falls_back_to_default_team(rules: RuleSet) -> None:
    assert rules.route(rules.context({"alertname": "X"}, AT, "orphan")).team == "platform"
    assert rules.route(rules.context({"alertname": "X"}, AT)).team == "platform"


def test_labels_map_to_the_ci_when_no_root_is_given(rules: RuleSet) -> None:
    d = rules.route(rules.context({"alertname": "PostgresDown", "instance": "pg:9187"}, AT))
    assert d.team == "dba"


def test_first_match_wins_without_continue(tmp_path: Path) -> None:
    rules = with_routes(
        tmp_path,
        """
        route:
          receivers: [slack-ops]
          routes:
            - {name: first, matchers: ['severity="critical"'], team: dba}
            - {name: second, matchers: ['severity="critical"'], team: infra, receivers: [mail-mgmt]}
        """,
    )
    d = rules.route(rules.context({"severity": "critical"}, AT))
    assert [[r.name for r in p] for p in d.paths] == [["root", "first"]]
    assert d.team == "dba"
    assert d.receivers == ("slack-ops",)


def test_continue_goes_on_to_later_siblings(tmp_path: Path) -> None:
    rules = with_routes(
        tmp_path,
        """
        route:
          receivers: [slack-ops]
          routes:
            - {name: mgmt, matchers: ['severity="critical"'], receivers: [mail-mgmt], tags: [major], continue: true}
            - {name: dba, matchers: ['ci.team="dba"'], team: dba, receivers: [slack-dba]}
            - {name: never, matchers: ['severity="critical"'], team: infra}
        """,
    )
    d = rules.route(rules.context({"severity": "critical"}, AT, "pg"))
    assert [[r.name for r in p] for p in d.paths] == [["root", "mgmt"], ["root", "dba"]]
    assert d.receivers == ("mail-mgmt", "slack-dba")
    assert d.team == "dba"  # the first path sets no team below the root; the second does
    assert d.tags == ("major",)
    # without continue the walk would stop at "mgmt" and "dba" would never be reached
    warning = rules.route(rules.context({"severity": "warning"}, AT, "pg"))
    assert [[r.name for r in p] for p in warning.paths] == [["root", "dba"]]


def test_matching_on_incident_and_ci_attributes(tmp_path: Path) -> None:
    rules = with_routes(
        tmp_path,
        """
        route:
          routes:
            - {name: inferred, matchers: ['root_inferred="true"'], tags: [inferred], continue: true}
            - {name: p0, matchers: ['priority="P0"'], team: infra}
            - {name: shop-high, matchers: ['{ci.service="shop", ci.criticality=~"high|critical"}'], team: dba}
        """,
    )
    d = rules.route(rules.context({"severity": "warning"}, AT, "web", root_inferred=True))
    assert [[r.name for r in p] for p in d.paths] == [["root", "inferred"], ["root", "shop-high"]]
    # severity critical on "core" (criticality critical): the matrix says P0
    assert rules.route(rules.context({"severity": "critical"}, AT, "core")).team == "infra"


def test_priority_from_the_matrix(rules: RuleSet) -> None:
    # pg: criticality high, but web (shop) and pay (payments) need it: blast radius 2 -> impact high
    d = rules.route(rules.context({"alertname": "PostgresConnections", "severity": "critical"}, AT, "pg"))
    assert d.priority is Priority.P1
    assert "matrix" in d.priority_reason and "blast radius 2" in d.priority_reason
    # host-1 (medium) carries pg and so two services: raised to high impact
    d = rules.route(rules.context({"severity": "warning"}, AT, "host-1"))
    assert d.priority is Priority.P3
    # core: every service depends on it -> critical impact
    assert rules.route(rules.context({"severity": "critical"}, AT, "core")).priority is Priority.P0


def test_priority_override_by_a_route(rules: RuleSet) -> None:
    d = rules.route(rules.context({"alertname": "PostgresDown", "severity": "warning"}, AT, "pg"))
    assert d.matrix_priority is Priority.P3
    assert d.priority is Priority.P0
    assert 'route "db-down"' in d.priority_reason and "matrix gives P3" in d.priority_reason


def test_a_priority_pinned_by_a_person_wins(rules: RuleSet) -> None:
    ctx = rules.context({"alertname": "PostgresDown"}, AT, "pg", pinned_priority=Priority.P4)
    d = rules.route(ctx)
    assert d.priority is Priority.P4
    assert "set on the incident" in d.priority_reason


def test_suppress_and_threshold(rules: RuleSet) -> None:
    d = rules.route(rules.context({"alertname": "PostgresSlowQuery"}, AT, "pg"))
    assert d.suppressed
    assert d.threshold is not None and d.threshold.alerts == 3
    assert not rules.route(rules.context({"alertname": "PostgresDown"}, AT, "pg")).suppressed


def test_without_routes_file_the_cmdb_owner_routes(tmp_path: Path) -> None:
    rules = load_rules(fixtures.write(tmp_path / "r", {"routes.yaml": None}), fixtures.cmdb())
    d = rules.route(rules.context({"severity": "critical"}, AT, "pg"))
    assert d.team == "dba" and d.assignee == "carol"


def test_escalation_targets_resolve_to_people(rules: RuleSet) -> None:
    assert rules.escalation_recipients("dba", "team_lead", AT) == ("carol",)
    # infra, dba's next tier, has neither rotation nor lead: all its members
    assert rules.escalation_recipients("dba", "next_tier", AT) == ("ivan",)
    assert rules.escalation_recipients("dba", "on_call", AT) == ("carol",)
    assert rules.escalation_recipients("dba", "team:netops", AT) == ("omar",)
    assert rules.escalation_recipients("dba", "management", AT) == ("boss",)
