"""SIGTERM drains: a body in flight is committed, a new one gets 503, the process exits 0."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

from tests.conftest import DaemonProcess

from .load import INTAKE, all_incidents, body, check_acked


def _status(url: str, data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_sigterm_commits_the_body_in_flight_and_refuses_new_ones(
        daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    slow, slow_fps = body("drain", 1, alerts=3)
    late, late_fps = body("drain", 2, alerts=3)
    with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
        # Headers and half the body; "100 Continue" says the handler has the request.
        s.sendall((f"POST {INTAKE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(slow)}\r\nExpect: 100-continue\r\n\r\n").encode())
        assert s.recv(64).startswith(b"HTTP/1.1 100")
        s.sendall(slow[: len(slow) // 2])
        assert d.proc is not None
        d.proc.send_signal(15)
        for _ in range(200):  # until the signal is handled
            if _status(d.url + "/readyz")[0] == 503:
                break
            time.sleep(0.02)
        code, headers, answer = _status(d.url + INTAKE, late)
        assert code == 503, answer
        assert json.loads(answer)["error"] == "unavailable" and headers.get("Retry-After")
        s.sendall(slow[len(slow) // 2:])
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += s.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200"), reply
    assert d.proc.wait(30) == 0
    d.start()
    check = check_acked(d.url, set(slow_fps))
    assert check.ok, check
    stored = {a["fingerprint"] for i in all_incidents(d.url) for a in i["alerts"]}
    assert not set(late_fps) & stored
