"""``routes.yaml``: the routing tree."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import jinja2

from ingestd.route.config.priority import priority_value
from ingestd.route.matchers import Matcher, MatcherError, Matchers, parse_matchers
from ingestd.route.runbook import compile_template
from ingestd.route.tree import Route, Settings, Threshold
from ingestd.route.yamldoc import Source, YList, YMap

ROUTE_FIELDS = (
    "name",
    "matchers",
    "continue",
    "routes",
    "team",
    "assignee",
    "priority",
    "tags",
    "runbook",
    "receivers",
    "escalation",
    "suppress",
    "threshold",
)

ATTRIBUTES = ("ci.id", "ci.type", "ci.team", "ci.service", "ci.criticality", "priority", "root_inferred", "status")


@dataclass(frozen=True)
class Known:
    """Names the routes may refer to."""

    teams: Collection[str]
    receivers: Collection[str]
    receivers_file: str
    policies: Collection[str]
    people: Collection[str]


def _defined(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def parse_routes(src: Source, doc: YMap, known: Known) -> tuple[Route | None, str | None]:
    """The root route and the ``default_team``."""
    src.fields(doc, "routes.yaml", ("route", "default_team"), ("route",))
    default_team = src.str_(doc, "default_team", "routes.yaml")
    if default_team is not None and default_team not in known.teams:
        src.error(doc.line_of("default_team"), f'unknown team "{default_team}" (defined: {_defined(known.teams)})')
    root = doc.get("route")
    if root is None or not src.is_map(root, doc.line_of("route"), "route"):
        return None, default_team
    if "matchers" in root:
        src.error(root.line_of("matchers"), "the root route matches every incident: it takes no matchers")
    if "continue" in root:
        src.error(root.line_of("continue"), "the root route takes no continue")
    return _route(src, root, "root", known, doc.line_of("route")), default_team


def _route(src: Source, m: YMap, position: str, known: Known, line: int | None = None) -> Route:
    name = src.str_(m, "name", position) or position
    what = f'route "{name}"'
    src.fields(m, what, ROUTE_FIELDS)
    matchers: list[Matcher] = []
    ms = m.get("matchers")
    if ms is not None and src.is_list(ms, m.line_of("matchers"), f"{what}: matchers"):
        for i, s in enumerate(ms):
            if not isinstance(s, str):
                src.error(ms.line_of(i), f'{what}: a matcher must be a string like \'severity="critical"\'')
                continue
            try:
                parsed = parse_matchers(s)
            except MatcherError as e:
                src.error(ms.line_of(i), f"{what}: {e}")
                continue
            for mt in parsed:
                if "." in mt.name and mt.name not in ATTRIBUTES:
                    src.error(ms.line_of(i), f'{what}: unknown attribute "{mt.name}" (known: {", ".join(ATTRIBUTES)})')
            matchers.extend(parsed)
    settings = Settings(
        team=_ref(src, m, "team", what, known.teams, "team"),
        assignee=_ref(src, m, "assignee", what, known.people, "person (not a member of any team)"),
        priority=priority_value(src, m, "priority", what),
        runbook=_runbook(src, m, what),
        receivers=_receivers(src, m, what, known),
        escalation=_ref(src, m, "escalation", what, known.policies, "escalation policy"),
        suppress=src.bool_(m, "suppress", what),
        threshold=_threshold(src, m, what),
    )
    children: list[Route] = []
    rs = m.get("routes")
    if rs is not None and src.is_list(rs, m.line_of("routes"), f"{what}: routes"):
        for i, r in enumerate(rs):
            pos = f"{position}.routes[{i}]" if position != "root" else f"routes[{i}]"
            if src.is_map(r, rs.line_of(i), pos):
                children.append(_route(src, r, pos, known))
    return Route(
        name=name,
        where=f"{src.path}:{line or m.line}",
        matchers=Matchers(tuple(matchers)),
        continue_=bool(src.bool_(m, "continue", what)),
        settings=settings,
        tags=src.str_list(m, "tags", what) or (),
        routes=tuple(children),
    )


def _ref(src: Source, m: YMap, key: str, what: str, names: Collection[str], kind: str) -> str | None:
    v = src.str_(m, key, what)
    if v is not None and v not in names:
        src.error(m.line_of(key), f'{what}: unknown {kind} "{v}" (defined: {_defined(names)})')
        return None
    return v


def _receivers(src: Source, m: YMap, what: str, known: Known) -> tuple[str, ...] | None:
    rs = src.str_list(m, "receivers", what)
    if rs is None:
        return None
    node = m["receivers"]
    for i, r in enumerate(rs):
        if r not in known.receivers:
            line = node.line_of(i) if isinstance(node, YList) else m.line_of("receivers")
            src.error(line, f'{what}: unknown receiver "{r}" (defined in {known.receivers_file}: {_defined(known.receivers)})')
    return rs


def _runbook(src: Source, m: YMap, what: str) -> str | None:
    s = src.str_(m, "runbook", what)
    if s is None:
        return None
    try:
        compile_template(s)
    except jinja2.TemplateSyntaxError as e:
        src.error(m.line_of("runbook"), f"{what}: runbook template: {e.message}")
        return None
    return s


def _threshold(src: Source, m: YMap, what: str) -> Threshold | None:
    t = m.get("threshold")
    if t is None or not src.is_map(t, m.line_of("threshold"), f"{what}: threshold"):
        return None
    tw = f"{what} threshold"
    src.fields(t, tw, ("alerts", "after"))
    if not t:
        src.error(t.line, f"{tw}: give alerts, after, or both")
    return Threshold(src.int_(t, "alerts", tw, minimum=1), src.duration(t, "after", tw))
