"""Rebuild the pipeline's in-memory state from the store after a start or a failed commit."""

from __future__ import annotations

from datetime import timedelta

from ingestd.context.recurrence import signature
from ingestd.correlate import IncidentView
from ingestd.domain import Episode, frozen_labels
from ingestd.maintenance.stored import window_from_doc
from ingestd.pipeline.processor import Processor
from ingestd.store.base import Store

KEEP_RESOLVED = timedelta(days=2)


async def restore(processor: Processor, store: Store) -> None:
    since = processor.clock() - KEEP_RESOLVED
    recent = getattr(store, "recent_alerts", None)
    if recent is not None:  # the rest is looked up when it arrives (Committer._recall)
        for k in await recent(since):
            processor.tracker.remember(k.fingerprint, k.episode, k.starts_at, k.ends_at, k.seen)
    else:
        for a in await store.load_alerts():
            processor.tracker.remember(a.fingerprint, a.episode, a.starts_at, a.ends_at, a.seen)
    records = [r for r in await store.load_active_incidents(since) if r.merged_into is None]
    by_incident: dict[str, list[Episode]] = {r.id: [] for r in records}
    for e in await store.load_episodes([r.id for r in records]):
        by_incident[e.incident_id].append(Episode(
            e.key, e.fingerprint, e.alertname, e.ci, e.severity, frozen_labels(e.labels),
            e.starts_at, e.ends_at))
    views = []
    all_eps: list[Episode] = []
    for r in records:
        eps = by_incident[r.id]
        processor.book.load(r, eps)
        processor.notices.remember(r)
        all_eps.extend(eps)
        views.append(IncidentView(
            id=r.id, opened_at=r.opened_at, last_activity=r.last_activity or r.opened_at,
            episodes={e.key for e in eps}, cis=set(r.cis), root_ci=r.root_ci,
            root_inferred=r.root_inferred,
            resolved_at=None if r.status.is_active else (r.resolved_at or r.updated_at),
            fingerprints={e.fingerprint for e in eps},
        ))
    processor.correlator.restore(views, all_eps)
    window = processor.changes.window
    processor.changes.load(await store.list_changes(None, processor.clock() - 4 * window, 100_000))
    for p in await store.list_problems("open", 10_000):
        processor.recurrence.open_problems[p.signature] = p
    for doc in await store.list_windows():
        processor.windows[doc["name"]] = window_from_doc(doc)
    for r in records:
        sig = signature(r.root_ci, r.labels.get("alertname", ""))
        if sig:
            processor.recurrence.remember(sig, r.opened_at, r.id)
