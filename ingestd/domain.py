"""Domain types shared by every stage of the pipeline.

Everything here is plain data: frozen dataclasses and enums with no I/O.
Times are timezone-aware UTC datetimes. Label sets are immutable mappings.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

Labels = Mapping[str, str]

EMPTY_LABELS: Labels = MappingProxyType({})


def frozen_labels(d: Mapping[str, str] | None) -> Labels:
    """An immutable copy of a label map."""
    if not d:
        return EMPTY_LABELS
    return MappingProxyType(dict(d))


def utcnow() -> datetime:
    return datetime.now(UTC)


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        return self in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)


class Priority(enum.StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """0 is the most urgent."""
        return int(self.value[1])


class Criticality(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as a source sent it, normalised.

    ``ends_at`` is None while the alert fires (Alertmanager's zero time
    ``0001-01-01T00:00:00Z`` becomes None).
    """

    fingerprint: str
    status: AlertStatus
    labels: Labels
    annotations: Labels
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str = ""
    source: str = "alertmanager"
    annotations_hash: int = field(init=False, compare=False, repr=False)
    """Tells a re-send whose annotations changed (and must be written) from one that only
    counts as seen, without looking at them again: intake hands a re-send the same Alert."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "annotations_hash", hash(tuple(self.annotations.items())))

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")


@dataclass(frozen=True, slots=True)
class Episode:
    """One firing of one fingerprint, from its ``starts_at`` until it resolves.

    ``key`` is unique across the store (``starts_at@fingerprint``). It begins with the
    time so that new episodes land at the end of the store's index on it, not at random
    places (fingerprints are hashes): a batch of new alerts then rewrites a few index pages
    rather than one per alert. Keys are opaque: stores keep the ones they hold, whatever
    their form.
    """

    key: str
    fingerprint: str
    alertname: str
    ci: str | None
    severity: str
    labels: Labels
    starts_at: datetime
    ends_at: datetime | None = None

    @property
    def resolved(self) -> bool:
        return self.ends_at is not None

    @staticmethod
    def make_key(fingerprint: str, starts_at: datetime) -> str:
        return f"{starts_at.isoformat()}@{fingerprint}"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor: str
    detail: Mapping[str, object] = field(default_factory=dict)
