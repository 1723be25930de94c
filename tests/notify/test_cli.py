"""``ingestd notify test`` and ``ingestd notify check`` as an SRE runs them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from .recorder import Recorder

REPO = Path(__file__).resolve().parents[2]


async def ingestd(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ingestd", *args, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_notify_test_sends_a_sample_to_the_receiver(recorder: Recorder, tmp_path: Path) -> None:
    f = tmp_path / "receivers.yaml"
    f.write_text(f"receivers:\n  - name: ding\n    type: dingtalk\n    url: {recorder.url('/robot')}\n")
    code, out, err = await ingestd("notify", "test", "ding", "--receivers", str(f))
    assert code == 0, err
    assert "ding (dingtalk): sample opened notification for INC-SAMPLE-" in out
    (req,) = recorder.at("/robot")
    assert req.json()["markdown"]["title"].startswith("[P1] OPENED: disk full on db01")

    recorder.on("/robot", 500)
    code, _, err = await ingestd("notify", "test", "ding", "--receivers", str(f), "--event", "resolved")
    assert code == 1 and "sending failed (would retry): HTTP 500" in err

    code, _, err = await ingestd("notify", "test", "pager", "--receivers", str(f))
    assert code == 2 and 'no receiver \'pager\' (defined: ding)' in err


async def test_notify_check_reports_problems_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "receivers.yaml"
    f.write_text("receivers:\n  - name: x\n    type: slack\n    url: http://127.0.0.1/\n    chanel: ops\n")
    code, _, err = await ingestd("notify", "check", "--receivers", str(f))
    assert code == 2
    assert f"{f}:5: receiver 'x': unknown key 'chanel' for type slack" in err
    code, out, _ = await ingestd("notify", "check", "--receivers", str(REPO / "rules" / "receivers.yaml"))
    assert code == 0 and "receivers OK" in out
