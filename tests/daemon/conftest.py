"""A rules directory whose receivers are a recording HTTP server, and short SLA clocks."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.notify.recorder import Recorder

RECEIVERS = ("slack-ops", "slack-netops", "slack-dba", "slack-shop", "mail-management")


def rules_dir(tmp: Path, recorder: Recorder, sla: str | None = None) -> Path:
    """The example rules, every receiver a webhook to ``recorder`` (path /NAME)."""
    d = tmp / "rules"
    d.mkdir()
    for name in ("routes.yaml", "teams.yaml", "priority.yaml"):
        shutil.copy(ROOT / "rules" / name, d / name)
    shutil.copy(ROOT / "rules" / "sla.yaml", d / "sla.yaml")
    if sla is not None:
        (d / "sla.yaml").write_text(sla)
    hooks = "\n".join(f"  - {{name: {n}, type: webhook, url: '{recorder.url('/' + n)}'}}"
                      for n in RECEIVERS)
    (d / "receivers.yaml").write_text(f"receivers:\n{hooks}\n")
    return d


@pytest.fixture
async def hooks() -> AsyncIterator[Recorder]:
    rec = Recorder()
    await rec.start()
    yield rec
    await rec.stop()
