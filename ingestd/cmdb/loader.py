"""Load and validate ``cmdb.yaml`` (CONTRACT section 2).

Validation is complete: every problem in the file is collected, each with
``file:line: reason``, and :class:`CmdbError` carries them all. A CMDB is
only ever built from a file that passed, so a reload can build the new one
first and keep the old one serving when the edit is refused. Dependency
cycles are allowed (the graph stays usable) and reported as warnings on
:attr:`Cmdb.warnings`.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ingestd.cmdb.model import CI, Cmdb
from ingestd.cmdb.selectors import (
    Selector,
    SelectorSyntaxError,
    parse_selector_string,
    selector_from_map,
)
from ingestd.domain import Criticality

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CI_KEYS = ("id", "type", "service", "team", "criticality", "match", "depends_on", "attributes")
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


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
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise CmdbError([f"{where}: not valid YAML: {getattr(e, 'problem', None) or e}"]) from e
    return _Checker(source).check(root)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def at(self, node: Node) -> str:
        return f"{self.source}:{node.start_mark.line + 1}"

    def problem(self, node: Node, reason: str) -> None:
        self.problems.append(f"{self.at(node)}: {reason}")

    def check(self, root: Node | None) -> Cmdb:
        if root is None:
            return Cmdb([], self.source)
        if not isinstance(root, MappingNode):
            raise CmdbError([f"{self.at(root)}: expected a map with a list under 'cis'"])
        items: list[Node] = []
        for k, v in root.value:
            if not isinstance(k, ScalarNode) or k.value != "cis":
                self.problem(k, f"unknown key {_show(k)} at the top (allowed: cis)")
            elif isinstance(v, SequenceNode):
                items = list(v.value)
            elif not (isinstance(v, ScalarNode) and v.tag == _NULL):
                self.problem(v, "'cis' must be a list of configuration items")
        cis: list[CI] = []
        first_line: dict[str, int] = {}
        deps_at: list[tuple[str, str, Node]] = []
        for item in items:
            ci = self.check_ci(item, deps_at)
            if ci is None:
                continue
            if ci.id in first_line:
                self.problem(item, f'duplicate id "{ci.id}" (first defined at line {first_line[ci.id]})')
                continue
            first_line[ci.id] = ci.line
            cis.append(ci)
        for ci_id, dep, node in deps_at:
            if dep not in first_line:
                self.problem(node, f'CI "{ci_id}" depends_on "{dep}", which is no CI in this file')
        if self.problems:
            raise CmdbError(self.problems)
        cmdb = Cmdb(cis, self.source)
        cmdb.warnings.extend(self.cycles(cmdb, first_line))
        return cmdb

    def check_ci(self, node: Node, deps_at: list[tuple[str, str, Node]]) -> CI | None:
        if not isinstance(node, MappingNode):
            self.problem(node, "a configuration item must be a map with at least an 'id'")
            return None
        fields: dict[str, Node] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, ScalarNode) else None
            if key not in CI_KEYS:
                self.problem(k, f"unknown key {_show(k)} (allowed: {', '.join(CI_KEYS)})")
            elif key in fields:
                self.problem(k, f'key "{key}" given twice')
            else:
                fields[key] = v
        id_node = fields.get("id")
        ci_id = self.scalar(id_node, "id", allow_int=True) if id_node is not None else None
        if id_node is None:
            self.problem(node, "configuration item without 'id'")
        if not ci_id:
            if id_node is not None and ci_id == "":
                self.problem(id_node, "'id' must not be empty")
            return None
        texts = {k: self.scalar(fields[k], k) for k in ("type", "service", "team") if k in fields}
        crit = Criticality.MEDIUM
        if "criticality" in fields:
            raw = self.scalar(fields["criticality"], "criticality")
            if raw is not None:
                try:
                    crit = Criticality(raw)
                except ValueError:
                    self.problem(fields["criticality"],
                                 f'unknown criticality "{raw}" for CI "{ci_id}" '
                                 f"(use one of {', '.join(c.value for c in Criticality)})")
        selectors = self.selectors(fields.get("match"), ci_id)
        deps: list[str] = []
        dn = fields.get("depends_on")
        if dn is not None and not _is_null(dn):
            if not isinstance(dn, SequenceNode):
                self.problem(dn, f'depends_on of "{ci_id}" must be a list of CI ids')
            else:
                for d in dn.value:
                    dep = self.scalar(d, "depends_on entry", allow_int=True)
                    if dep is not None:
                        deps.append(dep)
                        deps_at.append((ci_id, dep, d))
        attrs: dict[str, str] = {}
        an = fields.get("attributes")
        if an is not None and not _is_null(an):
            if not isinstance(an, MappingNode):
                self.problem(an, "attributes must be a map of names to strings")
            else:
                for k, v in an.value:
                    val = self.scalar(v, f"attribute {_show(k)}", allow_int=True)
                    if isinstance(k, ScalarNode) and val is not None:
                        attrs[k.value] = val
        return CI(
            id=ci_id,
            type=texts.get("type") or "",
            service=texts.get("service"),
            team=texts.get("team"),
            criticality=crit,
            match=tuple(selectors),
            depends_on=tuple(deps),
            attributes=attrs,
            line=node.start_mark.line + 1,
        )

    def selectors(self, node: Node | None, ci_id: str) -> list[Selector]:
        if node is None or _is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f'match of "{ci_id}" must be a list of selectors')
            return []
        out: list[Selector] = []
        for sel in node.value:
            try:
                if isinstance(sel, MappingNode):
                    out.append(self.map_selector(sel, ci_id))
                elif isinstance(sel, ScalarNode) and sel.tag == _STR:
                    out.append(parse_selector_string(sel.value))
                else:
                    raise SelectorSyntaxError(
                        "a selector must be a map of label names to strings, e.g. "
                        "{instance: \"node-1:9100\"}, or an Alertmanager matcher string, "
                        "e.g. '{instance=~\"web-.*\"}'")
            except SelectorSyntaxError as e:
                self.problem(sel, f'selector of "{ci_id}": {e}')
        return out

    def map_selector(self, node: MappingNode, ci_id: str) -> Selector:
        d: dict[str, str] = {}
        for k, v in node.value:
            if not isinstance(k, ScalarNode) or not isinstance(v, ScalarNode) or v.tag != _STR:
                raise SelectorSyntaxError(
                    f"label {_show(k)} must have a string value (quote it: "
                    f"{_show(k)}: \"{getattr(v, 'value', '')}\")")
            d[k.value] = v.value
        if not d:
            raise SelectorSyntaxError("empty selector (it would match every alert)")
        return selector_from_map(d)

    def scalar(self, node: Node, what: str, allow_int: bool = False) -> str | None:
        if isinstance(node, ScalarNode):
            if node.tag == _STR or (allow_int and node.tag == "tag:yaml.org,2002:int"):
                return str(node.value)
            if node.tag == _NULL:
                return None
        self.problem(node, f"{what} must be a string")
        return None

    def cycles(self, cmdb: Cmdb, line: dict[str, int]) -> list[str]:
        out = []
        for comp in nx.strongly_connected_components(cmdb.graph):
            if len(comp) < 2:
                continue
            first = min(comp, key=lambda c: line[c])
            cyc = _cycle_through(cmdb, first, comp)
            out.append(f"{self.source}:{line[first]}: warning: dependency cycle "
                       f"{' -> '.join(cyc)} (correlation treats these CIs as one another's cause)")
        return out


def _cycle_through(cmdb: Cmdb, start: str, comp: set[str]) -> list[str]:
    sub = cmdb.graph.subgraph(comp)
    try:
        edges = nx.find_cycle(sub, start)
    except nx.NetworkXNoCycle:  # pragma: no cover - a component of 2+ always has one
        return sorted(comp)
    return [edges[0][0]] + [e[1] for e in edges]


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _show(node: Node) -> str:
    return f'"{node.value}"' if isinstance(node, ScalarNode) else "(not a name)"
