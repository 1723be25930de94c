"""Load a rules directory into one :class:`RuleSet`, completely or not at all.

The directory holds these files, all optional:

============== ===========================================================
routes.yaml    the routing tree (without it: the CMDB owner takes each incident)
teams.yaml     teams, rotations, overrides, the management escalation list
priority.yaml  the priority matrix (defaults apply to what it leaves out)
sla.yaml       targets per priority and escalation policies
maintenance.yaml maintenance windows
receivers.yaml notification receivers; only their names are read here
============== ===========================================================

Sub-directories (``tests/``) are not rules. Every problem in every file is
collected and reported together as ``file:line: reason``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ingestd.classify import DEFAULT_PRIORITY_MATRIX
from ingestd.cmdb import Cmdb
from ingestd.escalate import SlaPolicy
from ingestd.maintenance import Window
from ingestd.route.config.maintenance import parse_maintenance
from ingestd.route.config.priority import parse_priority
from ingestd.route.config.routes import Known, parse_routes
from ingestd.route.config.sla import parse_sla
from ingestd.route.config.teams import parse_teams
from ingestd.route.ruleset import RuleSet
from ingestd.route.tree import Route
from ingestd.route.yamldoc import Source, YList, YMap

RULE_FILES = ("routes.yaml", "teams.yaml", "priority.yaml", "sla.yaml", "maintenance.yaml", "receivers.yaml")


class RulesError(ValueError):
    """The rules are not valid; ``problems`` lists every problem found (``file:line: reason``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def config_hash(directory: str | Path) -> str:
    """sha256 over the rule files' names and contents."""
    h = hashlib.sha256()
    d = Path(directory)
    for p in sorted(d.glob("*.y*ml")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def load_rules(directory: str | Path, cmdb: Cmdb | None = None) -> RuleSet:
    """The rule set of ``directory``; raises :class:`RulesError` listing every problem."""
    d = Path(directory)
    if not d.is_dir():
        raise RulesError([f"{d}: not a directory of rule files"])
    problems: list[str] = []
    warnings: list[str] = []
    docs: dict[str, tuple[Source, YMap]] = {}
    files = []
    for p in sorted(d.iterdir()):
        if p.is_dir() or p.suffix not in (".yaml", ".yml"):
            continue
        files.append(str(p))
        if p.name not in RULE_FILES:
            warnings.append(f"{p}: not a rules file ingestd knows (expected: {', '.join(RULE_FILES)}); ignored")
            continue
        src = Source(str(p), problems, warnings)
        before = len(problems)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            src.error(1, f"cannot read: {e}")
            continue
        data: Any = src.load(text)
        if len(problems) > before:
            continue
        if data is None:  # an empty file, or only comments
            data = YMap()
            data.key_lines = {}
        if not src.is_map(data, 1, p.name):
            continue
        docs[p.name] = (src, data)

    def doc(name: str) -> tuple[Source, YMap] | None:
        return docs.get(name)

    receivers: frozenset[str] = frozenset()
    if (r := doc("receivers.yaml")) is not None:
        receivers = _receiver_names(*r)

    teams: dict[str, Any] = {}
    management: tuple[str, ...] = ()
    if (t := doc("teams.yaml")) is not None:
        teams, management = parse_teams(*t)

    matrix = DEFAULT_PRIORITY_MATRIX
    if (pr := doc("priority.yaml")) is not None:
        matrix = parse_priority(*pr)

    sla = SlaPolicy()
    if (s := doc("sla.yaml")) is not None:
        sla, team_refs = parse_sla(*s)
        for line, name in team_refs:
            if name not in teams:
                s[0].error(line, f'unknown team "{name}" (defined: {", ".join(sorted(teams)) or "none"})')

    windows: tuple[Window, ...] = ()
    if (m := doc("maintenance.yaml")) is not None:
        windows = parse_maintenance(*m, set(cmdb.cis) if cmdb is not None else None)

    root: Route | None = Route("root", f"{d / 'routes.yaml'}")
    default_team = None
    if (rt := doc("routes.yaml")) is not None:
        people = {p for team in teams.values() for p in team.members}
        known = Known(teams, receivers, str(d / "receivers.yaml"), sla.policies, people)
        root, default_team = parse_routes(*rt, known)

    if cmdb is not None:
        for ci in cmdb.cis.values():
            if ci.team and ci.team not in teams:
                warnings.append(
                    f'{cmdb.source}: CI "{ci.id}" is owned by team "{ci.team}", which {d / "teams.yaml"} does not define (nobody will be on call for it)'
                )
    if problems or root is None:
        raise RulesError(problems or [f"{d / 'routes.yaml'}: no route"])
    return RuleSet(
        root=root,
        teams=MappingProxyType(teams),
        default_team=default_team,
        management=management,
        matrix=matrix,
        sla=sla,
        windows=windows,
        receivers=receivers,
        cmdb=cmdb,
        config_hash=config_hash(d),
        files=tuple(files),
        warnings=tuple(warnings),
    )


def _receiver_names(src: Source, doc: YMap) -> frozenset[str]:
    items = doc.get("receivers")
    if not isinstance(items, YList):
        return frozenset()
    return frozenset(str(r["name"]) for r in items if isinstance(r, YMap) and r.get("name") is not None)
