"""``ingestd backup`` under load, then ``ingestd restore``: everything acknowledged before is back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.conftest import DaemonProcess

from .load import Tally, body, check_acked, drive, integrity


def ingestd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ingestd", *args], capture_output=True,
                          text=True, timeout=120, check=False)


async def test_backup_under_load_restores_everything_acknowledged_before_it(
        daemon_factory: type[DaemonProcess], tmp_path: Path) -> None:
    d = daemon_factory()
    d.start()
    tally = Tally()
    load = asyncio.create_task(
        drive(d.url, [body("backup", i, alerts=2) for i in range(6000)], clients=16, tally=tally))
    for _ in range(3000):  # until 300 bodies are acknowledged
        if tally.acked_bodies >= 300:
            break
        await asyncio.sleep(0.02)
    before = set(tally.acked)  # acknowledged before the backup began
    copy = tmp_path / "backup.db"
    done = await asyncio.to_thread(ingestd, "backup", str(copy), "--db", d.db)
    during = tally.acked_bodies
    await load
    assert done.returncode == 0, done.stderr
    assert "integrity ok" in done.stdout
    assert during < 6000, "the load was over before the backup finished"
    assert integrity(copy) == "ok"

    # The live store is in use: restore refuses it.
    refused = ingestd("restore", str(copy), "--db", d.db)
    assert refused.returncode == 1 and "in use" in refused.stderr
    d.stop()

    restored = tmp_path / "restored"
    restored.mkdir()
    r = daemon_factory(tmp=restored)
    done = ingestd("restore", str(copy), "--db", r.db)
    assert done.returncode == 0, done.stderr
    r.start()
    check = check_acked(r.url, before)
    assert check.ok, (len(check.missing), check.duplicated[:3])
    assert check.episodes >= len(before)  # and whatever was committed during the copy


def test_restore_refuses_a_broken_backup(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\0" + b"\x13" * 4096)
    target = tmp_path / "store.db"
    done = ingestd("restore", str(bad), "--db", f"sqlite:///{target}")
    assert done.returncode == 1
    assert str(bad) in done.stderr
    assert not target.exists() or target.stat().st_size == 0


def test_backup_refuses_to_overwrite_and_postgres(tmp_path: Path) -> None:
    existing = tmp_path / "b.db"
    existing.write_text("keep")
    store = tmp_path / "store.db"
    import sqlite3

    sqlite3.connect(store).close()
    done = ingestd("backup", str(existing), "--db", f"sqlite:///{store}")
    assert done.returncode == 1 and "--force" in done.stderr
    assert existing.read_text() == "keep"
    done = ingestd("backup", str(existing), "--db", "postgresql://ingestd@127.0.0.1/ingestd")
    assert done.returncode == 1 and "pg_dump" in done.stderr
