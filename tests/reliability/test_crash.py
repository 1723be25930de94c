"""A 2xx means stored: SIGKILL under concurrent intake loses no acknowledged alert."""

from __future__ import annotations

import random

from tests.conftest import DaemonProcess

from .load import Tally, body, check_acked, crash_cycles, db_fingerprints, drive, integrity, metric


async def test_sigkill_right_after_the_last_2xx_loses_nothing(
        daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    tally = Tally()
    await drive(d.url, [body("last-ack", i, alerts=2) for i in range(300)], clients=24, tally=tally)
    d.kill()  # no drain, no checkpoint: only what was fsynced before each 2xx survives
    assert tally.acked_bodies == 300 and len(tally.acked) == 600
    d.start()
    check = check_acked(d.url, tally.acked)
    assert check.ok, (check.missing[:5], check.duplicated[:5])
    d.stop()
    assert integrity(d.tmp / "ingestd.db") == "ok"


async def test_sigkill_at_random_moments_under_load(daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    tally = Tally()
    bodies = [body("random-kill", i, alerts=2) for i in range(1500)]
    kills = await crash_cycles(d, bodies, clients=16, kills=3, rng=random.Random(8),
                               tally=tally)
    assert kills == 3, "the load ended before every kill"
    assert tally.statuses["connection error"] > 0  # the kills did hit bodies in flight
    assert tally.acked_bodies == 1500 and tally.unacked_bodies == 0
    check = check_acked(d.url, tally.acked)
    assert check.ok, (check.missing[:5], check.duplicated[:5])
    d.stop()
    db = d.tmp / "ingestd.db"
    assert integrity(db) == "ok"
    per_fp = db_fingerprints(db)  # the file agrees with the API: one episode each
    assert all(per_fp[fp] == 1 for fp in tally.acked)


async def test_group_commit_batches_concurrent_bodies(daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    tally = Tally()
    await drive(d.url, [body("batch", i) for i in range(400)], clients=32, tally=tally)
    hist = metric(d.url, "ingestd_commit_batch_size")
    batches = hist["ingestd_commit_batch_size_count"]
    items = hist["ingestd_commit_batch_size_sum"]
    single = hist['ingestd_commit_batch_size_bucket{le="1.0"}']
    assert items >= 400
    assert batches < items, "every body had a transaction of its own"
    assert batches - single > 0, "no transaction held more than one body"
