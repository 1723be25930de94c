"""YAML with line numbers, and Prometheus-style durations: what every config file reader shares.

:func:`load_yaml` builds plain Python data whose maps (:class:`YMap`) and lists
(:class:`YList`) remember the line of every key and item, so that each problem can be
reported as ``rules/teams.yaml:14: reason``. Duplicate keys are errors.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import yaml


class YMap(dict[Any, Any]):
    """A YAML mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YList(list[Any]):
    """A YAML sequence that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YMap:
    loader.flatten_mapping(node)
    m = YMap()
    m.line = node.start_mark.line + 1
    m.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in m:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {m.key_lines[key]})", key_node.start_mark
            )
        m[key] = loader.construct_object(value_node, deep=True)
        m.key_lines[key] = key_node.start_mark.line + 1
    return m


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> YList:
    seq = YList(loader.construct_object(n, deep=True) for n in node.value)
    seq.line = node.start_mark.line + 1
    seq.item_lines = [n.start_mark.line + 1 for n in node.value]
    return seq


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


_DURATION_RE = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_DURATION_UNITS = (
    timedelta(days=365),
    timedelta(weeks=1),
    timedelta(days=1),
    timedelta(hours=1),
    timedelta(minutes=1),
    timedelta(seconds=1),
    timedelta(milliseconds=1),
)


def parse_duration(s: str) -> timedelta:
    """A Prometheus duration: ``30s``, ``15m``, ``1h30m``, ``2d``, ``1w``."""
    m = _DURATION_RE.match(s)
    if not s or m is None or not any(m.groups()):
        raise ValueError(f"bad duration {s!r} (write it like 30s, 15m, 1h30m, 2d)")
    return sum(
        (int(g) * unit for g, unit in zip(m.groups(), _DURATION_UNITS, strict=True) if g),
        timedelta(),
    )


def load_yaml(text: str) -> Any:
    """Parse one YAML document; raises ``yaml.YAMLError`` with its own position."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
