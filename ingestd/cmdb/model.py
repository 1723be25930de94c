"""The CMDB as the pipeline sees it: configuration items and their dependency graph.

Edges run from a CI to what it depends on (``cart -> node-1``: cart needs
node-1). A fault travels against the arrows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx

from ingestd.domain import Criticality, Labels


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label condition of a selector: ``name op value`` with op in = != =~ !~."""

    name: str
    op: str
    value: str


@dataclass(frozen=True, slots=True)
class Selector:
    """An alert matches a selector when ALL of its matchers hold."""

    matchers: tuple[Matcher, ...]


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


@dataclass(frozen=True, slots=True)
class Mapping_:
    """Where an alert landed in the CMDB and why."""

    ci: str | None
    reason: str


class Cmdb:
    """Configuration items, their dependency graph, and alert-to-CI mapping."""

    def __init__(self, cis: Iterable[CI], source: str = "<memory>") -> None:
        self.source = source
        self.cis: dict[str, CI] = {}
        self.graph: nx.DiGraph = nx.DiGraph()
        for ci in cis:
            self.cis[ci.id] = ci
            self.graph.add_node(ci.id)
        for ci in self.cis.values():
            for dep in ci.depends_on:
                if dep in self.cis:
                    self.graph.add_edge(ci.id, dep)

    def __len__(self) -> int:
        return len(self.cis)

    def get(self, ci_id: str | None) -> CI | None:
        return self.cis.get(ci_id) if ci_id else None

    def map_labels(self, labels: Labels) -> Mapping_:
        """The CI an alert with these labels maps to (CONTRACT section 2)."""
        ci_label = labels.get("ci")
        if ci_label and ci_label in self.cis:
            return Mapping_(ci_label, f'label ci="{ci_label}" names the CI')
        for ci in self.cis.values():
            for i, sel in enumerate(ci.match):
                if all(labels.get(m.name) == m.value for m in sel.matchers if m.op == "="):
                    return Mapping_(ci.id, f"selector {i} of {ci.id} matches")
        return Mapping_(None, "no CI has a matching selector")

    def dependents(self, ci_id: str) -> set[str]:
        """Every CI that needs ``ci_id``, directly or not."""
        if ci_id not in self.graph:
            return set()
        return set(nx.ancestors(self.graph, ci_id))

    def blast_radius(self, ci_id: str) -> set[str]:
        """Business services that depend on ``ci_id`` (its own included)."""
        services = {self.cis[c].service for c in self.dependents(ci_id) | {ci_id} if c in self.cis}
        return {s for s in services if s}
