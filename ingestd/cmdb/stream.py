"""Compose a YAML document one node at a time, keeping only what validation needs.

PyYAML's composer builds the whole document at once, every node carrying
two marks: for a 100,000-CI file that is millions of objects alive together
and most of the load time. This reader pulls libyaml's events and composes
small nodes (value, tag, line) on demand, so a long list is walked item by
item and each item can be dropped once it has been checked.

Tags, tag resolution, anchors and aliases follow PyYAML's composer and safe
resolver, and the same ``yaml.YAMLError`` subclasses are raised, so a file
means exactly what ``yaml.safe_load`` says it means.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.resolver import Resolver

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
INT = "tag:yaml.org,2002:int"

_IMPLICIT: dict[str | None, list[tuple[str, Any]]] = Resolver.yaml_implicit_resolvers


@dataclass(slots=True)
class Scalar:
    value: str
    tag: str
    line: int  # 1-based


@dataclass(slots=True)
class Seq:
    items: list[Node]
    line: int


@dataclass(slots=True)
class Map:
    pairs: list[tuple[Node, Node]]
    line: int


Node = Scalar | Seq | Map


def _parser(text: str) -> Any:
    if yaml.__with_libyaml__:
        from yaml._yaml import CParser

        return CParser(text)
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _PyParser(Reader, Scanner, Parser):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

    return _PyParser(text)


def resolve_scalar(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag PyYAML's safe resolver gives an untagged scalar."""
    if implicit[0]:  # plain: it may be a null, bool, int, float, timestamp...
        for tag, regexp in _IMPLICIT.get(value[:1], ()):
            if regexp.match(value):
                return tag
    return STR


class NodeReader:
    """Pull nodes from one YAML document; every ``next_*`` call consumes events."""

    def __init__(self, text: str) -> None:
        self._events = _parser(text)
        self._anchors: dict[str, Node] = {}

    def peek(self) -> Any:
        """The next event, not consumed (``start_mark`` says where it is)."""
        return self._events.peek_event()

    def next_event(self) -> Any:
        return self._events.get_event()

    def at(self, kind: type[Event]) -> bool:
        return isinstance(self._events.peek_event(), kind)

    def next_node(self) -> Node:
        """Compose the next complete node."""
        ev = self._events.get_event()
        kind = type(ev)
        if kind is ScalarEvent:
            tag = ev.tag
            if tag is None or tag == "!":
                tag = resolve_scalar(ev.value, ev.implicit)
            node: Node = Scalar(ev.value, tag, ev.start_mark.line + 1)
            if ev.anchor is not None:
                self._anchor(ev, node)
            return node
        if kind is AliasEvent:
            found = self._anchors.get(ev.anchor)
            if found is None:
                raise ComposerError(None, None, f"found undefined alias {ev.anchor!r}",
                                    ev.start_mark)
            return found
        if kind is SequenceStartEvent:
            seq = Seq([], ev.start_mark.line + 1)
            if ev.anchor is not None:
                self._anchor(ev, seq)
            items = seq.items
            while not isinstance(self._events.peek_event(), SequenceEndEvent):
                items.append(self.next_node())
            self._events.get_event()
            return seq
        if kind is MappingStartEvent:
            mapping = Map([], ev.start_mark.line + 1)
            if ev.anchor is not None:
                self._anchor(ev, mapping)
            pairs = mapping.pairs
            while not isinstance(self._events.peek_event(), MappingEndEvent):
                key = self.next_node()
                pairs.append((key, self.next_node()))
            self._events.get_event()
            return mapping
        raise ComposerError(None, None, f"expected a node, found {kind.__name__}",
                            ev.start_mark)

    def items(self) -> Iterator[Node]:
        """Compose the items of the sequence that starts here, one at a time.

        Items are not kept, unless the sequence has an anchor (an alias to
        it must see them all).
        """
        ev: Any = self._events.get_event()
        seq = Seq([], ev.start_mark.line + 1)
        if not isinstance(ev, SequenceStartEvent):
            raise ComposerError(None, None, "expected a sequence", ev.start_mark)
        keep = ev.anchor is not None
        if keep:
            self._anchor(ev, seq)
        while not isinstance(self._events.peek_event(), SequenceEndEvent):
            item = self.next_node()
            if keep:
                seq.items.append(item)
            yield item
        self._events.get_event()

    def _anchor(self, ev: Any, node: Node) -> None:
        first = self._anchors.get(ev.anchor)
        if first is not None:
            raise ComposerError(None, None, f"anchor &{ev.anchor} defined again (first defined "
                                f"at line {first.line})", ev.start_mark)
        self._anchors[ev.anchor] = node
