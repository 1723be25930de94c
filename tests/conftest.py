"""Shared fixtures: a daemon run as a real subprocess, free ports, the real fixture bodies."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if not SHARED.exists():  # CI clones main with shared/ beside it
    SHARED = Path(os.environ.get("INGESTD_SHARED", "/work/shared"))
FIXTURES = SHARED / "fixtures" / "alertmanager"
SCENARIOS = SHARED / "scenarios"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fixture_bodies() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.json"))}


class DaemonProcess:
    """``ingestd serve`` as a subprocess on a free port; restartable on the same store."""

    def __init__(self, tmp: Path, cmdb: Path, extra: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.cmdb = cmdb
        self.db = f"sqlite:///{tmp / 'ingestd.db'}"
        self.extra = extra or []
        self.env = env or {}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "daemon.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 20.0) -> None:
        import urllib.request

        args = [sys.executable, "-m", "ingestd", "serve", "--listen", f"127.0.0.1:{self.port}",
                "--cmdb", str(self.cmdb), "--db", self.db, *self.extra]
        if "--tokens" not in self.extra and "--auth" not in self.extra:
            args += ["--auth", "none"]
        if "--rules" not in self.extra:
            args += ["--rules", str(ROOT / "rules")]
        logf = self.log.open("ab")
        self.proc = subprocess.Popen(args, cwd=self.tmp, stdout=logf, stderr=logf,
                                     env={**os.environ, **self.env})
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ingestd exited {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"ingestd not ready after {wait}s:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def example_cmdb(tmp_path: Path) -> Path:
    return ROOT / "cmdb.yaml"


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[type[DaemonProcess]]:
    started: list[DaemonProcess] = []

    class Factory(DaemonProcess):
        def __init__(self, cmdb: Path | None = None, extra: list[str] | None = None,
                     env: dict[str, str] | None = None, tmp: Path | None = None) -> None:
            super().__init__(tmp or tmp_path, cmdb or (ROOT / "cmdb.yaml"), extra, env)
            started.append(self)

    yield Factory
    for d in started:
        d.stop()


def load_json(path: Path) -> object:
    return json.loads(path.read_text())
