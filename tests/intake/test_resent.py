"""Re-sent alerts: parsing a body again gives what the body says now, never a stale copy."""

from __future__ import annotations

import copy

import orjson
import pytest

from ingestd.domain import AlertStatus
from ingestd.intake import IntakeError, IntakeLimits, alertmanager
from ingestd.intake.alertmanager import parse_body
from tests.conftest import FIXTURES


def _body() -> dict:  # type: ignore[type-arg]
    return orjson.loads((FIXTURES / "firing-grouped-4.json").read_bytes())  # type: ignore[no-any-return]


def test_a_resend_parses_to_the_same_alerts() -> None:
    raw = orjson.dumps(_body())
    first, again = parse_body(raw), parse_body(raw)
    assert again == first
    assert [a.fingerprint for a in again] == [a["fingerprint"] for a in _body()["alerts"]]


@pytest.mark.parametrize("change", ["annotation", "label", "resolve", "generator"])
def test_a_resend_that_changed_gives_the_change(change: str) -> None:
    body = _body()
    parse_body(orjson.dumps(body))
    changed = copy.deepcopy(body)
    a = changed["alerts"][1]
    if change == "annotation":
        a["annotations"]["summary"] = "now worse"
    elif change == "label":
        a["labels"]["severity"] = "warning"
    elif change == "resolve":
        a["status"] = "resolved"
        a["endsAt"] = "2026-11-22T18:40:00Z"
    else:
        a["generatorURL"] = "http://elsewhere/graph"
    got = parse_body(orjson.dumps(changed))[1]
    assert got.annotations["summary"] == ("now worse" if change == "annotation"
                                          else "Grouped on node-2:9100")
    assert got.labels["severity"] == ("warning" if change == "label" else "critical")
    assert got.status is (AlertStatus.RESOLVED if change == "resolve" else AlertStatus.FIRING)
    assert (got.ends_at is not None) == (change == "resolve")
    assert got.generator_url == a["generatorURL"]


def test_a_resend_is_checked_against_the_limits_in_force() -> None:
    raw = orjson.dumps(_body())
    parse_body(raw)
    with pytest.raises(IntakeError) as e:
        parse_body(raw, IntakeLimits(max_label_value=3))
    assert e.value.error == "label_value_too_long"


def test_bodies_kept_for_resends_stay_within_their_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = alertmanager._Bodies(max_bytes=64 * 1024)
    monkeypatch.setattr(alertmanager, "_bodies", kept)
    raws = []
    for i in range(60):
        body = _body()
        body["groupKey"] = f'{{}}:{{alertname="G{i}"}}'
        raws.append(orjson.dumps(body))
        parse_body(raws[-1])
        assert kept.held <= kept.max_bytes
    assert kept.held > kept.max_bytes // 2  # it does keep bodies
    assert kept.get(raws[0], alertmanager.DEFAULT_LIMITS) is None  # the oldest went first
    again = parse_body(raws[0])
    assert again == parse_body(raws[0])
    again.clear()  # what a caller does with its list is its own
    assert len(parse_body(raws[0])) == len(_body()["alerts"])
