"""``maintenance.yaml``: maintenance windows."""

from __future__ import annotations

from ingestd.maintenance import Every, Recurrence, Window
from ingestd.route.config.teams import parse_zone
from ingestd.route.yamldoc import Source, YList, YMap


def parse_maintenance(src: Source, doc: YMap, known_cis: set[str] | None) -> tuple[Window, ...]:
    """The windows; with ``known_cis`` a CI id the CMDB does not know is warned of.

    A warning, not an error: the same rules serve several CMDBs (staging, production),
    and a window on a CI that one of them lacks holds nothing there.
    """
    src.fields(doc, "maintenance.yaml", ("windows",))
    ws = doc.get("windows")
    if ws is None or not src.is_list(ws, doc.line_of("windows"), "windows"):
        return ()
    out: list[Window] = []
    names: set[str] = set()
    for i, w in enumerate(ws):
        if not src.is_map(w, ws.line_of(i), f"windows[{i}]"):
            continue
        name = src.str_(w, "name", f"windows[{i}]")
        what = f'window "{name}"' if name else f"windows[{i}]"
        src.fields(w, what, ("name", "cis", "start", "end", "recurring", "include_dependents", "reason"), ("name", "cis", "start", "end"))
        if name in names:
            src.error(w.line_of("name"), f"{what} is defined twice")
        cis = src.str_list(w, "cis", what) or ()
        if known_cis is not None:
            for j, ci in enumerate(cis):
                if ci not in known_cis:
                    line = w["cis"].line_of(j) if isinstance(w["cis"], YList) else w.line_of("cis")
                    src.warn(line, f'{what}: unknown CI "{ci}" (not in the CMDB; it holds nothing'
                             " until the CMDB has it)")
        start = src.datetime_(w, "start", what)
        end = src.datetime_(w, "end", what)
        if start is not None and end is not None and end <= start:
            src.error(w.line_of("end"), f"{what}: end must be after start")
            continue
        recurring = None
        r = w.get("recurring")
        if r is not None and src.is_map(r, w.line_of("recurring"), f"{what}: recurring"):
            rw = f"{what} recurring"
            src.fields(r, rw, ("every", "timezone", "until"), ("every", "timezone"))
            every_s = src.str_(r, "every", rw)
            tz = parse_zone(src, r, "timezone", rw)
            until = src.datetime_(r, "until", rw)
            try:
                every = Every(every_s) if every_s is not None else None
            except ValueError:
                src.error(r.line_of("every"), f'{rw}: every must be daily or weekly, got "{every_s}"')
                every = None
            if every is not None and start is not None and end is not None and end - start > every.period:
                src.error(w.line_of("end"), f"{what}: a {every} window cannot last longer than its period")
                continue
            if every is None or tz is None:
                continue
            recurring = Recurrence(every, tz, until)
        include = src.bool_(w, "include_dependents", what)
        if name is None or start is None or end is None or not cis:
            continue
        names.add(name)
        reason = src.str_(w, "reason", what) or ""
        out.append(Window(name, frozenset(cis), start, end, recurring, include is not False, reason))
    return tuple(out)
