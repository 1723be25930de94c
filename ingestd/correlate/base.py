"""The correlation stage's interface.

The pipeline hands every alert episode to a :class:`Correlator` in the order
the store accepted it; the correlator decides which incident the episode
belongs to and answers with the :data:`Change` records the store must persist
(and the timeline must show). The correlator keeps the open incidents in
memory; after a restart it is rebuilt from the store with :meth:`restore`.

Correlators are pure: no I/O, no wall clock. Time is the events' own time
(``starts_at`` / ``ends_at``) or the ``now`` the caller passes to ``tick``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ingestd.domain import Episode


@dataclass(frozen=True, slots=True)
class CorrelationSettings:
    window: timedelta = timedelta(minutes=10)
    """How long after a fault's onset it still shows new effects: an alert joins an incident
    only if its onset (``startsAt`` less the rule's known ``for``) lies within this window
    after the incident's onset, unless the incident's root is still failing."""
    slack: timedelta = timedelta(minutes=2)
    """Event-time jitter (scrape and evaluation intervals, unknown ``for``s): how much earlier
    than its cause an effect may seem to begin, or later than its first effect a cause."""
    max_hops: int = 4
    """How far apart in the dependency graph two CIs may be and still share an incident."""
    reopen_window: timedelta = timedelta(minutes=15)
    """A resolved incident whose fault fires again within this window reopens; 0: never."""
    max_age: timedelta = timedelta(days=7)
    """Past this age an incident takes no new alerts: they open a new, linked incident."""
    auto_resolve_after: timedelta | None = None
    """Resolve an incident whose alerts have been quiet this long (sources that never resolve)."""
    replica_types: frozenset[str] = frozenset({"host", "node", "vm", "server", "instance"})
    """CI types that are placements: a CI depending on several of one such type runs
    replicas on them, so one of them failing degrades it (a symptom) but does not
    make it fail."""
    infer_min_share: float = 0.5
    """Name a silent dependency as the root when MORE than this share of what directly
    depends on it are the alerting roots of open incidents (an unmonitored switch)."""


@dataclass(slots=True)
class IncidentView:
    """What correlation knows of one incident (open, or resolved but still reopenable)."""

    id: str
    opened_at: datetime
    last_activity: datetime
    episodes: set[str] = field(default_factory=set)
    cis: set[str] = field(default_factory=set)
    root_ci: str | None = None
    root_inferred: bool = False
    resolved_at: datetime | None = None
    fingerprints: set[str] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return self.resolved_at is None


# ---- changes the store persists -------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentOpened:
    incident: str
    at: datetime
    episode: str
    root_ci: str | None
    root_inferred: bool
    linked_to: str | None = None  # an older incident this one continues (max age)


@dataclass(frozen=True, slots=True)
class EpisodeAttached:
    incident: str
    at: datetime
    episode: str


@dataclass(frozen=True, slots=True)
class IncidentsMerged:
    """``source`` is folded into ``target``; all its episodes now belong to ``target``."""

    source: str
    target: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class RootChanged:
    incident: str
    at: datetime
    old_root: str | None
    new_root: str | None
    inferred: bool
    reason: str


@dataclass(frozen=True, slots=True)
class IncidentResolved:
    incident: str
    at: datetime
    reason: str  # "all alerts resolved" | "quiet for 2h (auto-resolve)"


@dataclass(frozen=True, slots=True)
class IncidentReopened:
    incident: str
    at: datetime
    episode: str


Change = (
    IncidentOpened
    | EpisodeAttached
    | IncidentsMerged
    | RootChanged
    | IncidentResolved
    | IncidentReopened
)

IdFactory = Callable[[datetime], str]


class Correlator(Protocol):
    settings: CorrelationSettings

    def firing(self, episode: Episode) -> Sequence[Change]:
        """A new episode began (or arrived already resolved: ``episode.ends_at`` set)."""

    def resolved(self, episode: Episode) -> Sequence[Change]:
        """A known episode resolved at ``episode.ends_at``."""

    def tick(self, now: datetime) -> Sequence[Change]:
        """Apply time-driven rules (auto-resolve, forgetting old incidents)."""

    def incident(self, incident_id: str) -> IncidentView | None: ...

    def incident_of(self, episode_key: str) -> str | None: ...

    def restore(self, incidents: Iterable[IncidentView], episodes: Iterable[Episode]) -> None:
        """Rebuild in-memory state from the store after a start."""
