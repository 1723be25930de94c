"""The node reader the CMDB loader streams with: same document as PyYAML's composer."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ingestd.cmdb.stream import Map, Node, NodeReader, Scalar, Seq


def ours(text: str) -> Any:
    r = NodeReader(text)
    r.next_event()  # stream start
    r.next_event()  # document start
    return _plain(r.next_node())


def pyyaml(text: str) -> Any:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    return _plain_pyyaml(node)


def _plain(n: Node) -> Any:
    if isinstance(n, Scalar):
        return ("scalar", n.value, n.tag, n.line)
    if isinstance(n, Seq):
        return ("seq", n.line, [_plain(i) for i in n.items])
    assert isinstance(n, Map)
    return ("map", n.line, [(_plain(k), _plain(v)) for k, v in n.pairs])


def _plain_pyyaml(n: Any) -> Any:
    line = n.start_mark.line + 1
    if isinstance(n, ScalarNode):
        return ("scalar", n.value, n.tag, line)
    if isinstance(n, SequenceNode):
        return ("seq", line, [_plain_pyyaml(i) for i in n.value])
    assert isinstance(n, MappingNode)
    return ("map", line, [(_plain_pyyaml(k), _plain_pyyaml(v)) for k, v in n.value])


SCALARS = st.one_of(
    st.text(alphabet="abcnoxy-_.:/ 019~*&!#'\"", max_size=8),
    st.sampled_from(["null", "~", "", "yes", "No", "true", "0x1f", "1e3", "-7", "2026-01-05",
                     "9100", "host-1:9100", "=", "<<", ".inf", "0o17"]),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(alphabet="abkey_", min_size=1, max_size=5),
                                            inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data=DATA, flow=st.sampled_from([None, True, False]))
def test_same_nodes_tags_and_lines_as_pyyaml(data: Any, flow: bool | None) -> None:
    text = yaml.safe_dump({"cis": data}, default_flow_style=flow)
    assert ours(text) == pyyaml(text)


def test_anchors_aliases_and_explicit_tags_as_pyyaml() -> None:
    text = """\
base: &sel {job: node}
list: &l [a, *sel, 'b']
again: *l
tagged: !!str 123
int: !!int "7"
plain: 0x10
quoted: "0x10"
"""
    assert ours(text) == pyyaml(text)


@pytest.mark.parametrize("text, line, words", [
    ("a: *nowhere\n", 1, "undefined alias"),
    ("a: &x 1\nb: &x 2\n", 2, "anchor &x defined again (first defined at line 1)"),
])
def test_alias_problems_raise_with_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(yaml.YAMLError) as ei:
        ours(text)
    err = ei.value
    assert isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None
    assert err.problem_mark.line + 1 == line
    assert words in str(err.problem)


def test_items_are_composed_one_at_a_time() -> None:
    r = NodeReader("- {a: 1}\n- [x]\n- plain\n")
    r.next_event()
    r.next_event()
    got = []
    for item in r.items():
        got.append(_plain(item))
    assert [g[0] for g in got] == ["map", "seq", "scalar"]
    assert [g[-1] if g[0] == "scalar" else g[1] for g in got] == [1, 2, 3]
