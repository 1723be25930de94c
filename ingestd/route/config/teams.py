"""``teams.yaml``: teams, members, rotations and overrides."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingestd.oncall import Override, Rotation, RotationKind, Team
from ingestd.route.yamldoc import Source, YList, YMap

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_START = date(2024, 1, 1)  # a Monday


def parse_time(src: Source, m: YMap, key: str, what: str) -> time | None:
    raw = m.get(key)
    if isinstance(raw, int) and not isinstance(raw, bool):  # YAML 1.1 reads 09:00 as sexagesimal
        raw = f"{raw // 60:02d}:{raw % 60:02d}"
    if not isinstance(raw, str):
        src.error(m.line_of(key), f'{what}: {key} must be a time like "09:00"')
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        src.error(m.line_of(key), f'{what}: {key}: {raw!r} is not a time like "09:00"')
        return None


def parse_zone(src: Source, m: YMap, key: str, what: str) -> ZoneInfo | None:
    name = src.str_(m, key, what)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        src.error(m.line_of(key), f'{what}: unknown time zone "{name}" (use an IANA name like Europe/Berlin or UTC)')
        return None


def _rotation(src: Source, m: YMap, what: str, members: tuple[str, ...]) -> Rotation | None:
    src.fields(m, what, ("kind", "handoff", "timezone", "start", "day", "members"), ("kind", "handoff", "timezone"))
    kind_s = src.str_(m, "kind", what)
    kind = None
    if kind_s is not None:
        try:
            kind = RotationKind(kind_s)
        except ValueError:
            src.error(m.line_of("kind"), f'{what}: kind must be daily or weekly, got "{kind_s}"')
    handoff = parse_time(src, m, "handoff", what) if "handoff" in m else None
    tz = parse_zone(src, m, "timezone", what)
    start = src.date_(m, "start", what) or DEFAULT_START
    day = src.str_(m, "day", what)
    if day is not None:
        if day.lower() not in WEEKDAYS:
            src.error(m.line_of("day"), f"{what}: day must be a weekday name (monday .. sunday), got {day!r}")
        elif kind is not RotationKind.WEEKLY:
            src.error(m.line_of("day"), f"{what}: day only applies to a weekly rotation")
        elif "start" in m and WEEKDAYS[start.weekday()] != day.lower():
            src.error(m.line_of("day"), f"{what}: start {start} is a {WEEKDAYS[start.weekday()]}, not a {day.lower()}")
        elif "start" not in m:
            start = start.fromordinal(start.toordinal() + WEEKDAYS.index(day.lower()))
    order = src.str_list(m, "members", what)
    if order is not None:
        for i, who in enumerate(order):
            if who not in members:
                line = m["members"].line_of(i) if isinstance(m["members"], YList) else m.line_of("members")
                src.error(line, f'{what}: "{who}" is not a member of the team (members: {", ".join(members)})')
    rota = order if order is not None else members
    if not rota:
        src.error(m.line, f"{what}: a rotation needs members")
        return None
    if kind is None or handoff is None or tz is None:
        return None
    return Rotation(kind, rota, handoff, tz, start)


def _override(src: Source, m: YMap, what: str, members: tuple[str, ...]) -> Override | None:
    src.fields(m, what, ("on_call", "start", "end", "reason"), ("on_call", "start", "end"))
    who = src.str_(m, "on_call", what)
    start = src.datetime_(m, "start", what)
    end = src.datetime_(m, "end", what)
    reason = src.str_(m, "reason", what) or ""
    if who is not None and who not in members:
        src.error(m.line_of("on_call"), f'{what}: "{who}" is not a member of the team (members: {", ".join(members)})')
        return None
    if start is not None and end is not None and end <= start:
        src.error(m.line_of("end"), f"{what}: end must be after start")
        return None
    if who is None or start is None or end is None:
        return None
    return Override(who, start, end, reason)


def parse_teams(src: Source, doc: YMap) -> tuple[dict[str, Team], tuple[str, ...]]:
    """The teams by name, and the management escalation list."""
    src.fields(doc, "teams.yaml", ("teams", "management"))
    management = src.str_list(doc, "management", "management") or ()
    teams: dict[str, Team] = {}
    items = doc.get("teams")
    if items is None:
        return teams, management
    if not src.is_list(items, doc.line_of("teams"), "teams"):
        return teams, management
    next_tiers: list[tuple[int, str, str]] = []
    for i, t in enumerate(items):
        if not src.is_map(t, items.line_of(i), f"teams[{i}]"):
            continue
        name = src.str_(t, "name", f"teams[{i}]")
        what = f'team "{name}"' if name else f"teams[{i}]"
        src.fields(t, what, ("name", "members", "lead", "next_tier", "rotation", "overrides"), ("name",))
        if name is None:
            continue
        if name in teams:
            src.error(t.line_of("name"), f'team "{name}" is defined twice')
            continue
        members = src.str_list(t, "members", what) or ()
        lead = src.str_(t, "lead", what)
        if lead is not None and lead not in members:
            src.error(t.line_of("lead"), f'{what}: lead "{lead}" is not a member of the team (members: {", ".join(members)})')
        next_tier = src.str_(t, "next_tier", what)
        if next_tier is not None:
            next_tiers.append((t.line_of("next_tier"), name, next_tier))
        rotation = None
        if "rotation" in t and src.is_map(t["rotation"], t.line_of("rotation"), f"{what}: rotation"):
            rotation = _rotation(src, t["rotation"], f"{what} rotation", members)
        overrides: list[Override] = []
        ovs = t.get("overrides")
        if ovs is not None and src.is_list(ovs, t.line_of("overrides"), f"{what}: overrides"):
            for j, o in enumerate(ovs):
                if src.is_map(o, ovs.line_of(j), f"{what}: overrides[{j}]"):
                    ov = _override(src, o, f"{what} override", members)
                    if ov is not None:
                        overrides.append(ov)
        teams[name] = Team(name, members, lead, next_tier, rotation, tuple(overrides))
    for line, name, nt in next_tiers:
        if nt not in teams:
            src.error(line, f'team "{name}": next_tier: unknown team "{nt}" (defined: {", ".join(sorted(teams))})')
    return teams, management
