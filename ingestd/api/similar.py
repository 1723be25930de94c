"""Knowledge for an incident: the most similar resolved incidents and how they were resolved."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ingestd.api.state import RUNTIME
from ingestd.context.similar import Candidate, rank
from ingestd.store.codec import ts


async def similar_incidents(request: web.Request, root_ci: str | None,
                            alertnames: frozenset[str], exclude: str) -> list[dict[str, Any]]:
    """The most similar resolved incidents, with how they were resolved."""
    rt = request.app[RUNTIME]
    root = rt.cmdb.get(root_ci)
    if root is None:
        return []
    roots = [c.id for c in rt.cmdb.cis.values() if c.type == root.type][:2000]
    rows = await rt.store.resolved_with_roots(roots, 200)
    rows = [r for r in rows if r.id != exclude]
    eps = await rt.store.episodes_for([r.id for r in rows])
    candidates = []
    for r in rows:
        candidates.append(Candidate(
            r.id, r.root_ci, frozenset(e.alertname for e in eps[r.id]), r.resolved_at,
            r.opened_at, r.created_at, r.title, ""))
    ranked = rank(rt.cmdb, root_ci, alertnames, candidates, limit=5)
    out = []
    for score, c in ranked:
        timeline = await rt.store.incident_timeline(c.id)
        notes = [str(t.detail.get("note")) for t in timeline
                 if t.kind == "resolved" and t.detail.get("note")]
        took = None
        if c.resolved_at and c.created_at:
            took = (c.resolved_at - c.created_at).total_seconds()
        out.append({"id": c.id, "title": c.title, "root_ci": c.root_ci, "score": score,
                    "resolution": notes[-1] if notes else None, "time_to_resolve_s": took,
                    "opened_at": ts(c.opened_at)})
    out.sort(key=lambda d: (d["resolution"] is not None, d["score"]), reverse=True)
    return out
