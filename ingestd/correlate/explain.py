"""What the API shows of an incident's topology: affected CIs, paths to the root, blast radius."""

from __future__ import annotations

from dataclasses import dataclass

from ingestd.cmdb import Cmdb
from ingestd.correlate.base import IncidentView


@dataclass(frozen=True, slots=True)
class Explanation:
    root_ci: str | None
    root_inferred: bool
    affected: list[str]
    paths: dict[str, list[str]]
    """For each affected CI, the dependency path from it down to the root (both included)."""
    blast_radius: list[str]
    """Business services that depend on the root."""


def explain(view: IncidentView, cmdb: Cmdb) -> Explanation:
    root = view.root_ci
    affected = sorted(c for c in view.cis if c in cmdb)
    paths: dict[str, list[str]] = {}
    if root is not None:
        for ci in affected:
            p = cmdb.path(ci, root)
            if p is not None:
                paths[ci] = p
    blast = sorted(cmdb.blast_radius(root)) if root is not None and root in cmdb else []
    return Explanation(root, view.root_inferred, affected, paths, blast)
