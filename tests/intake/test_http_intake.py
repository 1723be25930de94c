"""The intake endpoint over HTTP: each malformed body gets its documented 4xx and stores nothing;
every real Alertmanager body is taken, with Alertmanager's fingerprints, and re-sending changes nothing."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT, DaemonProcess, fixture_bodies

URL = "/api/v1/alerts/alertmanager"
MAX_BODY = 64 * 1024
MAX_ALERTS = 50


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    d = DaemonProcess(tmp_path_factory.mktemp("intake"), ROOT / "cmdb.yaml",
                      env={"INGESTD_MAX_BODY_BYTES": str(MAX_BODY),
                           "INGESTD_MAX_ALERTS": str(MAX_ALERTS)})
    d.start()
    yield d
    d.stop()


def post(d: DaemonProcess, raw: bytes, chunked: bool = False) -> tuple[int, dict[str, Any]]:
    data: Any = iter([raw[i:i + 8192] for i in range(0, len(raw), 8192)]) if chunked else raw
    req = urllib.request.Request(d.url + URL, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def counts(d: DaemonProcess) -> dict[str, int]:
    with sqlite3.connect(d.tmp / "ingestd.db") as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("alerts", "episodes", "incidents", "timeline")}


def alert(**over: Any) -> dict[str, Any]:
    a = {"status": "firing", "labels": {"alertname": "Bad", "instance": "node-1:9100"},
         "annotations": {}, "startsAt": "2026-01-05T08:00:00Z",
         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": ""}
    a.update(over)
    return a


def doc(*alerts: dict[str, Any], **over: Any) -> bytes:
    d: dict[str, Any] = {"version": "4", "status": "firing", "receiver": "r",
                         "alerts": list(alerts)}
    d.update(over)
    return json.dumps(d).encode()


GOOD = alert()
CASES: list[tuple[str, bytes, int, str, str, str]] = [
    # name, body, status, error, path, words in the detail
    ("not JSON", b'{"version": "4", alerts: []', 400, "invalid_json", "", "not valid JSON"),
    ("invalid UTF-8", b'{"version": "4", "alerts": ["\xff\xfe"]}', 400, "invalid_json", "",
     "UTF-8"),
    ("not an object", b'[{"version": "4"}]', 400, "not_an_object", "", "got a list"),
    ("unknown version", doc(GOOD, version="3"), 400, "unsupported_version", "version", "'3'"),
    ("no version", b'{"alerts": []}', 400, "unsupported_version", "version", "None"),
    ("alerts missing", b'{"version": "4"}', 400, "missing_alerts", "alerts", "no 'alerts'"),
    ("alerts not a list", b'{"version": "4", "alerts": {"a": 1}}', 400, "bad_alerts", "alerts",
     "got an object"),
    ("alert not an object", doc(GOOD, "x"), 400, "bad_alert", "alerts[1]", "got a string"),
    ("labels not a map", doc(alert(labels=["a", "b"])), 400, "bad_labels", "alerts[0].labels",
     "map of strings"),
    ("label value a number", doc(GOOD, alert(labels={"alertname": "X", "port": 9100})), 400,
     "bad_labels", "alerts[1].labels.port", "got a number"),
    ("no labels", doc(alert(labels={})), 400, "bad_labels", "alerts[0].labels", "at least one"),
    ("NUL in a label", doc(alert(labels={"alertname": "a\u0000b"})), 400, "bad_labels",
     "alerts[0].labels.alertname", "NUL"),
    ("bad RFC 3339 time", doc(GOOD, alert(startsAt="yesterday")), 400, "bad_time",
     "alerts[1].startsAt", "RFC 3339"),
    ("time without a zone", doc(alert(startsAt="2026-01-05T08:00:00")), 400, "bad_time",
     "alerts[0].startsAt", "zone"),
    ("time out of range", doc(alert(startsAt="9999-12-31T23:59:59-23:59")), 400, "bad_time",
     "alerts[0].startsAt", "1970..2999"),
    ("bad endsAt", doc(alert(status="resolved", endsAt=17)), 400, "bad_time", "alerts[0].endsAt",
     "got a number"),
    ("bad status", doc(alert(status="burning")), 400, "bad_status", "alerts[0].status",
     "'burning'"),
    ("status a list", doc(alert(status=["firing"])), 400, "bad_status", "alerts[0].status",
     "['firing']"),
    ("too many alerts", doc(*[alert(labels={"n": str(i)}) for i in range(MAX_ALERTS + 1)]), 400,
     "too_many_alerts", "alerts", f"limit is {MAX_ALERTS}"),
    ("label value too long", doc(alert(labels={"alertname": "X", "job": "v" * 8193})), 400,
     "label_value_too_long", "alerts[0].labels.job", "limit is 8192"),
    ("too many labels", doc(alert(labels={f"l{i}": "v" for i in range(129)})), 400,
     "too_many_labels", "alerts[0].labels", "limit is 128"),
    ("body over the size limit", doc(GOOD, pad="x" * MAX_BODY), 413, "body_too_large", "",
     f"{MAX_BODY}"),
]


@pytest.mark.parametrize(("name", "raw", "status", "error", "path", "words"), CASES,
                         ids=[c[0] for c in CASES])
def test_malformed_body(daemon: DaemonProcess, name: str, raw: bytes, status: int, error: str,
                        path: str, words: str) -> None:
    before = counts(daemon)
    got, answer = post(daemon, raw)
    assert (got, answer["error"], answer["path"]) == (status, error, path), answer
    assert words in answer["detail"], answer["detail"]
    assert counts(daemon) == before


def test_over_the_limit_without_a_content_length(daemon: DaemonProcess) -> None:
    before = counts(daemon)
    got, answer = post(daemon, doc(GOOD, pad="x" * (4 * MAX_BODY)), chunked=True)
    assert (got, answer["error"]) == (413, "body_too_large"), answer
    assert counts(daemon) == before


def fixture_fingerprints() -> dict[str, list[str]]:
    return {name: [a["fingerprint"] for a in json.loads(raw)["alerts"]]
            for name, raw in fixture_bodies().items()}


def stored_fingerprints(d: DaemonProcess) -> dict[str, int]:
    with sqlite3.connect(d.tmp / "ingestd.db") as conn:
        return dict(conn.execute("SELECT fingerprint, COUNT(*) FROM episodes GROUP BY fingerprint"))


def test_every_real_body_is_taken_and_resending_changes_nothing(
        daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    bodies = fixture_bodies()
    assert len(bodies) >= 10
    for name, raw in bodies.items():
        got, answer = post(d, raw)
        assert got == 200, (name, answer)
        assert answer["alerts"] == len(json.loads(raw)["alerts"])
    expected = {fp for fps in fixture_fingerprints().values() for fp in fps}
    stored = stored_fingerprints(d)
    assert set(stored) == expected  # Alertmanager's own fingerprints, nothing else
    once = counts(d)
    for name, raw in bodies.items():
        got, answer = post(d, raw)
        assert got == 200, (name, answer)
    again = counts(d)
    assert (again["alerts"], again["episodes"], again["incidents"]) == (
        once["alerts"], once["episodes"], once["incidents"])
    assert stored_fingerprints(d) == stored


def test_fingerprints_computed_when_absent_equal_alertmanagers(
        daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    expected = set()
    for raw in fixture_bodies().values():
        body = json.loads(raw)
        for a in body["alerts"]:
            expected.add(a.pop("fingerprint"))
        assert post(d, json.dumps(body).encode())[0] == 200
    assert set(stored_fingerprints(d)) == expected

