"""How incidents look in the API (CONTRACT section 3)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from ingestd.cmdb import Cmdb
from ingestd.pipeline.book import SYSTEM
from ingestd.store.codec import parse_ts, ts
from ingestd.store.records import EpisodeRecord, IncidentRecord, TimelineRecord


def alert_entry(e: EpisodeRecord) -> dict[str, Any]:
    return {
        "fingerprint": e.fingerprint, "starts_at": ts(e.starts_at), "ends_at": ts(e.ends_at),
        "status": "resolved" if e.ends_at else "firing", "alertname": e.alertname, "ci": e.ci,
        "severity": e.severity,
    }


def incident_summary(r: IncidentRecord, episodes: list[EpisodeRecord]) -> dict[str, Any]:
    return {
        "id": r.id, "status": r.status.value, "priority": r.priority.value,
        "priority_reason": r.priority_reason, "title": r.title, "root_ci": r.root_ci,
        "root_inferred": r.root_inferred, "cis": list(r.cis), "team": r.team,
        "assignee": r.assignee, "opened_at": ts(r.opened_at), "created_at": ts(r.created_at),
        "updated_at": ts(r.updated_at), "acknowledged_at": ts(r.acknowledged_at),
        "acknowledged_by": r.acknowledged_by, "resolved_at": ts(r.resolved_at),
        "alert_count": r.alert_count, "firing_count": r.firing_count, "tags": list(r.tags),
        "runbook_url": r.runbook_url, "receivers": list(r.receivers),
        "suppressed": r.suppressed, "linked_to": r.linked_to, "merged_into": r.merged_into,
        "suspects": list(r.suspects), "problem_id": r.problem_id,
        "alerts": [alert_entry(e) for e in episodes],
    }


def incident_detail(r: IncidentRecord, episodes: list[EpisodeRecord],
                    timeline: list[TimelineRecord], cmdb: Cmdb) -> dict[str, Any]:
    doc = incident_summary(r, episodes)
    doc["labels"] = dict(r.labels)
    doc["blast_radius"] = sorted(cmdb.blast_radius(r.root_ci)) if r.root_ci else []
    doc["paths"] = _paths(r, cmdb)
    doc["timeline"] = [
        {"at": ts(t.at), "kind": t.kind, "actor": t.actor, "detail": t.detail}
        for t in with_alert_entries(timeline, episodes)
    ]
    return doc


def with_alert_entries(timeline: list[TimelineRecord],
                       episodes: list[EpisodeRecord]) -> list[TimelineRecord]:
    """The incident's timeline in time order, with an "alert" entry for each of its alerts.

    Alerts joining an incident are not stored as timeline rows (the episodes hold the
    same facts, and a row per alert cost a write per alert): each becomes an entry at its
    start, when it joined, as "firing" (an episode joins its incident when it fires; its
    resolve shows in ``alerts``). Stored rows are kept in the order they were written
    where their times agree; rows of kind "alert" that an older version stored give way
    to these entries. At the same time the incident's "opened" comes first, then its
    alerts, then what they caused (a reopen, a new root, a merge).
    """
    stored = [t for t in timeline if t.kind != "alert"]
    alerts = [_alert_entry(e) for e in sorted(episodes, key=lambda e: (e.starts_at, e.key))]
    return sorted(stored + alerts, key=_time_order)


def _alert_entry(e: EpisodeRecord) -> TimelineRecord:
    return TimelineRecord(e.incident_id, e.starts_at, "alert", SYSTEM, {
        "episode": e.key, "fingerprint": e.fingerprint, "alertname": e.alertname, "ci": e.ci,
        "status": "firing"})


def _time_order(t: TimelineRecord) -> tuple[datetime, int]:
    return t.at, 0 if t.kind == "opened" else 1 if t.kind == "alert" else 2


def _paths(r: IncidentRecord, cmdb: Cmdb) -> dict[str, list[str]]:
    """For each affected CI, the dependency path from it to the root."""
    import networkx as nx

    out: dict[str, list[str]] = {}
    if not r.root_ci or r.root_ci not in cmdb.graph:
        return out
    for ci in r.cis:
        if ci == r.root_ci or ci not in cmdb.graph:
            continue
        try:
            out[ci] = nx.shortest_path(cmdb.graph, ci, r.root_ci)
        except nx.NetworkXNoPath:
            continue
    return out


def encode_cursor(r: IncidentRecord) -> str:
    raw = f"{ts(r.opened_at)}|{r.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(c: str) -> tuple[datetime, str]:
    raw = base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)).decode()
    at, _, incident = raw.partition("|")
    parsed = parse_ts(at)
    if parsed is None or not incident:
        raise ValueError("bad cursor")
    return parsed, incident
