"""Validation of cmdb.yaml: every problem reported with its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingestd.cmdb import CmdbError, load_cmdb, parse_cmdb, reload_cmdb

GOOD = """\
cis:
  - id: core
    type: network
    criticality: critical
    match:
      - {instance: core}
  - id: node-1
    type: host
    team: infra
    match:
      - {instance: "node-1:9100"}
      - {nodename: node-1}
    depends_on: [core]
  - id: cart
    type: service
    service: shop
    team: shop
    match:
      - {service: cart}
      - '{job="blackbox", instance=~"https://shop\\\\.example\\\\.com/cart.*"}'
    depends_on: [node-1]
"""

BAD = """\
cis:
  - id: a
    criticality: urgent
  - id: b
    depends_on: [nope]
  - id: a
  - id: c
    match:
      - {port: 9100}
      - [x, y]
  - id: d
    dependson: [a]
"""


def test_valid_file_loads_into_graph() -> None:
    cmdb = parse_cmdb(GOOD, "cmdb.yaml")
    assert set(cmdb.graph.edges) == {("node-1", "core"), ("cart", "node-1")}
    assert cmdb.cis["cart"].line == 14
    assert cmdb.blast_radius("core") == {"shop"}
    assert cmdb.dependents("core") == {"node-1", "cart"}


def test_every_problem_is_reported_with_file_and_line() -> None:
    with pytest.raises(CmdbError) as ei:
        parse_cmdb(BAD, "cmdb.yaml")
    problems = ei.value.problems
    joined = "\n".join(problems)
    assert 'cmdb.yaml:3: unknown criticality "urgent"' in joined
    assert 'cmdb.yaml:6: duplicate id "a" (first defined at line 2)' in joined
    assert 'cmdb.yaml:5: CI "b" depends_on "nope", which is no CI' in joined
    assert "cmdb.yaml:9:" in joined and 'label "port" must have a string value' in joined
    assert "cmdb.yaml:10:" in joined and "a selector must be a map" in joined
    assert 'cmdb.yaml:12: unknown key "dependson"' in joined
    assert len(problems) == 6


def test_bad_regex_in_selector_is_a_problem_with_line() -> None:
    text = "cis:\n  - id: x\n    match:\n      - '{instance=~\"web-(\"}'\n"
    with pytest.raises(CmdbError) as ei:
        parse_cmdb(text, "f.yaml")
    assert ei.value.problems[0].startswith("f.yaml:4: ")
    assert "bad regular expression" in ei.value.problems[0]


def test_cycles_are_warnings_not_errors() -> None:
    text = "cis:\n  - id: a\n    depends_on: [b]\n  - id: b\n    depends_on: [a]\n"
    cmdb = parse_cmdb(text, "c.yaml")
    assert len(cmdb.warnings) == 1
    assert cmdb.warnings[0].startswith("c.yaml:2: warning: dependency cycle a -> b -> a")


def test_invalid_yaml_points_at_line() -> None:
    with pytest.raises(CmdbError) as ei:
        parse_cmdb("cis:\n  - id: [a\n", "y.yaml")
    assert ei.value.problems[0].startswith("y.yaml:")


def test_reload_keeps_old_cmdb_on_broken_edit(tmp_path: Path) -> None:
    f = tmp_path / "cmdb.yaml"
    f.write_text(GOOD)
    old = load_cmdb(f)
    f.write_text(BAD)
    served, problems = reload_cmdb(f, old)
    assert served is old and len(problems) == 6
    f.write_text(GOOD.replace("id: cart", "id: basket"))
    served, problems = reload_cmdb(f, old)
    assert problems == [] and "basket" in served


def test_cli_check_lists_problems_and_exits_non_zero(tmp_path: Path) -> None:
    f = tmp_path / "cmdb.yaml"
    f.write_text(BAD)
    r = subprocess.run([sys.executable, "-m", "ingestd.cli", "cmdb", "check", str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f'{f}:3: unknown criticality "urgent"' in r.stderr
    f.write_text(GOOD)
    r = subprocess.run([sys.executable, "-m", "ingestd.cli", "cmdb", "check", str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "3 CIs" in r.stdout


def test_cli_impact_and_map(tmp_path: Path) -> None:
    f = tmp_path / "cmdb.yaml"
    f.write_text(GOOD)
    r = subprocess.run([sys.executable, "-m", "ingestd.cli", "cmdb", "impact", "core",
                        "--cmdb", str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "business services: shop" in r.stdout and "teams: infra, shop" in r.stdout
    r = subprocess.run([sys.executable, "-m", "ingestd.cli", "cmdb", "map",
                        "instance=node-1:9100", "job=node", "--cmdb", str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("node-1: selector 1 of node-1 matches")


def test_anchors_and_aliases_share_selectors_and_dependencies() -> None:
    text = """\
