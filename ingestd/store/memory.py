"""A store that lives in memory: for ``ingestd replay`` and for tests of the pipeline.

It keeps what a batch writes about incidents, episodes and the timeline, with the
same merge and resolve semantics as the SQL stores, and nothing durable.
"""

from __future__ import annotations

import dataclasses

from ingestd.store.records import (
    EpisodeRecord,
    IncidentQuery,
    IncidentRecord,
    TimelineRecord,
    WriteBatch,
)


class MemoryStore:
    def __init__(self) -> None:
        self.incidents: dict[str, IncidentRecord] = {}
        self.episodes: dict[str, EpisodeRecord] = {}
        self.timeline: list[TimelineRecord] = []

    async def apply(self, batch: WriteBatch) -> None:
        self.apply_now(batch)

    def apply_now(self, b: WriteBatch) -> None:
        for key, ep in b.episodes.items():
            self.episodes[key] = dataclasses.replace(ep)
        for key, at in b.episode_ends.items():
            if key in self.episodes:
                self.episodes[key].ends_at = at
        for source, target in b.moves:
            for ep in self.episodes.values():
                if ep.incident_id == source:
                    ep.incident_id = target
        for rec in b.incidents.values():
            self.incidents[rec.id] = dataclasses.replace(rec, cis=list(rec.cis))
        self.timeline.extend(b.timeline)

    def query(self, q: IncidentQuery) -> list[IncidentRecord]:
        rows = [r for r in self.incidents.values()
                if r.merged_into is None and r.status in q.status
                and (not q.team or r.team == q.team) and (not q.ci or q.ci in r.cis)
                and (not q.priority or r.priority.value in q.priority)]
        return sorted(rows, key=lambda r: (r.opened_at, r.id), reverse=True)

    async def list_incidents(self, q: IncidentQuery) -> list[IncidentRecord]:
        return self.query(q)[: q.limit]

    def episodes_of(self, incident_ids: list[str]) -> dict[str, list[EpisodeRecord]]:
        out: dict[str, list[EpisodeRecord]] = {i: [] for i in incident_ids}
        for ep in self.episodes.values():
            if ep.incident_id in out:
                out[ep.incident_id].append(ep)
        for eps in out.values():
            eps.sort(key=lambda e: (e.starts_at, e.key))
        return out

    async def episodes_for(self, incident_ids: list[str]) -> dict[str, list[EpisodeRecord]]:
        return self.episodes_of(incident_ids)
