"""Knowledge: resolved incidents that look like this one, best first.

Similar means the same root CI, or a root CI of the same type with alert names in
common. The score favours the same root, more shared alert names, and recency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingestd.cmdb import Cmdb


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    root_ci: str | None
    alertnames: frozenset[str]
    resolved_at: datetime | None
    opened_at: datetime
    created_at: datetime | None
    title: str
    resolution: str


def rank(cmdb: Cmdb, root_ci: str | None, alertnames: frozenset[str],
         candidates: list[Candidate], limit: int = 5) -> list[tuple[float, Candidate]]:
    root = cmdb.get(root_ci)
    scored = []
    for c in candidates:
        shared = len(alertnames & c.alertnames)
        same_root = root_ci is not None and c.root_ci == root_ci
        other = cmdb.get(c.root_ci)
        same_type = root is not None and other is not None and other.type == root.type
        if not same_root and not (same_type and shared):
            continue
        score = (2.0 if same_root else 0.0) + shared / max(1, len(alertnames | c.alertnames))
        score += 0.5 if c.resolution else 0.0
        scored.append((round(score, 3), c))
    scored.sort(key=lambda sc: (sc[0], sc[1].opened_at), reverse=True)
    return scored[:limit]
