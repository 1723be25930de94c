"""The dependency graph: who needs a CI, its blast radius, cycles; same answers as networkx."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestd.cmdb import CI, Cmdb, parse_cmdb

IDS = [f"c{i}" for i in range(8)]


@st.composite
def cmdbs(draw: st.DrawFn) -> Cmdb:
    n = draw(st.integers(1, len(IDS)))
    cis = []
    for i in range(n):
        deps = draw(st.lists(st.sampled_from(IDS), max_size=3))  # unknown ids, self, repeats
        cis.append(CI(IDS[i], service=draw(st.sampled_from([None, "shop", "pay", "ads"])),
                      team=draw(st.sampled_from([None, "web", "ops"])), depends_on=tuple(deps)))
    return Cmdb(cis)


@settings(max_examples=200, deadline=None)
@given(cmdb=cmdbs())
def test_answers_match_networkx(cmdb: Cmdb) -> None:
    ref = nx.DiGraph()
    ref.add_nodes_from(cmdb.cis)
    ref.add_edges_from((c.id, d) for c in cmdb for d in c.depends_on
                       if d in cmdb.cis and d != c.id)
    assert nx.utils.graphs_equal(cmdb.graph, ref)
    assert list(cmdb.graph.edges) == list(ref.edges)  # same order too
    assert [list(cmdb.graph.pred[c]) for c in ref] == [list(ref.pred[c]) for c in ref]
    for ci in cmdb:
        needs_it = nx.ancestors(ref, ci.id)
        assert cmdb.dependents(ci.id) == needs_it
        everyone = needs_it | {ci.id}
        assert cmdb.blast_radius(ci.id) == {cmdb.cis[c].service for c in everyone} - {None}
        assert cmdb.teams_affected(ci.id) == {cmdb.cis[c].team for c in everyone} - {None}
        assert cmdb.blast_radius(ci.id) == cmdb.blast_radius(ci.id)  # asked again: same
    cyclic = sorted(sorted(c) for c in nx.strongly_connected_components(ref) if len(c) > 1)
    assert sorted(sorted(c) for c in cmdb.cyclic_components()) == cyclic
    assert cmdb.dependents("no-such-ci") == set()


def test_callers_may_change_the_sets_they_are_given() -> None:
    cmdb = Cmdb([CI("db", service="pay"), CI("app", service="shop", depends_on=("db",))])
    radius = cmdb.blast_radius("db")
    radius.add("mine")
    assert cmdb.blast_radius("db") == {"pay", "shop"}


def test_cycle_warnings_come_in_file_order() -> None:
    text = """\
cis:
  - id: x
    depends_on: [y]
  - id: a
    depends_on: [b]
  - id: b
    depends_on: [a]
  - id: y
    depends_on: [x]
"""
    cmdb = parse_cmdb(text, "c.yaml")
    assert [w.split(": warning")[0] for w in cmdb.warnings] == ["c.yaml:2", "c.yaml:4"]
    assert "x -> y -> x" in cmdb.warnings[0] and "a -> b -> a" in cmdb.warnings[1]


def test_graph_works_with_networkx_and_refuses_attributes() -> None:
    cmdb = Cmdb([CI("core"), CI("sw", depends_on=("core",)), CI("host", depends_on=("sw",))])
    assert nx.shortest_path(cmdb.graph, "host", "core") == ["host", "sw", "core"]
    assert set(nx.descendants(cmdb.graph, "host")) == {"sw", "core"}
    assert cmdb.graph.copy().number_of_edges() == 2
    assert cmdb.path("host", "core") == ["host", "sw", "core"]
    with pytest.raises(TypeError, match="carries no attributes"):
        cmdb.graph.nodes["core"]["colour"] = "red"
    with pytest.raises(TypeError, match="carries no attributes"):
        cmdb.graph.add_edge("host", "core", weight=2)
    assert cmdb.graph.nodes["sw"] == {}
