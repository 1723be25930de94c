"""Build a store holding many alerts quickly, through the store's own ``apply()``.

The rows are what the pipeline would have written for a long history: incidents
of ``per_incident`` alerts each, nearly all resolved days ago, a few still open.
Writing them as large batches skips HTTP and correlation, so a million alerts
take a minute rather than an hour.

    python -m bench.bigdb /tmp/big.db --alerts 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.loadgen import default_labels
from ingestd.domain import Episode, IncidentStatus, Priority
from ingestd.store.records import AlertRecord, EpisodeRecord, IncidentRecord, WriteBatch
from ingestd.store.sqlite import SqliteStore


async def build(path: str, alerts: int, per_incident: int = 20, open_share: float = 0.01,
                batch_alerts: int = 20_000, now: datetime | None = None) -> dict[str, float]:
    """Write ``alerts`` alerts (each one episode) grouped into incidents; return timings."""
    now = now or datetime.now(UTC)
    store = SqliteStore(path)
    await store.open()
    started = time.perf_counter()
    n_incidents = (alerts + per_incident - 1) // per_incident
    open_every = max(1, round(1 / open_share)) if open_share > 0 else 0
    history = timedelta(days=180)
    written = 0
    try:
        batch = WriteBatch()
        for inc_no in range(n_incidents):
            is_open = bool(open_every) and inc_no % open_every == open_every - 1
            opened = (now - timedelta(hours=1) + timedelta(seconds=inc_no % 3600)) if is_open \
                else now - history + history * (inc_no / n_incidents) * 0.98
            inc_id = f"inc-{int(opened.timestamp() * 1e6):014x}{inc_no:06x}"
            resolved = None if is_open else opened + timedelta(minutes=30)
            cis: set[str] = set()
            first_labels: dict[str, str] = {}
            for j in range(min(per_incident, alerts - written)):
                t = default_labels(written)
                labels = dict(t.labels)
                labels["incident"] = str(inc_no)  # distinct fingerprints across incidents
                fp = hashlib.blake2b(repr(sorted(labels.items())).encode(),
                                     digest_size=8).hexdigest()  # cheaper than FNV, same shape
                starts = opened + timedelta(seconds=j)
                ends = resolved
                key = Episode.make_key(fp, starts)
                ci = labels["instance"].split(":")[0]
                cis.add(ci)
                first_labels = first_labels or labels
                batch.alerts[fp] = AlertRecord(
                    fingerprint=fp, source="alertmanager", labels=labels,
                    annotations=dict(t.annotations),
                    status="resolved" if ends else "firing", starts_at=starts, ends_at=ends,
                    episode=key, last_seen=ends or now, seen=3,
                    generator_url="http://prometheus:9090/graph?g0.expr=up")
                batch.episodes[key] = EpisodeRecord(
                    key, fp, inc_id, starts, ends, ci, labels["alertname"], labels["severity"],
                    labels)
                written += 1
            batch.incidents[inc_id] = IncidentRecord(
                id=inc_id, status=IncidentStatus.OPEN if is_open else IncidentStatus.RESOLVED,
                opened_at=opened, updated_at=resolved or opened, created_at=opened,
                title=f"{first_labels.get('alertname', 'alert')} (+{per_incident - 1} related)",
                priority=Priority.P2, priority_reason="bench", root_ci=sorted(cis)[0],
                cis=sorted(cis), team="infra", labels=first_labels,
                alert_count=per_incident, firing_count=per_incident if is_open else 0,
                last_activity=opened, resolved_at=resolved)
            if len(batch.alerts) >= batch_alerts:
                await store.apply(batch)
                batch = WriteBatch()
        if batch:
            await store.apply(batch)
    finally:
        await store.close()
    return {"alerts": written, "incidents": n_incidents,
            "seconds": round(time.perf_counter() - started, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bigdb")
    p.add_argument("path", help="SQLite file to create")
    p.add_argument("--alerts", type=int, default=1_000_000)
    a = p.parse_args(argv)
    print(asyncio.run(build(a.path, a.alerts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
