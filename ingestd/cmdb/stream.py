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
from typing import Any, NamedTuple

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


class Scalar(NamedTuple):
    value: str
    tag: str
    line: int  # 1-based


class Seq(NamedTuple):
    items: list[Node]
    line: int


class Map(NamedTuple):
    pairs: list[tuple[Node, Node]]
    line: int


Node = Scalar | Seq | Map
# Nodes are made by tuple.__new__ directly, skipping the generated NamedTuple
# constructor (a Python-level call for each of a million nodes).
_make = tuple.__new__


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
    return STR  # quoted, or plain text


class NodeReader:
    """Pull nodes from one YAML document; every ``next_*`` call consumes events."""

    def __init__(self, text: str) -> None:
        self._events = _parser(text)
        self._get = self._events.get_event
        self._anchors: dict[str, Node] = {}

    def peek(self) -> Any:
        """The next event, not consumed (``start_mark`` says where it is)."""
        return self._events.peek_event()

    def next_event(self) -> Any:
        return self._get()

    def at(self, kind: type[Event]) -> bool:
        return isinstance(self._events.peek_event(), kind)

    def next_node(self) -> Node:
        """Compose the next complete node."""
        return self._compose(self._get())

    def _compose(self, ev: Any) -> Node:
        kind = type(ev)
        if kind is ScalarEvent:
            tag = ev.tag
            if tag is None or tag == "!":
                tag = resolve_scalar(ev.value, ev.implicit)
            node: Node = _make(Scalar, (ev.value, tag, ev.start_mark.line + 1))
            if ev.anchor is not None:
                self._anchor(ev, node)
            return node
        get = self._get
        compose = self._compose
        if kind is MappingStartEvent:
            mapping: Map = _make(Map, ([], ev.start_mark.line + 1))
            if ev.anchor is not None:
                self._anchor(ev, mapping)
            pairs = mapping.pairs
            ev = get()
            while type(ev) is not MappingEndEvent:
                key = compose(ev)
                pairs.append((key, compose(get())))
                ev = get()
            return mapping
        if kind is SequenceStartEvent:
            seq: Seq = _make(Seq, ([], ev.start_mark.line + 1))
            if ev.anchor is not None:
                self._anchor(ev, seq)
            items = seq.items
            ev = get()
            while type(ev) is not SequenceEndEvent:
                items.append(compose(ev))
                ev = get()
            return seq
        if kind is AliasEvent:
            found = self._anchors.get(ev.anchor)
            if found is None:
                raise ComposerError(None, None, f"found undefined alias {ev.anchor!r}",
                                    ev.start_mark)
            return found
        raise ComposerError(None, None, f"expected a node, found {kind.__name__}",
                            ev.start_mark)

    def items(self) -> Iterator[Node]:
        """Compose the items of the sequence that starts here, one at a time.

        Items are not kept, unless the sequence has an anchor (an alias to
        it must see them all).
        """
        ev: Any = self._get()
        seq = Seq([], ev.start_mark.line + 1)
        if not isinstance(ev, SequenceStartEvent):
            raise ComposerError(None, None, "expected a sequence", ev.start_mark)
        keep = ev.anchor is not None
        if keep:
            self._anchor(ev, seq)
        ev = self._get()
        while type(ev) is not SequenceEndEvent:
            item = self._compose(ev)
            if keep:
                seq.items.append(item)
            yield item
            ev = self._get()

    def _anchor(self, ev: Any, node: Node) -> None:
        first = self._anchors.get(ev.anchor)
        if first is not None:
            raise ComposerError(None, None, f"anchor &{ev.anchor} defined again (first defined "
                                f"at line {first.line})", ev.start_mark)
        self._anchors[ev.anchor] = node
