"""The simplest policy: one incident per CI (or per fingerprint when no CI matches).

An episode joins the active incident of its CI; an incident resolves when all
its episodes have resolved. Useful as a baseline and where no graph is known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from ingestd.correlate.base import (
    Change,
    CorrelationSettings,
    EpisodeAttached,
    IncidentOpened,
    IncidentResolved,
    IncidentView,
)
from ingestd.domain import Episode


class PerCiCorrelator:
    def __init__(self, new_id: Callable[[datetime], str],
                 settings: CorrelationSettings | None = None) -> None:
        self.settings = settings or CorrelationSettings()
        self._new_id = new_id
        self._by_group: dict[str, str] = {}
        self._views: dict[str, IncidentView] = {}
        self._of: dict[str, str] = {}
        self._firing: dict[str, set[str]] = {}

    @staticmethod
    def _group(ep: Episode) -> str:
        return f"ci:{ep.ci}" if ep.ci else f"fp:{ep.fingerprint}"

    def firing(self, episode: Episode) -> Sequence[Change]:
        group = self._group(episode)
        inc = self._by_group.get(group)
        self._firing.setdefault(episode.key, set())
        if inc is not None and self._views[inc].active:
            view = self._views[inc]
            view.episodes.add(episode.key)
            view.last_activity = max(view.last_activity, episode.starts_at)
            self._of[episode.key] = inc
            return [EpisodeAttached(inc, episode.starts_at, episode.key)]
        inc = self._new_id(episode.starts_at)
        view = IncidentView(inc, episode.starts_at, episode.starts_at, {episode.key},
                            {episode.ci} if episode.ci else set(), episode.ci)
        self._views[inc] = view
        self._by_group[group] = inc
        self._of[episode.key] = inc
        return [IncidentOpened(inc, episode.starts_at, episode.key, episode.ci, False)]

    def resolved(self, episode: Episode) -> Sequence[Change]:
        inc = self._of.get(episode.key)
        if inc is None or episode.ends_at is None:
            return []
        self._firing.pop(episode.key, None)
        view = self._views[inc]
        if view.active and not any(k in self._firing for k in view.episodes):
            view.resolved_at = episode.ends_at
            return [IncidentResolved(inc, episode.ends_at, "all alerts resolved")]
        return []

    def tick(self, now: datetime) -> Sequence[Change]:
        return []

    def incident(self, incident_id: str) -> IncidentView | None:
        return self._views.get(incident_id)

    def incident_of(self, episode_key: str) -> str | None:
        return self._of.get(episode_key)

    def restore(self, incidents: Iterable[IncidentView], episodes: Iterable[Episode]) -> None:
        for view in incidents:
            self._views[view.id] = view
            for key in view.episodes:
                self._of[key] = view.id
        for ep in episodes:
            inc = self._of.get(ep.key)
            if inc is None:
                continue
            if ep.ends_at is None:
                self._firing[ep.key] = set()
            if self._views[inc].active:
                self._by_group[self._group(ep)] = inc
