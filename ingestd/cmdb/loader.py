"""Load and validate ``cmdb.yaml`` (CONTRACT section 2).

Validation is complete: every problem in the file is collected, each with
``file:line: reason``, and :class:`CmdbError` carries them all. A CMDB is
only ever built from a file that passed, so a reload can build the new one
first and keep the old one serving when the edit is refused. Dependency
cycles are allowed (the graph stays usable) and reported as warnings on
:attr:`Cmdb.warnings`.

The list under ``cis`` is read one item at a time (:mod:`ingestd.cmdb.stream`):
each CI is composed, checked and turned into a :class:`CI` before the next
is read, so a large file never has its whole node tree in memory. Strings
that repeat (types, teams, services, label names and values) are shared.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

import yaml
from yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from ingestd.cmdb.model import CI, Cmdb
from ingestd.cmdb.selectors import (
    Matcher,
    Selector,
    SelectorSyntaxError,
    parse_selector_string,
)
from ingestd.cmdb.stream import INT, NULL, STR, Map, Node, NodeReader, Scalar, Seq
from ingestd.domain import Criticality

CI_KEYS = ("id", "type", "service", "team", "criticality", "match", "depends_on", "attributes")
_CI_KEYS = frozenset(CI_KEYS)
_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})
_CRITICALITY = {c.value: c for c in Criticality}


class CmdbError(ValueError):
    """The CMDB file is not valid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_cmdb(path: str | Path) -> Cmdb:
    """Read and validate a CMDB file; raises :class:`CmdbError` listing every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise CmdbError([f"{p}: cannot read: {e.strerror or e}"]) from e
    return parse_cmdb(text, str(p))


def reload_cmdb(path: str | Path, current: Cmdb) -> tuple[Cmdb, list[str]]:
    """Build a new CMDB from ``path``; on any problem keep ``current``.

    Returns the CMDB to serve and the problems that refused the edit (empty
    when the new one was taken).
    """
    try:
        return load_cmdb(path), []
    except CmdbError as e:
        return current, e.problems


def parse_cmdb(text: str, source: str = "<cmdb>") -> Cmdb:
    checker = _Checker(source)
    with _collector_paused():
        try:
            checker.read(NodeReader(text))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark is not None else source
            raise CmdbError([f"{where}: not valid YAML: {getattr(e, 'problem', None) or e}"]) from e
        return checker.build()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while a CMDB is built.

    Building one allocates a million long-lived objects and no reference
    cycles; left running, the collector rescans the growing heap again and
    again (a fifth of the load time for 100,000 CIs). Reference counting
    still frees everything as usual meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self.cis: dict[str, CI] = {}
        # depends_on entries naming a CI not (yet) seen: (ci, dependency, line)
        self.forward: list[tuple[str, str, int]] = []
        self.matchers: dict[tuple[str, str], Matcher] = {}

    def problem(self, line: int, reason: str) -> None:
        self.problems.append(f"{self.source}:{line}: {reason}")

    # ---- the document --------------------------------------------------------

    def read(self, r: NodeReader) -> None:
        r.next_event()  # stream start
        if r.at(StreamEndEvent):
            return  # an empty file: an empty CMDB
        r.next_event()  # document start
        if not r.at(MappingStartEvent):
            root = r.next_node()
            raise CmdbError([f"{self.source}:{root.line}: expected a map with a list under 'cis'"])
        r.next_event()
        seen_cis = False
        while not r.at(MappingEndEvent):
            key = r.next_node()
            if not isinstance(key, Scalar) or key.value != "cis":
                self.problem(key.line, f"unknown key {_show(key)} at the top (allowed: cis)")
                r.next_node()
            elif seen_cis:
                self.problem(key.line, 'key "cis" given twice')
                r.next_node()
            elif r.at(SequenceStartEvent):
                seen_cis = True
                for item in r.items():
                    self.add(item)
            else:
                seen_cis = True
                v = r.next_node()
                if not (isinstance(v, Scalar) and v.tag == NULL):
                    self.problem(v.line, "'cis' must be a list of configuration items")
        r.next_event()  # mapping end
        r.next_event()  # document end
        if not r.at(StreamEndEvent):
            raise yaml.composer.ComposerError(
                None, None, "expected a single document, found another", r.peek().start_mark)

    def add(self, item: Node) -> None:
        ci = self.check_ci(item)
        if ci is None:
            return
        first = self.cis.get(ci.id)
        if first is not None:
            self.problem(item.line, f'duplicate id "{ci.id}" (first defined at line {first.line})')
            return
        self.cis[ci.id] = ci

    def build(self) -> Cmdb:
        for ci_id, dep, line in self.forward:
            if dep not in self.cis:
                self.problem(line, f'CI "{ci_id}" depends_on "{dep}", which is no CI in this file')
        if self.problems:
            raise CmdbError(self.problems)
        cmdb = Cmdb(self.cis.values(), self.source)
        cmdb.warnings.extend(self.cycles(cmdb))
        return cmdb

    # ---- one configuration item ------------------------------------------------

    def check_ci(self, node: Node) -> CI | None:
        if not isinstance(node, Map):
            self.problem(node.line, "a configuration item must be a map with at least an 'id'")
            return None
        fields: dict[str, Node] = {}
        for k, v in node.pairs:
            key = k.value if type(k) is Scalar else None
            if key not in _CI_KEYS:
                self.problem(k.line, f"unknown key {_show(k)} (allowed: {', '.join(CI_KEYS)})")
            elif key in fields:
                self.problem(k.line, f'key "{key}" given twice')
            else:
                fields[key] = v
        id_node = fields.get("id")
        if id_node is None:
            self.problem(node.line, "configuration item without 'id'")
            return None
        ci_id = self.scalar(id_node, "id", allow_int=True)
        if not ci_id:
            if ci_id == "":
                self.problem(id_node.line, "'id' must not be empty")
            return None
        type_ = self.text(fields.get("type"), "type")
        service = self.text(fields.get("service"), "service")
        team = self.text(fields.get("team"), "team")
        crit = Criticality.MEDIUM
        cn = fields.get("criticality")
        if cn is not None:
            raw = self.scalar(cn, "criticality")
            if raw is not None:
                found = _CRITICALITY.get(raw)
                if found is None:
                    self.problem(cn.line,
                                 f'unknown criticality "{raw}" for CI "{ci_id}" '
                                 f"(use one of {', '.join(c.value for c in Criticality)})")
                else:
                    crit = found
        return CI(
            id=ci_id,
            type=type_ or "",
            service=service,
            team=team,
            criticality=crit,
            match=self.selectors(fields.get("match"), ci_id),
            depends_on=self.depends_on(fields.get("depends_on"), ci_id),
            attributes=self.attributes(fields.get("attributes")),
            line=node.line,
        )

    def depends_on(self, node: Node | None, ci_id: str) -> tuple[str, ...]:
        if node is None or _is_null(node):
            return ()
        if not isinstance(node, Seq):
            self.problem(node.line, f'depends_on of "{ci_id}" must be a list of CI ids')
            return ()
        deps: dict[str, None] = {}
        for d in node.items:
            if type(d) is Scalar and d.tag == STR:
                dep: str | None = d.value
            else:
                dep = self.scalar(d, "depends_on entry", allow_int=True)
            if dep is None or dep == ci_id:
                continue  # a CI needing itself adds nothing to the graph
            known = self.cis.get(dep)
            if known is not None:
                dep = known.id  # share the id's string
            else:
                self.forward.append((ci_id, dep, d.line))
            deps[dep] = None
        return tuple(deps)

    def attributes(self, node: Node | None) -> Mapping[str, str]:
        if node is None or _is_null(node):
            return _NO_ATTRIBUTES
        if not isinstance(node, Map):
            self.problem(node.line, "attributes must be a map of names to strings")
            return _NO_ATTRIBUTES
        attrs: dict[str, str] = {}
        for k, v in node.pairs:
            val = self.scalar(v, f"attribute {_show(k)}", allow_int=True)
            if isinstance(k, Scalar) and val is not None:
                attrs[sys.intern(k.value)] = val
        return attrs if attrs else _NO_ATTRIBUTES

    def selectors(self, node: Node | None, ci_id: str) -> tuple[Selector, ...]:
        if node is None or _is_null(node):
            return ()
        if not isinstance(node, Seq):
            self.problem(node.line, f'match of "{ci_id}" must be a list of selectors')
            return ()
        out: list[Selector] = []
        for sel in node.items:
            try:
                if isinstance(sel, Map):
                    out.append(self.map_selector(sel))
                elif isinstance(sel, Scalar) and sel.tag == STR:
                    out.append(parse_selector_string(sel.value))
                else:
                    raise SelectorSyntaxError(
                        "a selector must be a map of label names to strings, e.g. "
                        "{instance: \"node-1:9100\"}, or an Alertmanager matcher string, "
                        "e.g. '{instance=~\"web-.*\"}'")
            except SelectorSyntaxError as e:
                self.problem(sel.line, f'selector of "{ci_id}": {e}')
        return tuple(out)

    def map_selector(self, node: Map) -> Selector:
        matchers: dict[str, Matcher] = {}
        for k, v in node.pairs:
            if not isinstance(k, Scalar) or not isinstance(v, Scalar) or v.tag != STR:
                raise SelectorSyntaxError(
                    f"label {_show(k)} must have a string value (quote it: "
                    f"{_show(k)}: \"{v.value if isinstance(v, Scalar) else ''}\")")
            matchers[k.value] = self.equality(k.value, v.value)
        if not matchers:
            raise SelectorSyntaxError("empty selector (it would match every alert)")
        return Selector(tuple(matchers.values()))

    def equality(self, name: str, value: str) -> Matcher:
        """One shared (immutable) matcher per label pair: many CIs repeat them."""
        m = self.matchers.get((name, value))
        if m is None:
            m = self.matchers[(name, value)] = Matcher(sys.intern(name), "=", value)
        return m

    def text(self, node: Node | None, what: str) -> str | None:
        """A string that many CIs repeat (a type, team or service): one copy is kept."""
        if node is None:
            return None
        s = self.scalar(node, what)
        return sys.intern(s) if s else s

    def scalar(self, node: Node, what: str, allow_int: bool = False) -> str | None:
        """The string in ``node`` (None for null); anything else is a problem."""
        if type(node) is Scalar:
            if node.tag == STR or (allow_int and node.tag == INT):
                return node.value
            if node.tag == NULL:
                return None
        self.problem(node.line, f"{what} must be a string")
        return None

    # ---- the graph ---------------------------------------------------------------

    def cycles(self, cmdb: Cmdb) -> list[str]:
        out = []
        for comp in cmdb.cyclic_components():
            first = min(comp, key=lambda c: cmdb.cis[c].line)
            cyc = cmdb.cycle_through(first, comp)
            out.append(f"{self.source}:{cmdb.cis[first].line}: warning: dependency cycle "
                       f"{' -> '.join(cyc)} (correlation treats these CIs as one another's cause)")
        return out


def _is_null(node: Node) -> bool:
    return isinstance(node, Scalar) and node.tag == NULL


def _show(node: Node) -> str:
    return f'"{node.value}"' if isinstance(node, Scalar) else "(not a name)"
