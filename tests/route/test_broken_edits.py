"""A broken rules edit is refused with file, line and reason; the rules in force keep routing."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd.route import RulesError, load_rules
from tests.route import fixtures

AT = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)

GOOD_ROUTES = fixtures.FILES["routes.yaml"]


def _refused(directory: Path) -> list[str]:
    with pytest.raises(RulesError) as e:
        load_rules(directory, fixtures.cmdb())
    return e.value.problems


@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        (
            "routes.yaml",
            GOOD_ROUTES.replace("              team: dba\n", "              team: dba\n              receivers [x]\n"),
            ["routes.yaml:9: YAML error: could not find expected ':' (while scanning a simple key at line 8)"],
        ),
        (
            "routes.yaml",
            GOOD_ROUTES.replace("              tags: [data]", "              tgas: [data]"),
            ['routes.yaml:10: unknown field "tgas" in route "dbs"', 'did you mean "tags"?'],
        ),
        (
            "routes.yaml",
            GOOD_ROUTES.replace("""'alertname="PostgresDown"'""", """'alertname=="PostgresDown"'"""),
            ["routes.yaml:13: route \"db-down\": matcher value contains unescaped double quote"],
        ),
        (
            "routes.yaml",
            GOOD_ROUTES.replace("""'ci.type=~"database|cache"'""", """'ci.type=~"(database|cache"'"""),
            ["routes.yaml:6: route \"dbs\": bad regular expression"],
        ),
        (
            "routes.yaml",
            GOOD_ROUTES.replace("              team: dba", "              team: dbas"),
            ['routes.yaml:7: route "dbs": unknown team "dbas" (defined: dba, infra, netops, platform, shop)'],
        ),
        (
            "routes.yaml",
            GOOD_ROUTES.replace("receivers: [pager-dba]", "receivers: [pager]"),
            ['routes.yaml:14: route "db-down": unknown receiver "pager" (defined in', "mail-mgmt, pager-dba, slack-dba, slack-ops)"],
        ),
        (
            "teams.yaml",
            fixtures.FILES["teams.yaml"].replace("kind: weekly", "kind: fortnightly"),
            ['teams.yaml:12: team "dba" rotation: kind must be daily or weekly, got "fortnightly"'],
        ),
        (
            "teams.yaml",
            fixtures.FILES["teams.yaml"].replace("timezone: UTC, start: 2026-01-05}", "timezone: Mars/Olympus, start: 2026-01-05}", 1),
            ['teams.yaml:5: team "netops" rotation: unknown time zone "Mars/Olympus"'],
        ),
        (
            "sla.yaml",
            fixtures.FILES["sla.yaml"].replace("after: 1h,", "after: 1 hour,"),
            ["sla.yaml:5: escalation policy \"dba-policy\" level 2: after: bad duration '1 hour'"],
        ),
    ],
    ids=["yaml-error", "unknown-field", "bad-matcher", "bad-regex", "unknown-team", "unknown-receiver",
         "bad-rotation", "bad-timezone", "bad-duration"],
)
def test_broken_edit_is_refused_with_file_line_reason(tmp_path: Path, file: str, edit: str, expected: list[str]) -> None:
    good = fixtures.write(tmp_path / "good")
    rules = load_rules(good, fixtures.cmdb())
    before = rules.route(rules.context({"alertname": "PostgresDown"}, AT, "pg"))

    broken = fixtures.write(tmp_path / "broken", {file: edit})
    problems = _refused(broken)
    text = "\n".join(problems)
    assert text.startswith(f"{broken / file}:"), text
    for piece in expected:
        assert piece in text, text

    # the good directory still loads, and the rules in force route exactly as before
    assert load_rules(good, fixtures.cmdb()).config_hash == rules.config_hash
    assert rules.route(rules.context({"alertname": "PostgresDown"}, AT, "pg")) == before
    assert before.team == "dba" and before.receivers == ("pager-dba",)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    edit = GOOD_ROUTES.replace("team: dba", "team: nobody").replace("tags: [data]", "colour: red")
    problems = _refused(fixtures.write(tmp_path / "r", {"routes.yaml": edit}))
    assert len(problems) == 2
    assert 'routes.yaml:7: route "dbs": unknown team "nobody"' in "\n".join(problems)
    assert 'routes.yaml:10: unknown field "colour"' in "\n".join(problems)


def test_unknown_escalation_policy_and_unknown_attribute(tmp_path: Path) -> None:
    edit = GOOD_ROUTES.replace("escalation: dba-policy", "escalation: dba-plicy").replace("ci.type=~", "ci.typ=~")
    text = "\n".join(_refused(fixtures.write(tmp_path / "r", {"routes.yaml": edit})))
    assert 'unknown escalation policy "dba-plicy" (defined: dba-policy, default)' in text
    assert 'unknown attribute "ci.typ"' in text


def test_unknown_receiver_when_no_receivers_file(tmp_path: Path) -> None:
    text = "\n".join(_refused(fixtures.write(tmp_path / "r", {"receivers.yaml": None})))
    assert 'unknown receiver "slack-ops"' in text and "none)" in text


def test_config_hash_follows_the_files(tmp_path: Path) -> None:
    a = load_rules(fixtures.write(tmp_path / "a"), fixtures.cmdb())
    b = load_rules(fixtures.write(tmp_path / "b"), fixtures.cmdb())
    assert a.config_hash == b.config_hash and len(a.config_hash) == 64
    c = load_rules(fixtures.write(tmp_path / "c", {"routes.yaml": GOOD_ROUTES + "\n# a comment\n"}), fixtures.cmdb())
    assert c.config_hash != a.config_hash


def test_maintenance_window_on_an_unknown_ci_is_warned_of_not_refused(tmp_path: Path) -> None:
    maint = """
        windows:
          - name: upgrade
            cis: [pg, pgg]
            start: 2026-01-10T22:00:00Z
            end: 2026-01-11T00:00:00Z
        """
    rules = load_rules(fixtures.write(tmp_path / "r", {"maintenance.yaml": maint}), fixtures.cmdb())
    assert any(w.endswith('maintenance.yaml:3: window "upgrade": unknown CI "pgg" (not in the CMDB;'
                          " it holds nothing until the CMDB has it)") for w in rules.warnings)
    assert rules.in_maintenance("pg", datetime(2026, 1, 10, 23, 0, tzinfo=UTC)) is not None


def test_empty_and_comment_only_files_are_fine(tmp_path: Path) -> None:
    rules = load_rules(fixtures.write(tmp_path / "r", {"maintenance.yaml": "# nothing yet\n", "priority.yaml": ""}))
    assert rules.windows == ()


def test_a_file_that_is_not_a_map(tmp_path: Path) -> None:
    d = fixtures.write(tmp_path / "r", {"sla.yaml": "- just\n- a list\n"})
    assert _refused(d)[0] == f"{d}/sla.yaml:1: sla.yaml must be a map, got a list"
