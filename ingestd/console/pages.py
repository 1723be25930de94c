"""The console's pages: incidents, one incident, one CI, the service numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from ingestd.api.state import RUNTIME
from ingestd.api.views import with_alert_entries
from ingestd.console import charts
from ingestd.console.clock import most_urgent_first, sla_clock
from ingestd.console.graph import ci_picture, incident_picture, render_svg
from ingestd.console.render import guard, page, problem
from ingestd.console.session import Visit
from ingestd.domain import IncidentStatus, Priority
from ingestd.reports.http import BadParameter, parse_days, report_for
from ingestd.store.records import EpisodeRecord, IncidentQuery

LIST_LIMIT = 500
STATUSES = [s.value for s in IncidentStatus]


def ci_link(ci: str) -> str:
    return "/console/cis/" + quote(ci, safe="")


def _now() -> datetime:
    return datetime.now(UTC)


# -- the incident list ------------------------------------------------------------------


def _filters(request: web.Request) -> dict[str, Any]:
    q = request.query
    status = [s for s in q.getall("status", []) if s in STATUSES] or ["open", "acknowledged"]
    priority = [p for p in q.getall("priority", []) if p in Priority.__members__]
    return {"status": status, "priority": priority, "team": q.get("team", "").strip(),
            "ci": q.get("ci", "").strip()}


async def _rows(request: web.Request, f: dict[str, Any]) -> list[Any]:
    rt = request.app[RUNTIME]
    query = IncidentQuery(status=tuple(IncidentStatus(s) for s in f["status"]),
                          priority=tuple(f["priority"]), team=f["team"] or None,
                          ci=f["ci"] or None, limit=LIST_LIMIT)
    return most_urgent_first(await rt.store.list_incidents(query), _now())


def _query_string(f: dict[str, Any]) -> str:
    pairs = [("status", s) for s in f["status"]] + [("priority", p) for p in f["priority"]]
    pairs += [(k, f[k]) for k in ("team", "ci") if f[k]]
    return urlencode(pairs)


@guard("read")
async def incidents(request: web.Request, visit: Visit) -> web.StreamResponse:
    f = _filters(request)
    cmdb = request.app[RUNTIME].cmdb
    teams = sorted({ci.team for ci in cmdb if ci.team})
    return page(request, visit, "incidents.html", rows=await _rows(request, f), filters=f,
                statuses=STATUSES, priorities=[p.value for p in Priority], teams=teams,
                cis=sorted(cmdb.cis), fragment_url="/console/fragments/incidents?"
                + _query_string(f), generated=_now())


@guard("read")
async def incident_rows(request: web.Request, visit: Visit) -> web.StreamResponse:
    """The list's rows alone, for the page's polling script."""
    return page(request, visit, "_incident_rows.html", rows=await _rows(request, _filters(request)),
                generated=_now())


# -- one incident -----------------------------------------------------------------------


def _states(episodes: list[EpisodeRecord]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in episodes:
        if e.ci:
            out[e.ci] = "firing" if e.ends_at is None or out.get(e.ci) == "firing" else "resolved"
    return out


@guard("read")
async def incident(request: web.Request, visit: Visit) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    incident_id = request.match_info["id"]
    rec = await rt.store.get_incident(incident_id)
    if rec is None:
        return problem(request, visit, 404, "No such incident", f"There is no incident {incident_id!r}.")
    episodes = await rt.store.incident_episodes(incident_id)
    timeline = with_alert_entries(await rt.store.incident_timeline(incident_id), episodes)
    states = _states(episodes)
    picture = incident_picture(rt.cmdb.graph, rec.cis, rec.root_ci, rec.root_inferred, states)
    svg = render_svg(picture, f"Dependency graph around incident {rec.title or rec.id}", ci_link)
    return page(request, visit, "incident.html", rec=rec, episodes=episodes, timeline=timeline,
                svg=svg, paths=picture.paths, clock=sla_clock(rec, _now()),
                blast_radius=sorted(rt.cmdb.blast_radius(rec.root_ci)) if rec.root_ci else [],
                done=request.query.get("done", ""))


# -- one CI -----------------------------------------------------------------------------


@guard("read")
async def ci_page(request: web.Request, visit: Visit) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    ci_id = request.match_info["ci"]
    ci = rt.cmdb.get(ci_id)
    if ci is None:
        return problem(request, visit, 404, "No such CI", f"The CMDB has no CI {ci_id!r}.")
    recent = await rt.store.list_incidents(
        IncidentQuery(status=tuple(IncidentStatus), ci=ci_id, limit=50))
    svg = render_svg(ci_picture(rt.cmdb.graph, ci_id), f"Dependencies around {ci_id}", ci_link)
    return page(request, visit, "ci.html", ci=ci, depends_on=list(rt.cmdb.depends_on(ci_id)),
                needed_by=sorted(rt.cmdb.needed_by(ci_id)),
                dependents=sorted(rt.cmdb.dependents(ci_id)),
                blast_radius=sorted(rt.cmdb.blast_radius(ci_id)), recent=recent, svg=svg)


# -- the service numbers ------------------------------------------------------------------


def _charts(r: dict[str, Any]) -> dict[str, str]:
    weeks = [w["week"][5:] for w in r["by_week"]]

    def col(rows: list[dict[str, Any]], key: str, field: str) -> list[float | None]:
        return [row[key][field] for row in rows]

    prios = r["by_priority"]
    return {
        "tta": charts.bar_chart(
            "Time to acknowledge by week (median and 90th percentile)", weeks,
            [charts.Series("median", col(r["by_week"], "time_to_acknowledge", "median_seconds")),
             charts.Series("p90", col(r["by_week"], "time_to_acknowledge", "p90_seconds"))],
            charts.human_seconds, chart_id="chart-tta"),
        "ttr": charts.bar_chart(
            "Time to resolve by week (median and 90th percentile)", weeks,
            [charts.Series("median", col(r["by_week"], "time_to_resolve", "median_seconds")),
             charts.Series("p90", col(r["by_week"], "time_to_resolve", "p90_seconds"))],
            charts.human_seconds, chart_id="chart-ttr"),
        "volume": charts.bar_chart(
            "Incidents opened by week", weeks,
            [charts.Series("incidents", [w["incidents"] for w in r["by_week"]])],
            chart_id="chart-volume"),
        "sla": charts.bar_chart(
            "SLA compliance by priority", [p["priority"] for p in prios],
            [charts.Series("acknowledge", [p["sla"]["acknowledge"]["compliance"] for p in prios]),
             charts.Series("resolve", [p["sla"]["resolve"]["compliance"] for p in prios])],
            charts.percent, top=1.0, chart_id="chart-sla"),
        "age": charts.bar_chart(
            "Open incidents by age", [a["age"] for a in r["open_by_age"]],
            [charts.Series("open", [a["total"] for a in r["open_by_age"]])],
            chart_id="chart-age"),
    }


@guard("read")
async def reports_page(request: web.Request, visit: Visit) -> web.StreamResponse:
    try:
        days = parse_days(request.query.get("days"))
    except BadParameter as e:
        return problem(request, visit, 400, "Bad period", e.detail)
    team = request.query.get("team", "").strip() or None
    report = await report_for(request.app, days, team)
    teams = sorted({ci.team for ci in request.app[RUNTIME].cmdb if ci.team})
    return page(request, visit, "reports.html", r=report, charts=_charts(report), days=days,
                team=team or "", teams=teams, fmt=charts.human_seconds)
