"""Property-based tests of the Alertmanager body parser: any input, a list or a precise IntakeError."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingestd.intake import IntakeError, IntakeLimits
from ingestd.intake.alertmanager import parse_body
from ingestd.intake.fingerprint import fingerprint

LIMITS = IntakeLimits(max_body_bytes=256 * 1024, max_alerts=20, max_labels=16,
                      max_label_value=64, max_annotation_value=128)
PATH = re.compile(r"^(|version|alerts(\[\d+\](\.(labels|annotations)(\..*)?|\.\w+)?)?)$", re.S)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20)
label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,15}", fullmatch=True)
label_values = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                       max_size=64)
times = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1),
                     timezones=st.just(UTC))


@st.composite
def alerts(draw: st.DrawFn) -> dict[str, Any]:
    labels = draw(st.dictionaries(label_names, label_values, min_size=1, max_size=6))
    a: dict[str, Any] = {
        "status": draw(st.sampled_from(["firing", "resolved"])), "labels": labels,
        "annotations": draw(st.dictionaries(label_names, label_values, max_size=4)),
        "startsAt": draw(times).isoformat().replace("+00:00", "Z"),
        "endsAt": draw(st.sampled_from(["0001-01-01T00:00:00Z", "2999-06-01T00:00:00.123456789Z"])),
        "generatorURL": "http://prometheus/graph",
    }
    if draw(st.booleans()):
        a["fingerprint"] = fingerprint(labels)
    return a


def bodies(alert_list: Any) -> Any:
    return st.builds(lambda al: {"version": "4", "receiver": "r", "status": "firing",
                                 "alerts": al, "groupLabels": {}, "commonLabels": {},
                                 "commonAnnotations": {}, "externalURL": "", "groupKey": "",
                                 "truncatedAlerts": 0}, alert_list)


def check_refusal(e: IntakeError) -> None:
    assert e.status in (400, 413)
    assert re.fullmatch(r"[a-z_]+", e.error)
    assert e.detail
    assert PATH.match(e.path), e.path


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
@example(b"\xff\xfe\x00")
@example(b"[" * 5000)
def test_any_bytes_give_alerts_or_a_precise_error(raw: bytes) -> None:
    try:
        parse_body(raw, LIMITS)
    except IntakeError as e:
        check_refusal(e)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_gives_alerts_or_a_precise_error(doc: Any) -> None:
    try:
        parse_body(json.dumps(doc).encode(), LIMITS)
    except IntakeError as e:
        check_refusal(e)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(bodies(st.lists(alerts(), min_size=0, max_size=8)))
def test_valid_bodies_are_taken_whole_with_alertmanagers_fingerprint(doc: dict[str, Any]) -> None:
    parsed = parse_body(json.dumps(doc).encode(), LIMITS)
    assert len(parsed) == len(doc["alerts"])
    for a, got in zip(doc["alerts"], parsed, strict=True):
        assert got.fingerprint == fingerprint(a["labels"])
        assert dict(got.labels) == a["labels"]
        assert got.status.value == a["status"]
        assert got.starts_at.tzinfo is not None


FIELDS = ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(bodies(st.lists(alerts(), min_size=1, max_size=5)), st.data())
def test_one_broken_field_is_named_by_its_path(doc: dict[str, Any], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(doc["alerts"]) - 1))
    field = data.draw(st.sampled_from(FIELDS))
    doc["alerts"][i][field] = data.draw(json_values)
    try:
        parse_body(json.dumps(doc).encode(), LIMITS)
    except IntakeError as e:
        check_refusal(e)
        assert e.path.startswith(f"alerts[{i}]."), (field, e.path)
        assert e.path.split(".")[1] == field, (field, e.path)


@given(st.integers(LIMITS.max_alerts + 1, LIMITS.max_alerts + 40))
def test_too_many_alerts(n: int) -> None:
    doc = {"version": "4", "alerts": [{"labels": {"a": str(i)}} for i in range(n)]}
    try:
        parse_body(json.dumps(doc).encode(), LIMITS)
    except IntakeError as e:
        assert (e.error, e.path) == ("too_many_alerts", "alerts")
    else:
        raise AssertionError("accepted")


def test_go_nanosecond_times_are_cut_to_the_microsecond() -> None:
    doc = {"version": "4", "alerts": [
        {"labels": {"a": "1"}, "startsAt": "2026-01-05T08:00:00.123456789Z"},
        {"labels": {"a": "2"}, "startsAt": "2026-01-05T13:30:00.9999999+05:30"},
        {"labels": {"a": "3"}, "startsAt": "2026-01-05T08:00:00.5Z"},
    ]}
    got = [a.starts_at for a in parse_body(json.dumps(doc).encode(), LIMITS)]
    assert got == [datetime(2026, 1, 5, 8, 0, 0, 123456, tzinfo=UTC),
                   datetime(2026, 1, 5, 8, 0, 0, 999999, tzinfo=UTC),
                   datetime(2026, 1, 5, 8, 0, 0, 500000, tzinfo=UTC)]


def test_the_first_entry_that_breaks_a_rule_is_named() -> None:
    labels = {"ok": "fine", "long": "x" * (LIMITS.max_label_value + 1), "nul": "a\x00b"}
    doc = {"version": "4", "alerts": [{"labels": labels}]}
    with pytest.raises(IntakeError) as e:
        parse_body(json.dumps(doc).encode(), LIMITS)
    assert (e.value.error, e.value.path) == ("label_value_too_long", "alerts[0].labels.long")
    del labels["long"]
    with pytest.raises(IntakeError) as e:
        parse_body(json.dumps(doc).encode(), LIMITS)
    assert (e.value.error, e.value.path) == ("bad_labels", "alerts[0].labels.nul")
