"""Mapping alerts to CIs: ci label first, then the first matching selector in file order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestd.cmdb import CI, Cmdb, parse_cmdb
from ingestd.cmdb.selectors import Matcher, Selector, parse_selector_string
from ingestd.domain import frozen_labels

TEXT = """\
cis:
  - id: web-any
    match:
      - '{job="blackbox", instance=~"https://shop\\\\..*"}'
  - id: web-home
    match:
      - {job: blackbox, instance: "https://shop.example.com/"}
  - id: not-prod
    match:
      - '{env!="prod", team="x"}'
  - id: node-1
    match:
      - {instance: "node-1:9100"}
"""


def m(cmdb: Cmdb, **labels: str) -> str | None:
    return cmdb.map_labels(frozen_labels(labels)).ci


def test_ci_label_wins_then_file_order() -> None:
    cmdb = parse_cmdb(TEXT)
    assert m(cmdb, ci="node-1", job="blackbox", instance="https://shop.example.com/") == "node-1"
    # web-any comes first in the file, so it wins over the exact selector of web-home
    assert m(cmdb, job="blackbox", instance="https://shop.example.com/") == "web-any"
    assert m(cmdb, job="blackbox", instance="https://other.example.com/") is None
    assert m(cmdb, instance="node-1:9100", job="node") == "node-1"


def test_negative_matchers_treat_missing_label_as_empty() -> None:
    cmdb = parse_cmdb(TEXT)
    assert m(cmdb, team="x") == "not-prod"
    assert m(cmdb, team="x", env="prod") is None
    assert m(cmdb, team="x", env="dev") == "not-prod"


def test_mapping_explains_why() -> None:
    cmdb = parse_cmdb(TEXT)
    r = cmdb.map_labels(frozen_labels({"instance": "node-1:9100"}))
    assert r.reason == 'selector 1 of node-1 matches: {instance="node-1:9100"}'


def test_selector_string_syntax() -> None:
    s = parse_selector_string('{a="1", b=~"x|y", c!~"z.*", d!="q"}')
    assert [(x.name, x.op, x.value) for x in s.matchers] == [
        ("a", "=", "1"), ("b", "=~", "x|y"), ("c", "!~", "z.*"), ("d", "!=", "q")]
    assert s.matches({"a": "1", "b": "y", "c": "w"})
    assert not s.matches({"a": "1", "b": "xy"})  # anchored


NAMES = st.sampled_from(["instance", "job", "env", "team"])
VALUES = st.sampled_from(["a", "b", "c", ""])


@st.composite
def selectors(draw: st.DrawFn) -> Selector:
    n = draw(st.integers(1, 3))
    ms = []
    for _ in range(n):
        op = draw(st.sampled_from(["=", "=", "!=", "=~", "!~"]))
        value = draw(VALUES) if op in ("=", "!=") else draw(st.sampled_from(["a|b", ".*", "c", "b.*"]))
        ms.append(Matcher.make(draw(NAMES), op, value))
    return Selector(tuple(ms))


@settings(max_examples=150, deadline=None)
@given(
    cis=st.lists(st.lists(selectors(), max_size=3), min_size=1, max_size=8),
    alerts=st.lists(st.dictionaries(NAMES, st.sampled_from(["a", "b", "c"])), min_size=1,
                    max_size=10),
)
def test_index_gives_the_same_answer_as_a_scan(cis: list[list[Selector]],
                                               alerts: list[dict[str, str]]) -> None:
    cmdb = Cmdb([CI(f"ci-{i}", match=tuple(sels)) for i, sels in enumerate(cis)])
    for labels in alerts:
        fl = frozen_labels(labels)
        assert cmdb.map_labels(fl) == cmdb.map_labels_by_scan(fl)


def test_mapping_looks_only_at_the_labels_selectors_use() -> None:
    cmdb = parse_cmdb(TEXT)
    first = cmdb.map_labels(frozen_labels({"instance": "node-1:9100", "alertname": "A"}))
    again = cmdb.map_labels(frozen_labels({"instance": "node-1:9100", "alertname": "B",
                                           "severity": "page"}))
    assert first is again and first.ci == "node-1"  # remembered, not worked out again
    assert cmdb.map_labels(frozen_labels({"instance": "node-1:9100", "job": "blackbox"})).ci \
        == "node-1"
    assert cmdb.map_labels(frozen_labels({"ci": "nope", "instance": "x"})).reason == \
        'label ci="nope" names no CI and no selector matches'


def test_remembered_mappings_are_bounded_and_belong_to_one_cmdb() -> None:
    from ingestd.cmdb import model

    cmdb = parse_cmdb(TEXT)
    for i in range(model._MAPPING_MEMO + 50):
        cmdb.map_labels(frozen_labels({"instance": f"host-{i}"}))
    assert 0 < len(cmdb._mappings) <= model._MAPPING_MEMO
    labels = frozen_labels({"instance": "node-1:9100"})
    assert cmdb.map_labels(labels).ci == "node-1"
    reloaded = parse_cmdb(TEXT.replace("node-1:9100", "node-1:9200"))
    assert reloaded.map_labels(labels).ci is None
    assert cmdb.map_labels(labels).ci == "node-1"
