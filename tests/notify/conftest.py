from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from ingestd.notify.metrics import NotifyMetrics

from .recorder import Recorder


class VirtualClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> NotifyMetrics:
    return NotifyMetrics(registry)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    r = Recorder()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


REPO = Path(__file__).resolve().parents[2]
REDMINE_SCRIPT = REPO / "tests" / "e2e" / "redmine-test-server.sh"
REDMINE_KEY = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class RedmineServer:
    url: str
    api_key: str


def _redmine_installed() -> bool:
    return Path("/usr/share/redmine/bin/rails").exists() and shutil.which("thin") is not None


@pytest.fixture(scope="session")
def redmine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedmineServer]:
    """The real Redmine (Debian package) on 127.0.0.1, started once per test session."""
    if not _redmine_installed():
        if os.geteuid() != 0:
            pytest.skip("Redmine is not installed and installing it needs root "
                        f"(run: sudo {REDMINE_SCRIPT} install)")
        done = subprocess.run(["bash", str(REDMINE_SCRIPT), "install"], capture_output=True,
                              text=True, timeout=280)
        if done.returncode != 0 or not _redmine_installed():
            pytest.skip(f"Redmine could not be installed: {done.stderr[-500:]}")
    run = tmp_path_factory.mktemp("redmine")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = subprocess.run(["bash", str(REDMINE_SCRIPT), "start", str(run), str(port)],
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "REDMINE_TEST_API_KEY": REDMINE_KEY})
    if started.returncode != 0:
        pytest.fail(f"Redmine did not start: {started.stderr[-2000:]}")
    try:
        yield RedmineServer(f"http://127.0.0.1:{port}", REDMINE_KEY)
    finally:
        subprocess.run(["bash", str(REDMINE_SCRIPT), "stop", str(run)], timeout=60)