cis:
  - id: core
  - id: web-1
    match: &web
      - '{job="web"}'
    depends_on: &up [core]
  - id: web-2
    match: *web
    depends_on: *up
"""
    cmdb = parse_cmdb(text, "a.yaml")
    assert cmdb.dependents("core") == {"web-1", "web-2"}
    assert str(cmdb.cis["web-2"].match[0]) == '{job="web"}'
    assert cmdb.cis["web-2"].line == 7


def test_yaml_error_deep_in_a_large_file_is_the_only_problem() -> None:
    from bench.correlation import generate

    lines = generate(3000).splitlines()
    lines[5000] = lines[5000] + " ]"
    with pytest.raises(CmdbError) as ei:
        parse_cmdb("\n".join(lines) + "\n", "big.yaml")
    assert len(ei.value.problems) == 1
    assert ei.value.problems[0].startswith("big.yaml:5001: not valid YAML")


def test_large_file_keeps_every_line_and_dependency() -> None:
    from bench.correlation import generate

    text = generate(3000)
    cmdb = parse_cmdb(text, "big.yaml")
    lines = text.splitlines()
    assert len(cmdb) == 3000
    for ci in list(cmdb)[::97]:
        assert lines[ci.line - 1] == f'  - id: "{ci.id}"'
    assert cmdb.graph.number_of_edges() == sum(len(c.depends_on) for c in cmdb)
    assert cmdb.map_labels_by_scan({"instance": "host-7:9100"}).ci == "host-7"
    broken = text.replace('  - id: "db-3"\n', '  - id: "db-3"\n    owner: nobody\n')
    with pytest.raises(CmdbError) as ei:
        parse_cmdb(broken, "big.yaml")
    where = text.splitlines().index('  - id: "db-3"') + 2
    assert ei.value.problems == [
        f'big.yaml:{where}: unknown key "owner" (allowed: id, type, service, team, '
        "criticality, match, depends_on, attributes)"]


@pytest.mark.parametrize("text, problem", [
    ("cis: []\n---\ncis: []\n", "y.yaml:2: not valid YAML: expected a single document"),
    ("cis:\n  - id: a\ncis:\n  - id: b\n", 'y.yaml:3: key "cis" given twice'),
    ("cis:\n  - id: a\n    depends_on: [*nope]\n", "y.yaml:3: not valid YAML: found undefined alias"),
    ("- id: a\n", "y.yaml:1: expected a map with a list under 'cis'"),
    ("cis: {a: 1}\n", "y.yaml:1: 'cis' must be a list of configuration items"),
])
def test_document_shape_problems_name_the_line(text: str, problem: str) -> None:
    with pytest.raises(CmdbError) as ei:
        parse_cmdb(text, "y.yaml")
    assert ei.value.problems[0].startswith(problem), ei.value.problems


def test_empty_and_null_documents_give_an_empty_cmdb() -> None:
    assert len(parse_cmdb("", "e.yaml")) == 0
    assert len(parse_cmdb("# nothing yet\n", "e.yaml")) == 0
    assert len(parse_cmdb("cis:\n", "e.yaml")) == 0


def test_forward_references_and_unknown_dependencies() -> None:
    text = "cis:\n  - id: app\n    depends_on: [db, ghost, db, app]\n  - id: db\n"
    with pytest.raises(CmdbError) as ei:
        parse_cmdb(text, "f.yaml")
    assert ei.value.problems == ['f.yaml:3: CI "app" depends_on "ghost", which is no CI in this file']
    cmdb = parse_cmdb(text.replace("ghost, ", ""), "f.yaml")
    assert cmdb.depends_on("app") == ("db",)
    assert cmdb.needed_by("db") == ["app"]
