"""Deduplication: turn each received alert into an episode event, or nothing.

Alertmanager re-sends whole groups on every ``group_interval`` and each peer
of an HA pair sends its own copy, so most of what arrives is already known.
The :class:`EpisodeTracker` keeps, per fingerprint, the latest episode (one
firing, from ``starts_at`` until it resolves) and classifies every arrival:

* ``NEW``       a firing (or already resolved) episode nobody has seen;
* ``RESOLVED``  the open episode of this fingerprint ended;
* ``REPEAT``    nothing changed but the seen-count (a re-send);
* ``STALE``     older news than what is known (a late HA copy): ignored.

It is pure and in memory; the store is its source of truth after a restart
(:meth:`EpisodeTracker.remember`).
"""

from __future__ import annotations

import enum
from collections.abc import KeysView
from dataclasses import dataclass
from datetime import datetime

from ingestd.domain import Alert, AlertStatus, Episode


class Outcome(enum.Enum):
    NEW = "new"
    RESOLVED = "resolved"
    REPEAT = "repeat"
    STALE = "stale"


@dataclass(slots=True)
class Known:
    """The latest episode of one fingerprint."""

    key: str
    starts_at: datetime
    ends_at: datetime | None
    seen: int = 1


@dataclass(slots=True)  # not frozen: one is made per received alert, and frozen inits are slow
class Classified:
    alert: Alert
    outcome: Outcome
    key: str
    starts_at: datetime
    ends_at: datetime | None
    closed_previous: str | None = None
    """Key of an open episode that this arrival implicitly ended (a missed resolve)."""


class EpisodeTracker:
    def __init__(self) -> None:
        self._known: dict[str, Known] = {}

    def __len__(self) -> int:
        return len(self._known)

    def get(self, fingerprint: str) -> Known | None:
        return self._known.get(fingerprint)

    @property
    def fingerprints(self) -> KeysView[str]:
        """Those held (``fp in tracker.fingerprints`` costs no call per alert)."""
        return self._known.keys()

    def remember(self, fingerprint: str, key: str, starts_at: datetime,
                 ends_at: datetime | None, seen: int = 1) -> None:
        """Load one fingerprint's latest episode from the store."""
        self._known[fingerprint] = Known(key, starts_at, ends_at, seen)

    def forget(self, fingerprint: str) -> None:
        self._known.pop(fingerprint, None)

    def classify(self, alert: Alert) -> Classified:
        """Classify one arrival and update the in-memory state accordingly."""
        fp = alert.fingerprint
        firing = alert.status is AlertStatus.FIRING
        ends_at = None if firing else (alert.ends_at or alert.starts_at)
        cur = self._known.get(fp)
        if cur is None:
            return self._new(alert, ends_at)
        cur.seen += 1
        if cur.ends_at is None:  # the known episode is open
            if alert.starts_at < cur.starts_at:
                return Classified(alert, Outcome.STALE, cur.key, cur.starts_at, cur.ends_at)
            if alert.starts_at == cur.starts_at:
                if firing:
                    return Classified(alert, Outcome.REPEAT, cur.key, cur.starts_at, None)
                cur.ends_at = ends_at
                return Classified(alert, Outcome.RESOLVED, cur.key, cur.starts_at, ends_at)
            # A later start while we thought it open: the resolve went missing.
            previous = cur.key
            cur.ends_at = alert.starts_at
            return self._new(alert, ends_at, closed_previous=previous)
        # The known episode has resolved.
        if alert.starts_at <= cur.starts_at:
            return Classified(alert, Outcome.STALE, cur.key, cur.starts_at, cur.ends_at)
        return self._new(alert, ends_at)

    def _new(self, alert: Alert, ends_at: datetime | None,
             closed_previous: str | None = None) -> Classified:
        key = Episode.make_key(alert.fingerprint, alert.starts_at)
        self._known[alert.fingerprint] = Known(key, alert.starts_at, ends_at)
        return Classified(alert, Outcome.NEW, key, alert.starts_at, ends_at, closed_previous)
