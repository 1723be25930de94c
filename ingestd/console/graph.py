"""The dependency subgraph around an incident or a CI, laid out in layers and drawn as SVG.

Edges run from a CI to what it depends on, as in the CMDB; dependents sit in the
upper layers, what they depend on below (``networkx.topological_generations``
gives the layers, a few barycentre sweeps order each layer to cut crossings).
The drawing needs no external asset: plain SVG with presentation attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape

import networkx as nx

NODE_W, NODE_H = 156, 46
GAP_X, GAP_Y = 22, 64
MARGIN = 16

# Colours with a contrast of at least 4.5:1 against their text (WCAG AA).
FILL = {"firing": "#b3261e", "resolved": "#1e6b34", "quiet": "#f2f4f7"}
TEXT = {"firing": "#ffffff", "resolved": "#ffffff", "quiet": "#1b1f24"}
STATE_WORD = {"firing": "firing", "resolved": "resolved", "quiet": ""}


@dataclass(frozen=True, slots=True)
class Picture:
    """What to draw: the subgraph, which CI is the root, each CI's alert state."""

    graph: nx.DiGraph
    root: str | None = None
    root_inferred: bool = False
    states: Mapping[str, str] = field(default_factory=dict)
    """CI -> ``firing`` or ``resolved`` (alerting CIs); the rest are ``quiet``."""
    paths: Mapping[str, list[str]] = field(default_factory=dict)
    """CI -> its dependency path down to the root (the symptoms' paths)."""
    focus: str | None = None
    """The CI a CMDB page is about (outlined)."""


def incident_picture(graph: nx.DiGraph, cis: Iterable[str], root: str | None,
                     root_inferred: bool, states: Mapping[str, str],
                     max_nodes: int = 40) -> Picture:
    """The affected CIs, the paths from each to the root, and the root's direct dependencies."""
    cis = [c for c in cis if c in graph]
    nodes: dict[str, None] = dict.fromkeys(cis)
    paths: dict[str, list[str]] = {}
    if root and root in graph:
        nodes[root] = None
        for ci in cis:
            if ci == root:
                continue
            try:
                path = nx.shortest_path(graph, ci, root)
            except nx.NetworkXNoPath:
                continue
            paths[ci] = list(path)
            nodes.update(dict.fromkeys(path))
        for dep in graph.successors(root):
            nodes.setdefault(dep, None)
        for dependent in graph.predecessors(root):
            nodes.setdefault(dependent, None)
    keep = list(nodes)[:max_nodes]
    return Picture(graph.subgraph(keep).copy(), root if root in graph else None, root_inferred,
                   dict(states), paths)


def ci_picture(graph: nx.DiGraph, ci: str, hops: int = 2, max_nodes: int = 40) -> Picture:
    """A CI with what it depends on and what depends on it, ``hops`` deep each way."""
    if ci not in graph:
        return Picture(nx.DiGraph(), focus=ci)
    down = nx.single_source_shortest_path_length(graph, ci, cutoff=hops)
    up = nx.single_source_shortest_path_length(graph.reverse(copy=False), ci, cutoff=hops)
    nodes = sorted(set(down) | set(up), key=lambda n: (min(down.get(n, 99), up.get(n, 99)), n))
    return Picture(graph.subgraph(nodes[:max_nodes]).copy(), focus=ci)


# -- layout ---------------------------------------------------------------------------


def layers(g: nx.DiGraph) -> list[list[str]]:
    """Dependents first, what they depend on below; each layer ordered to cut crossings."""
    if nx.is_directed_acyclic_graph(g):
        rows = [sorted(gen) for gen in nx.topological_generations(g)]
    else:  # a cycle (the CMDB refuses them, but stay total): breadth-first from the sources
        seen: set[str] = set()
        rows = []
        frontier = sorted(n for n in g if g.in_degree(n) == 0) or sorted(g)[:1]
        while len(seen) < len(g):
            frontier = [n for n in frontier if n not in seen] or sorted(set(g) - seen)[:1]
            seen.update(frontier)
            rows.append(frontier)
            frontier = sorted({s for n in frontier for s in g.successors(n)} - seen)
    return _order(g, rows)


def _order(g: nx.DiGraph, rows: list[list[str]]) -> list[list[str]]:
    und = g.to_undirected(as_view=True)
    for sweep in range(4):
        indices = range(1, len(rows)) if sweep % 2 == 0 else range(len(rows) - 2, -1, -1)
        for i in indices:
            ref = rows[i - 1] if sweep % 2 == 0 else rows[i + 1]
            pos = {n: k for k, n in enumerate(ref)}

            def centre(n: str, pos: dict[str, int] = pos) -> float:
                near = [pos[m] for m in und.neighbors(n) if m in pos]
                return sum(near) / len(near) if near else float("inf")

            current = {n: k for k, n in enumerate(rows[i])}
            rows[i] = sorted(rows[i], key=lambda n: (centre(n), current[n]))
    return rows


