"""The CMDB as the pipeline sees it: configuration items and their dependency graph.

Edges run from a CI to what it depends on (``cart -> node-1``: cart needs
node-1). A fault travels against the arrows: the dependents of a failing CI
are where its symptoms show.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import networkx as nx

from ingestd.cmdb.index import Entry, SelectorIndex
from ingestd.cmdb.selectors import Matcher, Selector
from ingestd.domain import Criticality, Labels

__all__ = ["CI", "Cmdb", "Mapping_", "Matcher", "Selector"]


@dataclass(frozen=True, slots=True)
class CI:
    id: str
    type: str = ""
    service: str | None = None
    team: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    match: tuple[Selector, ...] = ()
    depends_on: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    line: int = 0
    """Line of the CI in its file (1-based; 0 when built in code)."""


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Mapping_:
    """Where an alert landed in the CMDB and why.

    A selector's reason is written out only when asked for: the pipeline
    maps every new alert and wants the CI alone.
    """

    ci: str | None
    why: str | Entry  # the reason, or the entry of the selector that matched

    @property
    def reason(self) -> str:
        why = self.why
        if isinstance(why, str):
            return why
        return f"selector {why.number + 1} of {why.ci} matches: {why.selector}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping_):
            return NotImplemented
        return self.ci == other.ci and self.reason == other.reason

    def __hash__(self) -> int:
        return hash((self.ci, self.reason))

    def __repr__(self) -> str:
        return f"Mapping_(ci={self.ci!r}, reason={self.reason!r})"


_NO_MATCH = Mapping_(None, "no CI has a matching selector")
_UNKNOWN = Mapping_(None, "not worked out yet")  # (a sentinel of the memo's type)
# How many label-value tuples a CMDB remembers the mapping of (about 200
# bytes each); alerts from one target share a tuple.
_MAPPING_MEMO = 8192


class Cmdb:
    """Configuration items, their dependency graph, and alert-to-CI mapping.

    ``graph`` is the networkx view for analysis; the correlation hot path
    uses the plain adjacency dicts :meth:`depends_on` / :meth:`needed_by`.
    """

    def __init__(self, cis: Iterable[CI], source: str = "<memory>",
                 warnings: Iterable[str] = ()) -> None:
        self.source = source
        self.warnings: list[str] = list(warnings)
        self.cis: dict[str, CI] = {}
        for ci in cis:
            self.cis[ci.id] = ci
        known = self.cis
        self._deps: dict[str, tuple[str, ...]] = {}
        self._rdeps: dict[str, list[str]] = {}
        for ci in known.values():
            deps = ci.depends_on
            if deps:
                distinct = set(deps)
                if ci.id in distinct or len(distinct) < len(deps) or not distinct <= known.keys():
                    deps = tuple(dict.fromkeys(d for d in deps if d in known and d != ci.id))
            self._deps[ci.id] = deps  # the CI's own tuple when it is already clean
            for d in deps:
                rdeps = self._rdeps.get(d)
                if rdeps is None:
                    self._rdeps[d] = [ci.id]
                else:
                    rdeps.append(ci.id)
        self.graph: nx.DiGraph = _graph(self._deps, self._rdeps)
        self._index = SelectorIndex(
            (order, ci.id, n, sel)
            for order, ci in enumerate(known.values())
            for n, sel in enumerate(ci.match)
        )
        # Where alerts map to: new alerts have new label sets, but the labels
        # selectors look at (instance, job...) repeat, so the answer is kept
        # per tuple of their values.
        self._selector_labels = self._index.label_names
        self._mappings: dict[tuple[str | None, ...], Mapping_ | None] = {}
        # answers about one CI, asked again for every incident rooted there
        self._services_of = lru_cache(maxsize=4096)(self._services)
        self._teams_of = lru_cache(maxsize=4096)(self._teams)

    def __len__(self) -> int:
        return len(self.cis)

    def __contains__(self, ci_id: object) -> bool:
        return ci_id in self.cis

    def __iter__(self) -> Iterator[CI]:
        return iter(self.cis.values())

    def get(self, ci_id: str | None) -> CI | None:
        return self.cis.get(ci_id) if ci_id else None

    # ---- mapping -------------------------------------------------------------

    def map_labels(self, labels: Labels) -> Mapping_:
        """The CI an alert with these labels maps to (CONTRACT section 2)."""
        ci_label = labels.get("ci")
        if ci_label and ci_label in self.cis:
            return Mapping_(ci_label, f'label ci="{ci_label}" names the CI')
        # selectors look at no other labels: their values alone decide the answer
        key = tuple(map(labels.get, self._selector_labels))
        found = self._mappings.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            hit = self._index.first_match(labels)
            found = None if hit is None else Mapping_(hit.ci, hit)
            if len(self._mappings) >= _MAPPING_MEMO:
                self._mappings.clear()  # a simple bound: what is still hot comes back at once
            self._mappings[key] = found
        if found is not None:
            return found
        if ci_label:
            return Mapping_(None, f'label ci="{ci_label}" names no CI and no selector matches')
        return _NO_MATCH

    def map_labels_by_scan(self, labels: Labels) -> Mapping_:
        """The same answer as :meth:`map_labels`, by scanning every CI (for tests)."""
        ci_label = labels.get("ci")
        if ci_label and ci_label in self.cis:
            return Mapping_(ci_label, f'label ci="{ci_label}" names the CI')
        for ci in self.cis.values():
            for n, sel in enumerate(ci.match):
                if sel.matches(labels):
                    return Mapping_(ci.id, f"selector {n + 1} of {ci.id} matches: {sel}")
        return Mapping_(None, "no CI has a matching selector")

    # ---- the graph -------------------------------------------------------------

    def depends_on(self, ci_id: str) -> tuple[str, ...]:
        """Direct dependencies of ``ci_id`` (what it needs)."""
        return self._deps.get(ci_id, ())

    def needed_by(self, ci_id: str) -> list[str]:
        """Direct dependents of ``ci_id`` (what needs it)."""
        return self._rdeps.get(ci_id, [])

    def upstream(self, ci_id: str, max_hops: int) -> dict[str, int]:
        """Every CI ``ci_id`` depends on within ``max_hops``, with its distance."""
        return _bfs(ci_id, self._deps, max_hops)

    def downstream(self, ci_id: str, max_hops: int, limit: int = 100_000) -> dict[str, int]:
        """Every CI that depends on ``ci_id`` within ``max_hops``, with its distance."""
        return _bfs(ci_id, self._rdeps, max_hops, limit)

    def path(self, from_ci: str, to_ci: str) -> list[str] | None:
        """The shortest dependency path from ``from_ci`` down to ``to_ci`` (both included)."""
        if from_ci not in self.graph or to_ci not in self.graph:
            return None
        try:
            return list(nx.shortest_path(self.graph, from_ci, to_ci))
        except nx.NetworkXNoPath:
            return None

    def dependents(self, ci_id: str) -> set[str]:
        """Every CI that needs ``ci_id``, directly or not."""
        if ci_id not in self.cis:
            return set()
        found = set(_bfs(ci_id, self._rdeps, len(self.cis), len(self.cis)))
        found.discard(ci_id)  # never its own dependent, even in a cycle
        return found

    def blast_radius(self, ci_id: str) -> set[str]:
        """Business services that depend on ``ci_id`` (its own included)."""
        return set(self._services_of(ci_id))

    def teams_affected(self, ci_id: str) -> set[str]:
        """Teams owning ``ci_id`` or anything that depends on it."""
        return set(self._teams_of(ci_id))

    def _services(self, ci_id: str) -> frozenset[str]:
        cis = self.cis
        return frozenset(s for c in self.dependents(ci_id) | {ci_id} if c in cis
                         and (s := cis[c].service))

    def _teams(self, ci_id: str) -> frozenset[str]:
        cis = self.cis
        return frozenset(t for c in self.dependents(ci_id) | {ci_id} if c in cis
                         and (t := cis[c].team))

    # ---- cycles ------------------------------------------------------------------

    def cyclic_components(self) -> list[set[str]]:
        """Groups of two or more CIs that depend on one another, in file order."""
        comps = [comp for comp in _strongly_connected(self._deps) if len(comp) > 1]
        if len(comps) > 1:
            order = {c: i for i, c in enumerate(self.cis)}
            comps.sort(key=lambda comp: min(order[c] for c in comp))
        return comps

    def cycle_through(self, start: str, component: set[str]) -> list[str]:
        """One dependency cycle from ``start`` back to it, inside ``component``."""
        try:
            edges = nx.find_cycle(self.graph.subgraph(component), start)
        except nx.NetworkXNoCycle:  # pragma: no cover - a component of 2+ always has one
            return sorted(component)
        return [edges[0][0]] + [e[1] for e in edges]


class _NoAttributes(dict[str, Any]):
    """The attribute dict shared by every node and edge of the CMDB graph: always empty.

    What the CMDB knows about a CI lives on the :class:`CI`; sharing one empty
    dict instead of one per node and edge saves a third of the graph's memory.
    """

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError("the CMDB graph carries no attributes (they live on the CI)")

    def update(self, *args: Any, **kwargs: Any) -> None:
        if any(args) or kwargs:
            raise TypeError("the CMDB graph carries no attributes (they live on the CI)")


_NO_ATTRIBUTES = _NoAttributes()


def _no_attributes() -> dict[str, Any]:
    return _NO_ATTRIBUTES


class _Graph(nx.DiGraph):
    node_attr_dict_factory = staticmethod(_no_attributes)
    edge_attr_dict_factory = staticmethod(_no_attributes)


def _graph(deps: Mapping[str, tuple[str, ...]], rdeps: Mapping[str, list[str]]) -> nx.DiGraph:
    """The networkx view of the dependencies, filled in bulk.

    ``add_edges_from`` spends several Python calls on every edge; the
    adjacency is already known here, so networkx's dict-of-dicts (``_node``,
    ``_succ``, ``_pred``: node -> neighbour -> edge attributes) is filled with
    C-level ``dict.fromkeys``: the same graph, node and neighbour order
    included, as adding the nodes then the edges in file order gives.
    """
    g = _Graph()
    g._node.update(dict.fromkeys(deps, _NO_ATTRIBUTES))
    g._succ.update({c: dict.fromkeys(ds, _NO_ATTRIBUTES) for c, ds in deps.items()})
    g._pred.update({c: dict.fromkeys(rdeps.get(c, ()), _NO_ATTRIBUTES) for c in deps})
    return g


def _strongly_connected(adj: Mapping[str, tuple[str, ...]]) -> Iterator[set[str]]:
    """Tarjan's strongly connected components, iteratively (graphs are deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    for root in adj:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(adj[root]))]
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(adj[w])))
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            else:
                work.pop()
                if work and low[v] < low[work[-1][0]]:
                    low[work[-1][0]] = low[v]
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    yield comp


def _bfs(start: str, adj: Mapping[str, Iterable[str]], max_hops: int,
         limit: int = 100_000) -> dict[str, int]:
    seen = {start: 0}
    queue = deque([start])
    while queue:
        x = queue.popleft()
        d = seen[x]
        if d >= max_hops:
            continue
        for y in adj.get(x, ()):
            if y not in seen:
                seen[y] = d + 1
                if len(seen) > limit:
                    return seen
                queue.append(y)
    return seen
