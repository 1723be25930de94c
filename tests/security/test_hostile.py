"""Hostile and broken input over HTTP: never a 5xx, never a partial write, bounded memory."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, DaemonProcess

from .secured import call

INTAKE = "/api/v1/alerts/alertmanager"
SEEN: Counter[int] = Counter()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    d = DaemonProcess(tmp_path_factory.mktemp("hostile"), ROOT / "cmdb.yaml")
    d.start()
    yield d
    d.stop()


def counts(d: DaemonProcess) -> dict[str, int]:
    with sqlite3.connect(d.tmp / "ingestd.db") as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("alerts", "episodes", "incidents", "timeline")}


def rss_kib(d: DaemonProcess) -> int:
    assert d.proc is not None
    for line in open(f"/proc/{d.proc.pid}/status"):  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def posted(d: DaemonProcess, raw: bytes) -> tuple[int, bytes]:
    before = counts(d)
    status, answer = call(d.url + INTAKE, "POST", raw)
    SEEN[status] += 1
    assert status < 500, answer[:300]
    if status >= 400:
        err = json.loads(answer)
        assert err["error"] and err["detail"] and "path" in err
        assert counts(d) == before, "a refused body left something behind"
    return status, answer


json_leaf = (st.none() | st.booleans() | st.integers() | st.text(max_size=30)
             | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(json_leaf, lambda x: st.lists(x, max_size=4)
                           | st.dictionaries(st.text(max_size=10), x, max_size=4), max_leaves=25)
alert_like = st.fixed_dictionaries(
    {"labels": st.dictionaries(st.text(max_size=12), st.text(max_size=40) | json_leaf,
                               max_size=5)},
    optional={"status": st.sampled_from(["firing", "resolved"]) | json_leaf,
              "startsAt": st.sampled_from(["2026-01-05T08:00:00Z", "2026-13-40T99:00:00Z",
                                           "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
              | json_leaf,
              "endsAt": json_leaf, "annotations": json_values, "fingerprint": json_leaf,
              "generatorURL": json_leaf})


def test_hypothesis_bodies_never_5xx_never_partial(daemon: DaemonProcess) -> None:
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.lists(alert_like, max_size=4).map(
            lambda al: json.dumps({"version": "4", "alerts": al}).encode())))
    def run(raw: bytes) -> None:
        posted(daemon, raw)

    run()
    assert SEEN[400] > 0


def test_hypothesis_api_parameters_never_5xx(daemon: DaemonProcess) -> None:
    text = st.text(max_size=40)
    params = st.dictionaries(st.sampled_from(["status", "priority", "team", "ci", "since",
                                              "limit", "cursor"]), text, max_size=4)

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(params, text, json_values)
    def run(query: dict[str, str], incident: str, action: Any) -> None:
        qs = urllib.parse.urlencode(query)
        status, answer = call(f"{daemon.url}/api/v1/incidents?{qs}")
        SEEN[status] += 1
        assert status in (200, 400), answer[:300]
        ref = urllib.parse.quote(incident, safe="") or "x"
        status, answer = call(f"{daemon.url}/api/v1/incidents/{ref}")
        assert status in (200, 404), answer[:300]
        status, answer = call(f"{daemon.url}/api/v1/incidents/{ref}/notes", "POST",
                              json.dumps(action).encode())
        assert status in (200, 400, 404, 409), answer[:300]

    run()


def alert(labels: dict[str, str], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status": "firing", "labels": labels, "annotations": annotations or {},
            "startsAt": "2026-01-05T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}


def body(*alerts: dict[str, Any]) -> bytes:
    return json.dumps({"version": "4", "alerts": list(alerts)}).encode()


def test_abuse_gets_the_right_status_with_bounded_memory(daemon: DaemonProcess) -> None:
    start = rss_kib(daemon)
    mib = 1024 * 1024
    cases: list[tuple[str, bytes, int]] = [
        ("20 MiB body", body(alert({"a": "b"})) + b" " * (20 * mib), 413),
        ("deep nesting", b'{"version": "4", "alerts": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
         400),
        ("1M labels", body(alert({f"l{i}": "v" for i in range(1_000_000)})), 413),
        ("100k labels", body(alert({f"l{i}": "v" for i in range(100_000)})), 400),
        ("5k labels", body(alert({f"l{i}": "v" for i in range(5_000)})), 400),
        ("1 MiB label value", body(alert({"alertname": "x" * mib})), 400),
        ("invalid UTF-8 in a value", b'{"version":"4","alerts":[{"labels":{"a":"\xc3\x28"}}]}', 400),
        ("NUL bytes in the body", b'{"version":"4",\x00"alerts":[]}', 400),
        ("lone surrogate", b'{"version":"4","alerts":[{"labels":{"a":"\\ud800"}}]}', 400),
    ]
    for name, raw, status in cases:
        got, answer = posted(daemon, raw)
        assert got == status, (name, got, answer[:300])
    for _ in range(3):  # again: memory must not grow with each abusive body
        for _, raw, _ in cases:
            posted(daemon, raw)
    grown = rss_kib(daemon) - start
    assert grown < 150 * 1024, f"RSS grew by {grown} KiB"


def test_injection_in_label_values_is_stored_verbatim(daemon: DaemonProcess) -> None:
    nasty = {
        "alertname": "Robert'); DROP TABLE incidents;--",
        "instance": "' OR '1'='1",
        "summary": "{{ 7*7 }}{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "job": "${jndi:ldap://127.0.0.1/x}",
        "ci": "node-1\"; SELECT * FROM alerts; --",
    }
    status, _ = posted(daemon, body(alert(nasty, {"description": nasty["summary"]})))
    assert status == 200
    status, raw = call(daemon.url + "/api/v1/incidents?status=any&limit=1000")
    assert status == 200
    incidents = json.loads(raw)["incidents"]
    mine = [i for i in incidents for a in i["alerts"] if a["alertname"] == nasty["alertname"]]
    assert len(mine) == 1
    status, raw = call(f"{daemon.url}/api/v1/incidents/{mine[0]['id']}")
    detail = json.loads(raw)
    assert detail["labels"].get("summary", nasty["summary"]) == nasty["summary"]
    assert "49" not in json.dumps(detail["title"])  # no template was evaluated
    assert counts(daemon)["incidents"] >= 1  # the tables are all still there


def test_slow_bodies_and_many_connections_do_not_starve_others(daemon: DaemonProcess) -> None:
    start = rss_kib(daemon)
    slow: list[socket.socket] = []
    try:
        for i in range(300):  # slowloris: headers promise a body that trickles in, or never
            s = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
            s.sendall(f"POST {INTAKE} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                      f'{{"version": "4", "alerts": [{i}'.encode())
            slow.append(s)
        idle = [socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
                for _ in range(300)]
        slow.extend(idle)
        for s in slow[:50]:
            s.sendall(b" ")
        status, answer = posted(daemon, body(alert({"alertname": "StillServed"})))
        assert status == 200, answer
        assert call(daemon.url + "/healthz")[0] == 200
        grown = rss_kib(daemon) - start
        assert grown < 100 * 1024, f"RSS grew by {grown} KiB with 600 open connections"
    finally:
        for s in slow:
            s.close()
    time.sleep(0.2)
    assert call(daemon.url + "/readyz")[0] == 200
