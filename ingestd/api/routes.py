"""HTTP routes: intake, incidents, health, metrics. Each route names the role it needs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingestd import metrics
from ingestd.api.auth import ANONYMOUS_ADMIN, Principal
from ingestd.api.openapi import OPENAPI
from ingestd.api.similar import similar_incidents
from ingestd.api.state import PRINCIPAL, RUNTIME
from ingestd.api.views import decode_cursor, encode_cursor, incident_detail, incident_summary
from ingestd.domain import Alert, AlertStatus, IncidentStatus
from ingestd.intake import alertmanager
from ingestd.intake.errors import BodyTooLarge, IntakeError, Overloaded
from ingestd.intake.limits import IntakeLimits
from ingestd.pipeline.work import Action, Intake
from ingestd.store.base import StoreError
from ingestd.store.records import IncidentQuery

ROUTE_ROLES: dict[tuple[str, str], str | None] = {}
"""(method, path) -> the role it needs; None: open to anyone (probes, metrics)."""

routes = web.RouteTableDef()


def needs(role: str | None, method: str, path: str) -> Any:
    ROUTE_ROLES[(method, path)] = role
    return getattr(routes, method.lower())(path)


def json_response(doc: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status, headers=headers,
                        content_type="application/json")


def error(status: int, code: str, detail: str, path: str = "",
          headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": code, "detail": detail, "path": path}, status, headers)


def overloaded(e: Overloaded) -> web.Response:
    metrics.BODIES_OVERLOADED.labels(reason=e.reason.split(" (")[0]).inc()
    return error(503, "unavailable", f"{e.reason}; retry later", "",
                 {"Retry-After": str(e.retry_after)})


# -- probes and metrics ----------------------------------------------------------------


@needs(None, "GET", "/healthz")
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@needs(None, "GET", "/readyz")
async def readyz(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if rt.draining:
        return json_response({"status": "draining"}, 503)
    if not rt.ready:
        return json_response({"status": "starting"}, 503)
    return json_response({"status": "ready", "cmdb_cis": len(rt.cmdb)})


@needs(None, "GET", "/metrics")
async def metrics_view(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    metrics.QUEUE_DEPTH.set(rt.committer.depth)
    resp = web.Response(body=generate_latest())
    resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return resp


@needs(None, "GET", "/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return json_response(OPENAPI)


# -- intake ----------------------------------------------------------------------------


@needs("ingest", "POST", "/api/v1/alerts/alertmanager")
async def intake_alertmanager(request: web.Request) -> web.Response:
    return await _ingest(request, "alertmanager", alertmanager.parse_body)


@needs("ingest", "POST", "/api/v1/alerts/{source}")
async def intake_mapped(request: web.Request) -> web.Response:
    """Any JSON source with a field mapping (``sources/*.yaml``; Grafana and Zabbix shipped)."""
    rt = request.app[RUNTIME]
    name = request.match_info["source"]
    mapping = rt.sources.get(name)
    if mapping is None:
        known = ", ".join(["alertmanager", *sorted(rt.sources)])
        return error(404, "unknown_source", f"no source {name!r} (known: {known})", "source")
    return await _ingest(request, name, mapping.parse)


_received: dict[tuple[str, str], Any] = {}
_latency: dict[str, Any] = {}
"""Children of ALERTS_RECEIVED and INTAKE_LATENCY by label values (sources are configured,
so few): ``labels()`` on each body cost more than the update itself."""


def _count_received(source: str, alerts: list[Alert]) -> None:
    """ALERTS_RECEIVED by status: one increment per status and body, not per alert."""
    firing = sum(1 for a in alerts if a.status is AlertStatus.FIRING)
    for status, n in (("firing", firing), ("resolved", len(alerts) - firing)):
        if n:
            child = _received.get((source, status))
            if child is None:
                child = _received[(source, status)] = metrics.ALERTS_RECEIVED.labels(
                    source=source, status=status)
            child.inc(n)


def _observe_latency(source: str, seconds: float) -> None:
    child = _latency.get(source)
    if child is None:
        child = _latency[source] = metrics.INTAKE_LATENCY.labels(source=source)
    child.observe(seconds)


async def _read_body(request: web.Request, limits: IntakeLimits) -> bytes:
    """The whole body; TimeoutError if the client takes longer than ``limits.body_timeout``."""
    if request.content.is_eof():  # all of it has arrived (small bodies come with the headers)
        return await request.read()
    async with asyncio.timeout(limits.body_timeout):
        return await request.read()


async def _ingest(request: web.Request, source: str,
                  parse: Callable[[bytes, IntakeLimits], list[Alert]]) -> web.Response:
    rt = request.app[RUNTIME]
    started = time.perf_counter()
    if rt.draining:
        return overloaded(Overloaded("shutting down", 5))
    rt.in_flight += 1
    try:
        if request.content_length is not None and request.content_length > rt.limits.max_body_bytes:
            raise BodyTooLarge(
                "body_too_large",
                f"body is {request.content_length} bytes, the limit is {rt.limits.max_body_bytes}")
        try:
            raw = await _read_body(request, rt.limits)
        except TimeoutError:
            metrics.BODIES_REJECTED.labels(reason="body_timeout").inc()
            return error(408, "body_timeout", f"the body did not arrive within"
                         f" {rt.limits.body_timeout:g} s")
        alerts = parse(raw, rt.limits)
        _count_received(source, alerts)
        result = await rt.committer.submit(Intake(alerts, source))
    except IntakeError as e:
        metrics.BODIES_REJECTED.labels(reason=e.error).inc()
        return json_response(e.as_json(), e.status)
    except web.HTTPRequestEntityTooLarge:
        metrics.BODIES_REJECTED.labels(reason="body_too_large").inc()
        return error(413, "body_too_large",
                     f"body exceeds the limit of {rt.limits.max_body_bytes} bytes")
    except Overloaded as e:
        return overloaded(e)
    finally:
        rt.in_flight -= 1
    _observe_latency(source, time.perf_counter() - started)
    return json_response({"status": "stored", "alerts": len(alerts), "new": result.new,
                          "resolved": result.resolved, "repeats": result.repeats})


# -- incidents -------------------------------------------------------------------------

_STATUS_ANY = tuple(IncidentStatus)


def _query(request: web.Request) -> IncidentQuery:
    q = request.query
    status_raw = q.get("status", "open,acknowledged")
    if status_raw in ("any", "all", ""):
        statuses: tuple[IncidentStatus, ...] = _STATUS_ANY
    else:
        try:
            statuses = tuple(IncidentStatus(s) for s in status_raw.split(","))
        except ValueError:
            raise IntakeError("bad_parameter", f"status must be any or a list of"
                              f" {[s.value for s in IncidentStatus]}", "status") from None
    prios = tuple(p for p in q.get("priority", "").split(",") if p)
    for p in prios:
        if p not in ("P0", "P1", "P2", "P3", "P4"):
            raise IntakeError("bad_parameter", "priority must be among P0..P4", "priority")
    try:
        limit = int(q.get("limit", "100"))
    except ValueError:
        raise IntakeError("bad_parameter", "limit must be an integer", "limit") from None
    if not 1 <= limit <= 1000:
        raise IntakeError("bad_parameter", "limit must be between 1 and 1000", "limit")
    since = None
    if q.get("since"):
        since = alertmanager.parse_time(q["since"], "since")
    cursor = None
    if q.get("cursor"):
        try:
            cursor = decode_cursor(q["cursor"])
        except (ValueError, UnicodeDecodeError):
            raise IntakeError("bad_parameter", "cursor is not one this server gave",
                              "cursor") from None
    return IncidentQuery(status=statuses, priority=prios, team=q.get("team") or None,
                         ci=q.get("ci") or None, since=since, limit=limit, cursor=cursor)


@needs("read", "GET", "/api/v1/incidents")
async def list_incidents(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    try:
        query = _query(request)
        rows = await rt.store.list_incidents(query)
        # a summary shows no labels: a store that can leave them out answers faster
        summaries = getattr(rt.store, "episode_summaries", rt.store.episodes_for)
        episodes = await summaries([r.id for r in rows])
    except IntakeError as e:
        return json_response(e.as_json(), 400)
    except StoreError as e:
        return error(503, "unavailable", str(e))
    next_cursor = encode_cursor(rows[-1]) if len(rows) == query.limit else None
    return json_response({"incidents": [incident_summary(r, episodes[r.id]) for r in rows],
                          "next_cursor": next_cursor})


@needs("read", "GET", "/api/v1/incidents/{id}")
async def get_incident(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    incident_id = request.match_info["id"]
    rec = await rt.store.get_incident(incident_id)
    if rec is None:
        return error(404, "not_found", f"no incident {incident_id!r}", "id")
    eps = await rt.store.incident_episodes(incident_id)
    timeline = await rt.store.incident_timeline(incident_id)
    doc = incident_detail(rec, eps, timeline, rt.cmdb)
    doc["similar"] = await similar_incidents(
        request, rec.root_ci, frozenset(e.alertname for e in eps), rec.id)
    return json_response(doc)


async def _act(request: web.Request, kind: str) -> web.Response:
    rt = request.app[RUNTIME]
    who: Principal = request.get(PRINCIPAL, ANONYMOUS_ADMIN)
    body: dict[str, Any] = {}
    if request.can_read_body:
        try:
            parsed = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            return error(400, "invalid_json", "body is not valid JSON")
        if not isinstance(parsed, dict):
            return error(400, "not_an_object", "body must be a JSON object")
        body = parsed
    note = body.get("note", "")
    assignee = body.get("assignee")
    if not isinstance(note, str) or (assignee is not None and not isinstance(assignee, str)):
        return error(400, "bad_field", "note and assignee must be strings")
    if len(note) > 64 * 1024:
        return error(400, "note_too_long", "a note holds at most 65536 characters", "note")
    actor = body.get("actor") if isinstance(body.get("actor"), str) else None
    action = Action(request.match_info["id"], kind, actor or who.name, note, assignee)
    try:
        result = await rt.committer.submit(action)
    except Overloaded as e:
        return overloaded(e)
    if result.error is not None:
        return error(result.error.status, result.error.error, result.error.detail)
    rec = await rt.store.get_incident(action.incident_id)
    eps = await rt.store.incident_episodes(action.incident_id)
    return json_response(incident_summary(rec, eps) if rec else {})


@needs("write", "POST", "/api/v1/incidents/{id}/acknowledge")
async def acknowledge(request: web.Request) -> web.Response:
    return await _act(request, "acknowledge")


@needs("write", "POST", "/api/v1/incidents/{id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    return await _act(request, "resolve")


@needs("write", "POST", "/api/v1/incidents/{id}/reopen")
async def reopen(request: web.Request) -> web.Response:
    return await _act(request, "reopen")


@needs("write", "POST", "/api/v1/incidents/{id}/assign")
async def assign(request: web.Request) -> web.Response:
    return await _act(request, "assign")


@needs("write", "POST", "/api/v1/incidents/{id}/notes")
async def add_note(request: web.Request) -> web.Response:
    return await _act(request, "note")


@needs("read", "GET", "/api/v1/outbox")
async def outbox(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    state = request.query.get("state") or None
    if state not in (None, "pending", "delivered", "dead"):
        return error(400, "bad_parameter", "state must be pending, delivered or dead", "state")
    rows = await rt.store.outbox_rows(state, 200)
    return json_response({"items": rows})
