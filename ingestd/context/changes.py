"""Changes reported on CIs, and which of them are suspects for an incident.

A change is a suspect when it touched the incident's root CI or something the
root depends on, and it began within ``window`` before the incident did, or it
began earlier but its reported end falls within that window.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime, timedelta

from ingestd.cmdb import Cmdb
from ingestd.store.codec import ts
from ingestd.store.records import ChangeRecord

DEFAULT_WINDOW = timedelta(hours=2)


class ChangeLog:
    """Recent changes indexed by CI, each list in start order."""

    def __init__(self, window: timedelta = DEFAULT_WINDOW) -> None:
        self.window = window
        self._by_ci: dict[str, list[tuple[datetime, int, ChangeRecord]]] = {}
        self._n = 0

    def add(self, change: ChangeRecord) -> None:
        self._n += 1
        bisect.insort(self._by_ci.setdefault(change.ci, []),
                      (change.started_at, self._n, change), key=lambda t: (t[0], t[1]))

    def load(self, changes: Iterable[ChangeRecord]) -> None:
        for c in changes:
            self.add(c)

    def suspects(self, cmdb: Cmdb, root: str | None, began: datetime) -> list[ChangeRecord]:
        """Changes on ``root`` and its dependencies in the window before ``began``, latest first."""
        if root is None or not self._by_ci:
            return []
        cis = {root}
        if root in cmdb.graph:
            import networkx as nx

            cis |= set(nx.descendants(cmdb.graph, root))
        earliest = began - self.window
        found = []
        for ci in cis:
            for started, _, change in self._by_ci.get(ci, ()):
                if started > began:
                    break
                still_going = change.ended_at is not None and change.ended_at >= earliest
                if started >= earliest or still_going:
                    found.append(change)
        return sorted(found, key=lambda c: c.started_at, reverse=True)


def as_suspect(change: ChangeRecord, root: str | None) -> dict[str, object]:
    return {"id": change.id, "ci": change.ci, "summary": change.summary, "author": change.author,
            "kind": change.kind, "started_at": ts(change.started_at),
            "ended_at": ts(change.ended_at), "link": change.link,
            "on": "root" if change.ci == root else "dependency"}
