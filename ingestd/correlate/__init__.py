"""Correlation: which incident does an alert episode belong to, and what caused it."""

from ingestd.correlate.base import (
    Change,
    CorrelationSettings,
    Correlator,
    EpisodeAttached,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
    IncidentsMerged,
    IncidentView,
    RootChanged,
)

__all__ = [
    "Change",
    "CorrelationSettings",
    "Correlator",
    "EpisodeAttached",
    "IncidentOpened",
    "IncidentReopened",
    "IncidentResolved",
    "IncidentView",
    "IncidentsMerged",
    "RootChanged",
]
