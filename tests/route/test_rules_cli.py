"""``ingestd rules check``, ``ingestd rules test`` and ``ingestd route`` through the CLI's main."""

from pathlib import Path

import pytest

from ingestd.cli import main
from tests.route import fixtures

REPO = Path(__file__).resolve().parents[2]


def test_example_rules_pass_their_rule_tests(capsys: pytest.CaptureFixture[str]) -> None:
    tests = sorted((REPO / "rules" / "tests").glob("*.yaml"))
    assert tests
    status = main(["rules", "test", *map(str, tests)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "SUCCESS" in out and "0 failed" in out


def test_example_rules_check(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["rules", "check", "--rules", str(REPO / "rules"), "--cmdb", str(REPO / "cmdb.yaml")])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "OK" in captured.out and "config hash" in captured.out


def test_failing_case_names_the_case_and_expected_vs_got(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixtures.write(tmp_path / "rules")
    (tmp_path / "cmdb.yaml").write_text(fixtures.CMDB)
    test_file = tmp_path / "rules" / "tests" / "t.yaml"
    test_file.parent.mkdir()
    test_file.write_text(
        """
rules: ..
cmdb: ../../cmdb.yaml
tests:
  - name: db down goes to dba
    at: 2026-01-06T12:00:00Z
    labels: {alertname: PostgresDown, instance: "pg:9187"}
    expect: {team: dba, assignee: carol, priority: P0, receivers: [pager-dba], escalation: dba-policy}
  - name: wrong expectations
    at: 2026-01-06T12:00:00Z
    labels: {alertname: PostgresDown}
    ci: pg
    expect: {team: infra, receivers: [slack-ops], priority: P2}
"""
    )
    status = main(["rules", "test", str(test_file)])
    out = capsys.readouterr().out
    assert status == 1
    assert f'{test_file}:9: FAILED case "wrong expectations"' in out
    assert 'team: expected "infra", got "dba"' in out
    assert "receivers: expected [slack-ops], got [pager-dba]" in out
    assert 'priority: expected "P2", got "P0"' in out
    assert "db down goes to dba" not in out
    assert "FAILED: 2 cases in 1 file(s), 1 failed" in out


def test_rule_test_file_with_unknown_field_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixtures.write(tmp_path / "rules")
    t = tmp_path / "rules" / "tests" / "t.yaml"
    t.parent.mkdir()
    t.write_text("tests:\n  - name: x\n    labels: {a: b}\n    expect: {teem: dba}\n")
    assert main(["rules", "test", str(t)]) == 1
    assert f'{t}:4: unknown field "teem" in case "x": expect' in capsys.readouterr().out


def test_rules_check_refuses_a_broken_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    routes = fixtures.FILES["routes.yaml"].replace("team: dba", "team: dbas")
    d = fixtures.write(tmp_path / "rules", {"routes.yaml": routes})
    assert main(["rules", "check", "--rules", str(d)]) == 1
    err = capsys.readouterr().err
    assert f'{d}/routes.yaml:7: route "dbs": unknown team "dbas"' in err
    assert "the rules were not loaded" in err


def test_route_prints_the_matching_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = fixtures.write(tmp_path / "rules")
    cmdb = tmp_path / "cmdb.yaml"
    cmdb.write_text(fixtures.CMDB)
    status = main(
        ["route", '{alertname="PostgresDown", instance="pg:9187"}', "--rules", str(d), "--cmdb", str(cmdb),
         "--at", "2026-01-06T12:00:00Z"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert f"root ({d}/routes.yaml:2) > dbs ({d}/routes.yaml:5) > db-down ({d}/routes.yaml:12)" in out
    assert "team:       dba" in out
    assert "assignee:   carol" in out
    assert "priority:   P0" in out
    assert "receivers:  pager-dba" in out
