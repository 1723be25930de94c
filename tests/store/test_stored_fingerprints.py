"""The SQLite store answers "never stored" from a Bloom filter of its fingerprints, so
that a storm of new alerts is not looked up one by one. It must never miss one it holds:
when opened again, and after it outgrows its size. (A re-send of an alert resolved days
ago, after a restart: tests/pipeline/test_committer.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd.store import stored_fingerprints
from ingestd.store.records import AlertRecord, WriteBatch
from ingestd.store.sqlite import SqliteStore
from ingestd.store.stored_fingerprints import StoredFingerprints

NOW = datetime.now(UTC)


def records(first: int, n: int) -> WriteBatch:
    b = WriteBatch()
    for i in range(first, first + n):
        fp = f"{i:016x}"
        b.alerts[fp] = AlertRecord(fp, "alertmanager", {"alertname": "A"}, {}, "firing", NOW,
                                   None, f"{NOW.isoformat()}@{fp}", NOW)
    return b


async def test_every_stored_alert_is_found_after_the_filter_outgrows_its_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stored_fingerprints, "MIN_CAPACITY", 100)
    store = SqliteStore(tmp_path / "i.db")
    await store.open()
    try:
        for first in range(0, 1000, 50):
            await store.apply(records(first, 50))
        found = await store.lookup_alerts([f"{i:016x}" for i in range(1000)])
        assert len(found) == 1000
        assert store._stored is not None and store._stored.capacity >= 1000  # rebuilt bigger
    finally:
        await store.close()
    store = SqliteStore(tmp_path / "i.db")  # and when opened again
    await store.open()
    try:
        assert len(await store.lookup_alerts([f"{i:016x}" for i in range(1000)])) == 1000
    finally:
        await store.close()


def test_the_filter_says_never_stored_for_nearly_every_new_fingerprint() -> None:
    stored = StoredFingerprints((f"{i:016x}" for i in range(100_000)), 100_000)
    assert all(f"{i:016x}" in stored for i in range(100_000))
    maybe = sum(f"new-{i:012x}" in stored for i in range(100_000))
    assert maybe < 2_000  # sized for 1 in 100
