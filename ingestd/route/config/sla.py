"""``sla.yaml``: targets per priority and the escalation policies."""

from __future__ import annotations

import re
from types import MappingProxyType

from ingestd.domain import Priority
from ingestd.escalate import (
    DEFAULT_POLICY,
    DEFAULT_SLA,
    EscalationPolicy,
    Level,
    SlaPolicy,
    SlaTarget,
    Target,
    Until,
)
from ingestd.route.yamldoc import Source, YMap

_TARGET_RE = re.compile(r"^(team|user):(\S+)$")
TARGETS_HELP = "on_call, next_tier, team_lead, management, team:NAME or user:NAME"


def parse_sla(src: Source, doc: YMap) -> tuple[SlaPolicy, list[tuple[int, str]]]:
    """The policy, and the ``team:NAME`` references (line, team) for the caller to check."""
    src.fields(doc, "sla.yaml", ("targets", "escalation_policies"))
    team_refs: list[tuple[int, str]] = []
    policies: dict[str, EscalationPolicy] = {"default": DEFAULT_POLICY}
    ps = doc.get("escalation_policies")
    if ps is not None and src.is_list(ps, doc.line_of("escalation_policies"), "escalation_policies"):
        seen: set[str] = set()
        for i, p in enumerate(ps):
            if not src.is_map(p, ps.line_of(i), f"escalation_policies[{i}]"):
                continue
            name = src.str_(p, "name", f"escalation_policies[{i}]")
            what = f'escalation policy "{name}"' if name else f"escalation_policies[{i}]"
            src.fields(p, what, ("name", "levels"), ("name", "levels"))
            if name is None:
                continue
            if name in seen:
                src.error(p.line_of("name"), f"{what} is defined twice")
                continue
            seen.add(name)
            levels = _levels(src, p, what, team_refs)
            if levels is not None:
                policies[name] = EscalationPolicy(name, levels)
    targets = dict(DEFAULT_SLA)
    ts = doc.get("targets")
    if ts is not None and src.is_map(ts, doc.line_of("targets"), "targets"):
        for key, t in ts.items():
            what = f"targets: {key}"
            try:
                prio = Priority(str(key).upper())
            except ValueError:
                src.error(ts.line_of(key), f'targets: "{key}" is not a priority (P0 .. P4)')
                continue
            if not src.is_map(t, ts.line_of(key), what):
                continue
            src.fields(t, what, ("acknowledge", "resolve", "escalation"))
            base = DEFAULT_SLA[prio]
            ack = src.duration(t, "acknowledge", what) or base.acknowledge
            res = src.duration(t, "resolve", what) or base.resolve
            esc = base.escalation
            if "escalation" in t:
                esc = src.str_(t, "escalation", what)
                if esc is not None and esc not in policies:
                    src.error(t.line_of("escalation"), f'{what}: unknown escalation policy "{esc}" (defined: {", ".join(sorted(policies))})')
            if res < ack:
                src.error(t.line, f"{what}: resolve target ({t.get('resolve')}) is shorter than acknowledge ({t.get('acknowledge')})")
            targets[prio] = SlaTarget(ack, res, esc)
    return SlaPolicy(MappingProxyType(targets), MappingProxyType(policies)), team_refs


def _levels(src: Source, p: YMap, what: str, team_refs: list[tuple[int, str]]) -> tuple[Level, ...] | None:
    ls = p.get("levels")
    if ls is None or not src.is_list(ls, p.line_of("levels"), f"{what}: levels"):
        return None
    levels: list[Level] = []
    ok = True
    for j, lv in enumerate(ls):
        lw = f"{what} level {j + 1}"
        if not src.is_map(lv, ls.line_of(j), lw):
            ok = False
            continue
        src.fields(lv, lw, ("after", "target", "when"), ("after", "target"))
        after = src.duration(lv, "after", lw)
        target = src.str_(lv, "target", lw)
        when = Until.UNACKNOWLEDGED
        w = src.str_(lv, "when", lw)
        if w is not None:
            try:
                when = Until(w)
            except ValueError:
                src.error(lv.line_of("when"), f'{lw}: when must be unacknowledged or unresolved, got "{w}"')
        if target is not None:
            tm = _TARGET_RE.match(target)
            if tm is None and target not in {t.value for t in Target}:
                src.error(lv.line_of("target"), f'{lw}: unknown target "{target}" (use {TARGETS_HELP})')
                target = None
            elif tm is not None and tm.group(1) == "team":
                team_refs.append((lv.line_of("target"), tm.group(2)))
        if after is not None and levels and after <= levels[-1].after:
            src.error(lv.line_of("after"), f"{lw}: after must be later than the level before ({levels[-1].after})")
        if after is None or target is None:
            ok = False
            continue
        levels.append(Level(after, target, when))
    return tuple(levels) if ok else None
