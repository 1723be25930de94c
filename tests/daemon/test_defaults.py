"""``make run``'s command with no flags serves the example configuration, ready in seconds."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import free_port


def test_serve_with_no_flags_is_ready_on_the_examples(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ingestd", "serve", "--auth", "none",
                             "--listen", f"127.0.0.1:{port}"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        ready = None
        while time.monotonic() < deadline and ready is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    ready = r.read()
            except OSError:
                assert proc.poll() is None, proc.communicate()[0].decode()
                time.sleep(0.1)
        assert ready is not None and b'"cmdb_cis":14' in ready
        assert (tmp_path / "data" / "ingestd.db").exists()  # the store is under ./data/
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0].decode()
    assert proc.returncode == 0, out
    assert "authentication is OFF" in out
