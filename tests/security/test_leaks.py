"""Secrets stay out of logs; alert content stays out of metric labels."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.conftest import DaemonProcess, fixture_bodies

from .secured import BAD_TOKEN, TOKENS, auth, call, write_tokens


def test_tokens_never_appear_in_the_log(daemon_factory: type[DaemonProcess],
                                        tmp_path: Path) -> None:
    env_token = "s3cret-from-env-5b1e9a0c77d2"
    file_token = tmp_path / "token.txt"
    file_token.write_text("s3cret-from-file-c04f3e8d19a6\n")
    tokens = write_tokens(tmp_path)
    tokens.write_text(tokens.read_text()
                      + "- {name: env-bot, token_env: INGESTD_TEST_TOKEN, roles: [read]}\n"
                      + f"- {{name: file-bot, token_file: {file_token}, roles: [read]}}\n")
    d = daemon_factory(extra=["--tokens", str(tokens), "--log-level", "debug"],
                       env={"INGESTD_TEST_TOKEN": env_token})
    d.start()
    body = fixture_bodies()["firing-single.json"]
    every = [*TOKENS.values(), env_token, "s3cret-from-file-c04f3e8d19a6", BAD_TOKEN]
    for token in every:
        for path, data in (("/api/v1/alerts/alertmanager", body), ("/api/v1/incidents", None),
                           ("/api/v1/incidents/x/acknowledge", b"{}")):
            call(d.url + path, "POST" if data else "GET", data, auth(token))
    assert call(d.url + "/api/v1/incidents", headers=auth(env_token))[0] == 200
    assert call(d.url + "/api/v1/incidents",
                headers=auth("s3cret-from-file-c04f3e8d19a6"))[0] == 200
    assert d.terminate() == 0
    log = d.log.read_text()
    assert "ready" in log  # the log was written at all
    for token in every:
        assert token not in log
        assert token[7:] not in log  # nor the part after the scheme-like prefix


def test_no_metric_label_comes_from_alert_content(daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    marks = [f"uniq{uuid.uuid4().hex[:12]}" for _ in range(6)]
    doc = json.loads(fixture_bodies()["firing-grouped-4.json"])
    a = doc["alerts"][0]
    a["labels"] = {"alertname": marks[0], "severity": marks[1], "instance": marks[2],
                   "job": marks[3], "ci": marks[4]}
    a["annotations"] = {"summary": marks[5]}
    a.pop("fingerprint")
    doc["receiver"] = marks[0]
    status, raw = call(d.url + "/api/v1/alerts/alertmanager", "POST", json.dumps(doc).encode())
    assert status == 200, raw
    bad = dict(doc, alerts=[{"labels": {marks[1]: 5}}])  # rejected bodies too
    assert call(d.url + "/api/v1/alerts/alertmanager", "POST", json.dumps(bad).encode())[0] == 400
    call(d.url + f"/api/v1/alerts/{marks[2]}", "POST", b"{}")  # an unknown source's name
    status, raw = call(d.url + "/metrics")
    text = raw.decode()
    assert "ingestd_alerts_received_total" in text
    for m in marks:
        assert m not in text, m
