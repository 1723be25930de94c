"""The dependency picture: which CIs it shows, the layers, and how the root and paths look."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import networkx as nx

from ingestd.console.clock import most_urgent_first, sla_clock
from ingestd.console.graph import ci_picture, incident_picture, layers, render_svg
from ingestd.domain import IncidentStatus, Priority
from ingestd.store.records import IncidentRecord

SVG = "{http://www.w3.org/2000/svg}"


def shop() -> nx.DiGraph:
    g = nx.DiGraph()  # edges: CI -> what it depends on
    g.add_edges_from([("frontend", "cart"), ("frontend", "checkout"), ("cart", "redis"),
                      ("redis", "node-2"), ("checkout", "node-2"), ("node-2", "tor-a"),
                      ("node-1", "tor-a"), ("tor-a", "core"), ("payment", "db")])
    return g


def nodes(svg: str) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(svg)
    return {g.get("data-ci"): g for g in root.iter(f"{SVG}g") if g.get("data-ci")}  # type: ignore[misc]


def test_incident_picture_holds_the_paths_from_the_symptoms_to_the_root() -> None:
    p = incident_picture(shop(), ["frontend", "redis", "tor-a"], "tor-a", False,
                         {"frontend": "firing", "redis": "resolved", "tor-a": "firing"})
    assert p.paths == {"frontend": ["frontend", "checkout", "node-2", "tor-a"],  # the shortest
                       "redis": ["redis", "node-2", "tor-a"]}
    # the paths, the root's dependency (core) and its other dependent (node-1)
    assert set(p.graph) == {"frontend", "checkout", "redis", "node-2", "tor-a", "core", "node-1"}
    assert "payment" not in p.graph and "cart" not in p.graph


def test_layers_put_dependents_above_what_they_depend_on() -> None:
    rows = layers(shop().subgraph(["frontend", "cart", "redis", "node-2", "tor-a", "core"]))
    assert rows == [["frontend"], ["cart"], ["redis"], ["node-2"], ["tor-a"], ["core"]]
    flat = layers(shop())
    level = {n: i for i, row in enumerate(flat) for n in row}
    assert all(level[a] < level[b] for a, b in shop().edges)


def test_svg_marks_the_root_colours_states_and_highlights_the_paths() -> None:
    p = incident_picture(shop(), ["frontend", "redis", "tor-a"], "tor-a", False,
                         {"frontend": "firing", "redis": "resolved", "tor-a": "firing"})
    svg = render_svg(p, "graph", lambda ci: f"/console/cis/{ci}")
    found = nodes(svg)
    assert "root" in found["tor-a"].get("class", "").split()
    assert "ROOT" in "".join(found["tor-a"].itertext())
    assert found["frontend"].get("data-state") == "firing"
    assert found["redis"].get("data-state") == "resolved"
    assert found["core"].get("data-state") == "quiet"
    hot = set(re.findall(r'class="edge path" data-from="([^"]+)" data-to="([^"]+)"', svg))
    assert hot == {("frontend", "checkout"), ("checkout", "node-2"), ("redis", "node-2"),
                   ("node-2", "tor-a")}
    assert 'href="/console/cis/tor-a"' in svg
    assert "frontend reaches the root via frontend → checkout → node-2 → tor-a" in svg


def test_an_inferred_root_is_drawn_dashed_and_says_so() -> None:
    p = incident_picture(shop(), ["node-1", "node-2"], "tor-a", True,
                         {"node-1": "firing", "node-2": "firing"})
    root = nodes(render_svg(p, "graph"))["tor-a"]
    assert root.get("class", "").split() == ["node", "quiet", "root", "inferred"]
    assert "inferred root" in "".join(root.itertext())
    rect = root.find(f"{SVG}rect")
    assert rect is not None and rect.get("stroke-dasharray")


def test_ci_picture_shows_both_directions_and_names_are_escaped() -> None:
    g = shop()
    g.add_edge("<script>", "tor-a")
    p = ci_picture(g, "tor-a", hops=1)
    assert set(p.graph) == {"tor-a", "core", "node-1", "node-2", "<script>"}
    svg = render_svg(p, "graph")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "focus" in nodes(svg)["tor-a"].get("class", "")


def test_sla_clock_orders_the_most_urgent_first() -> None:
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def rec(id: str, prio: str, status: IncidentStatus, minutes_ago: int) -> IncidentRecord:
        at = now - timedelta(minutes=minutes_ago)
        return IncidentRecord(id=id, status=status, opened_at=at, updated_at=at, created_at=at,
                              priority=Priority(prio))

    p3_old = rec("a", "P3", IncidentStatus.OPEN, 300)  # acknowledge by 4h: 1h overdue
    p1_new = rec("b", "P1", IncidentStatus.OPEN, 5)  # acknowledge by 15m: 10m left
    p0_ack = rec("c", "P0", IncidentStatus.ACKNOWLEDGED, 20)  # resolve by 1h: 40m left
    done = rec("d", "P0", IncidentStatus.RESOLVED, 1)
    order = [r.id for r, _ in most_urgent_first([done, p0_ack, p1_new, p3_old], now)]
    assert order == ["a", "b", "c", "d"]
    assert sla_clock(p3_old, now).text == "acknowledge overdue by 1h"
    assert sla_clock(p1_new, now).text == "acknowledge within 10m"
    assert sla_clock(p0_ack, now).text == "resolve within 40m"
    assert sla_clock(done, now).text == "—"
