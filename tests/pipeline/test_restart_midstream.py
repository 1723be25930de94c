"""A long mixed stream with a restart from the store half-way keeps being placed (no crash loop)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SCENARIOS


def test_mixed_stream_with_a_restart_half_way_runs_to_the_end(tmp_path: Path) -> None:
    # Every alert role, re-sends, resolves, flaps, missed resolves, late HA copies, unmapped
    # alerts and due timers, with the pipeline rebuilt from SQLite in the middle
    # (bench/pipeline.py digest). Certificate alerts restored after the restart once broke it.
    rules = tmp_path / "rules"
    rules.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "bench.pipeline", "digest", "--seed", "3",
         "--cmdb", str(SCENARIOS / "s0004-sockshop" / "cmdb.yaml"), "--rules", str(rules)],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "database " in done.stdout