def positions(rows: list[list[str]]) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Top-left corner of each node's box, and the drawing's width and height."""
    widest = max((len(r) for r in rows), default=0)
    width = MARGIN * 2 + widest * NODE_W + max(widest - 1, 0) * GAP_X
    height = MARGIN * 2 + len(rows) * NODE_H + max(len(rows) - 1, 0) * GAP_Y
    out: dict[str, tuple[float, float]] = {}
    for y_index, row in enumerate(rows):
        row_w = len(row) * NODE_W + max(len(row) - 1, 0) * GAP_X
        x0 = (width - row_w) / 2
        for x_index, n in enumerate(row):
            out[n] = (x0 + x_index * (NODE_W + GAP_X), MARGIN + y_index * (NODE_H + GAP_Y))
    return out, float(width), float(height)


# -- drawing --------------------------------------------------------------------------


def _path_edges(p: Picture) -> set[tuple[str, str]]:
    return {(a, b) for path in p.paths.values() for a, b in zip(path, path[1:], strict=False)}


def _short(text: str, room: int = 20) -> str:
    return text if len(text) <= room else text[: room - 1] + "…"


def render_svg(p: Picture, title: str, link: Callable[[str], str] | None = None) -> str:
    """The picture as an inline ``<svg>`` element (role ``img``, titled and described)."""
    if len(p.graph) == 0:
        return ""
    rows = layers(p.graph)
    pos, width, height = positions(rows)
    hot = _path_edges(p)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="depgraph" role="img"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}"'
        f' aria-labelledby="depgraph-title depgraph-desc" data-root="{escape(p.root or "")}">',
        f'<title id="depgraph-title">{escape(title)}</title>',
        f'<desc id="depgraph-desc">{escape(_describe(p))}</desc>',
        '<defs>'
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
        ' fill="#57606a"/></marker>'
        '<marker id="arrow-hot" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6"'
        ' markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
        ' fill="#b3261e"/></marker></defs>',
    ]
    for a, b in sorted(p.graph.edges):
        (ax, ay), (bx, by) = pos[a], pos[b]
        x1, y1 = ax + NODE_W / 2, ay + NODE_H
        x2, y2 = bx + NODE_W / 2, by
        if by <= ay:  # drawn upwards only in a cycle
            y1, y2 = ay, by + NODE_H
        on_path = (a, b) in hot
        colour, w, marker = ("#b3261e", 3, "arrow-hot") if on_path else ("#57606a", 1.4, "arrow")
        cls = "edge path" if on_path else "edge"
        out.append(f'<line class="{cls}" data-from="{escape(a)}" data-to="{escape(b)}"'
                   f' x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"'
                   f' stroke-width="{w}" marker-end="url(#{marker})"/>')
    for n in p.graph.nodes:
        out.append(_node(p, n, pos[n], link))
    out.append("</svg>")
    return "".join(out)


def _node(p: Picture, n: str, at: tuple[float, float], link: Callable[[str], str] | None) -> str:
    x, y = at
    state = p.states.get(n, "quiet")
    is_root = n == p.root
    classes = ["node", state]
    label2 = STATE_WORD[state]
    stroke, stroke_w, dash = "#57606a", 1.2, ""
    if is_root:
        classes.append("root")
        stroke, stroke_w = "#111111", 3.5
        if p.root_inferred:
            classes.append("inferred")
            dash = ' stroke-dasharray="7 4"'
            label2 = f"inferred root · {label2}" if label2 else "inferred root"
        else:
            label2 = f"ROOT · {label2}" if label2 else "ROOT"
    if n == p.focus:
        classes.append("focus")
        stroke, stroke_w = "#0b57d0", 3.5
    tip = n + (f" ({label2})" if label2 else "")
    body = (
        f'<g class="{" ".join(classes)}" data-ci="{escape(n)}" data-state="{state}">'
        f"<title>{escape(tip)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="7"'
        f' fill="{FILL[state]}" stroke="{stroke}" stroke-width="{stroke_w}"{dash}/>'
        f'<text x="{x + NODE_W / 2:.1f}" y="{y + (19 if label2 else 28):.1f}"'
        f' text-anchor="middle" font-size="14" font-weight="600"'
        f' fill="{TEXT[state]}">{escape(_short(n))}</text>'
    )
    if label2:
        body += (f'<text x="{x + NODE_W / 2:.1f}" y="{y + 37:.1f}" text-anchor="middle"'
                 f' font-size="11.5" fill="{TEXT[state]}">{escape(label2)}</text>')
    body += "</g>"
    if link is not None:
        return f'<a href="{escape(link(n))}">{body}</a>'
    return body


def _describe(p: Picture) -> str:
    parts = []
    if p.root:
        parts.append(f"Root CI {p.root}{' (inferred)' if p.root_inferred else ''}.")
    alerting = sorted(p.states)
    if alerting:
        parts.append("Alerting: " + ", ".join(f"{c} {p.states[c]}" for c in alerting) + ".")
    for ci, path in sorted(p.paths.items()):
        parts.append(f"{ci} reaches the root via {' → '.join(path)}.")
    if p.focus:
        parts.append(f"{p.focus} with what it depends on and what depends on it.")
    return " ".join(parts)
