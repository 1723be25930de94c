"""The store's disk fills up: intake answers 503, writes nothing half, recovers by itself."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess

from .load import INTAKE, body, check_acked, db_fingerprints, integrity, metric


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (needs root and mount(2))."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {done.stderr.strip() or done.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _post(url: str, raw: bytes) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url + INTAKE, data=raw, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_disk_full_answers_503_and_recovers(daemon_factory: type[DaemonProcess],
                                            small_fs: Path, tmp_path: Path) -> None:
    filler = small_fs / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024))
    d = daemon_factory()
    d.db = f"sqlite:///{small_fs / 'ingestd.db'}"
    d.start()
    acked: set[str] = set()
    refused: list[list[str]] = []
    statuses: list[int] = []
    seq = 0
    while len(refused) < 3 and seq < 400:  # each body ~100 KB; the disk holds far fewer
        seq += 1
        raw, fps = body("full", seq, alerts=4, annotation_bytes=24 * 1024)
        code, answer = _post(d.url, raw)
        statuses.append(code)
        if code == 200:
            acked.update(fps)
        else:
            assert code == 503, (code, answer)
            assert answer["error"] == "unavailable" and "retry" in answer["detail"]
            assert "disk full" in answer["detail"] or "failing" in answer["detail"], answer
            refused.append(fps)
    assert refused, f"the disk never filled ({seq} bodies stored)"
    print(f"disk full: {statuses.count(200)} bodies stored, then {statuses.count(503)} answered 503")
    assert set(statuses) <= {200, 503}
    last_raw, last_fps = body("full", seq, alerts=4, annotation_bytes=24 * 1024)
    # Space returns: the same body is taken again with no restart.
    os.unlink(filler)
    for _ in range(100):
        code, answer = _post(d.url, last_raw)
        if code == 200:
            break
        assert code == 503, answer
        time.sleep(0.1)
    assert code == 200, answer
    acked.update(last_fps)
    failures = metric(d.url, "ingestd_commit_failures_total")
    assert failures.get('ingestd_commit_failures_total{reason="disk full"}', 0) >= 1, failures
    check = check_acked(d.url, acked)
    assert check.ok, (check.missing[:3], check.duplicated[:3])
    assert d.terminate() == 0
    db = small_fs / "ingestd.db"
    assert integrity(db) == "ok"
    stored = db_fingerprints(db)
    for fps in refused[:-1]:  # refused and never re-sent: none of the body is there
        assert not any(stored[fp] for fp in fps if fp not in acked)
