"""A fault that keeps coming back becomes a problem record.

The same fault is the same root CI with the same leading alert name. When it opens
its ``threshold``-th incident within ``period``, a problem is opened linking those
incidents; later recurrences attach to the open problem.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingestd.correlate.base import IdFactory
from ingestd.store.records import IncidentRecord, ProblemRecord


@dataclass(frozen=True, slots=True)
class RecurrencePolicy:
    threshold: int = 3
    period: timedelta = timedelta(days=7)


def signature(root_ci: str | None, alertname: str) -> str | None:
    if not root_ci or not alertname:
        return None
    return f"{root_ci}|{alertname}"


class RecurrenceTracker:
    def __init__(self, policy: RecurrencePolicy, new_id: IdFactory) -> None:
        self.policy = policy
        self._new_id = new_id
        self._seen: dict[str, deque[tuple[datetime, str]]] = {}
        self.open_problems: dict[str, ProblemRecord] = {}
        """Signature -> its open problem."""

    def remember(self, sig: str, at: datetime, incident_id: str) -> None:
        self._seen.setdefault(sig, deque()).append((at, incident_id))

    def observe(self, rec: IncidentRecord, sig: str, at: datetime) -> ProblemRecord | None:
        """Count this incident; return the problem it now belongs to, if any."""
        seen = self._seen.setdefault(sig, deque())
        if any(i == rec.id for _, i in seen):
            return None
        seen.append((at, rec.id))
        while seen and seen[0][0] < at - self.policy.period:
            seen.popleft()
        problem = self.open_problems.get(sig)
        if problem is not None:
            if rec.id not in problem.incidents:
                problem.incidents.append(rec.id)
            return problem
        if len(seen) < self.policy.threshold:
            return None
        problem = ProblemRecord(id=self._new_id(at).replace("inc-", "prb-"), status="open",
                                root_ci=rec.root_ci, signature=sig, opened_at=at, team=rec.team,
                                incidents=[i for _, i in seen])
        self.open_problems[sig] = problem
        return problem

    def closed(self, problem: ProblemRecord) -> None:
        if self.open_problems.get(problem.signature) is problem:
            del self.open_problems[problem.signature]
