"""Routes for the context that closes the loop: changes, problems, knowledge, manual incidents."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from ingestd.api.auth import ANONYMOUS_ADMIN
from ingestd.api.routes import error, json_response, needs, overloaded
from ingestd.api.state import PRINCIPAL, RUNTIME
from ingestd.api.views import incident_summary
from ingestd.domain import Alert, AlertStatus, frozen_labels
from ingestd.intake.alertmanager import parse_time
from ingestd.intake.errors import IntakeError, Overloaded
from ingestd.intake.fingerprint import fingerprint
from ingestd.maintenance import Window
from ingestd.maintenance.stored import window_doc
from ingestd.pipeline.work import Intake, ProblemAction, ReportChange, SetWindow
from ingestd.store.codec import ts
from ingestd.store.records import ChangeRecord, IncidentQuery, ProblemRecord

_CHANGE_KEYS = {"ci", "summary", "author", "kind", "started_at", "ended_at", "link"}
_MANUAL_KEYS = {"title", "ci", "severity", "summary", "description", "labels", "runbook_url"}


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        doc = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        raise IntakeError("invalid_json", "body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise IntakeError("not_an_object", "body must be a JSON object")
    return doc


def _text(doc: dict[str, Any], key: str, required: bool = False, limit: int = 4096) -> str:
    value = doc.get(key)
    if value is None or value == "":
        if required:
            raise IntakeError("missing_field", f"'{key}' is required", key)
        return ""
    if not isinstance(value, str):
        raise IntakeError("bad_field", f"'{key}' must be a string", key)
    if len(value) > limit:
        raise IntakeError("field_too_long", f"'{key}' holds at most {limit} characters", key)
    return value


def change_json(c: ChangeRecord) -> dict[str, Any]:
    return {"id": c.id, "ci": c.ci, "summary": c.summary, "author": c.author, "kind": c.kind,
            "started_at": ts(c.started_at), "ended_at": ts(c.ended_at), "link": c.link}


def problem_json(p: ProblemRecord) -> dict[str, Any]:
    return {"id": p.id, "status": p.status, "root_ci": p.root_ci, "signature": p.signature,
            "team": p.team, "opened_at": ts(p.opened_at), "closed_at": ts(p.closed_at),
            "incidents": p.incidents, "notes": p.notes}


@needs("ingest", "POST", "/api/v1/changes")
async def report_change(request: web.Request) -> web.Response:
    """A deployment or config change on a CI: ``curl -d '{"ci":"cart","summary":"v2.3"}'``."""
    rt = request.app[RUNTIME]
    try:
        doc = await _json_object(request)
        unknown = set(doc) - _CHANGE_KEYS
        if unknown:
            raise IntakeError("unknown_field", f"unknown fields {sorted(unknown)}"
                              f" (known: {sorted(_CHANGE_KEYS)})", sorted(unknown)[0])
        ci = _text(doc, "ci", required=True, limit=256)
        if rt.cmdb.get(ci) is None:
            raise IntakeError("unknown_ci", f"no CI {ci!r} in the CMDB", "ci")
        now = datetime.now(UTC)
        started = parse_time(doc["started_at"], "started_at") if doc.get("started_at") else now
        ended = parse_time(doc["ended_at"], "ended_at") if doc.get("ended_at") else None
        change = ChangeRecord(ci=ci, summary=_text(doc, "summary", required=True),
                              author=_text(doc, "author", limit=256),
                              kind=_text(doc, "kind", limit=64) or "deployment",
                              started_at=started, ended_at=ended,
                              link=_text(doc, "link", limit=2048), created_at=now)
        result = await rt.committer.submit(ReportChange(change))
    except IntakeError as e:
        return json_response(e.as_json(), 400)
    except Overloaded as e:
        return overloaded(e)
    del result
    return json_response(change_json(change), 201)


@needs("read", "GET", "/api/v1/changes")
async def list_changes(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    try:
        since = parse_time(request.query["since"], "since") if request.query.get("since") else None
    except IntakeError as e:
        return json_response(e.as_json(), 400)
    rows = await rt.store.list_changes(request.query.get("ci") or None, since, 200)
    return json_response({"changes": [change_json(c) for c in rows]})


@needs("read", "GET", "/api/v1/problems")
async def list_problems(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    status = request.query.get("status") or None
    if status not in (None, "open", "closed"):
        return error(400, "bad_parameter", "status must be open or closed", "status")
    rows = await rt.store.list_problems(status, 200)
    return json_response({"problems": [problem_json(p) for p in rows]})


@needs("read", "GET", "/api/v1/problems/{id}")
async def get_problem(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    p = await rt.store.get_problem(request.match_info["id"])
    if p is None:
        return error(404, "not_found", f"no problem {request.match_info['id']!r}", "id")
    return json_response(problem_json(p))


async def _problem_act(request: web.Request, kind: str) -> web.Response:
    rt = request.app[RUNTIME]
    who = request.get(PRINCIPAL, ANONYMOUS_ADMIN)
    try:
        doc = await _json_object(request)
        note = _text(doc, "note", limit=65536)
        result = await rt.committer.submit(
            ProblemAction(request.match_info["id"], kind, who.name, note))
    except IntakeError as e:
        return json_response(e.as_json(), 400)
    except Overloaded as e:
        return overloaded(e)
    if result.error is not None:
        return error(result.error.status, result.error.error, result.error.detail)
    return json_response(problem_json(result.incident))


@needs("write", "POST", "/api/v1/problems/{id}/notes")
async def problem_note(request: web.Request) -> web.Response:
    return await _problem_act(request, "note")


@needs("write", "POST", "/api/v1/problems/{id}/close")
async def problem_close(request: web.Request) -> web.Response:
    return await _problem_act(request, "close")


@needs("read", "GET", "/api/v1/maintenance")
async def list_windows(request: web.Request) -> web.Response:
    """Windows set through the API, and those of rules/maintenance.yaml."""
    rt = request.app[RUNTIME]
    now = datetime.now(UTC)
    api = [doc | {"source": "api"} for doc in await rt.store.list_windows()
           if datetime.fromisoformat(doc["end"]) > now]
    rules = getattr(rt.committer.processor.dispatcher, "rules", None)
    from_rules = [window_doc(w, "") | {"source": "rules"} for w in getattr(rules, "windows", ())]
    return json_response({"windows": api + from_rules})


@needs("write", "POST", "/api/v1/maintenance")
async def set_window(request: web.Request) -> web.Response:
    """``{"name", "cis": [...], "start"?, "end", "reason"?, "include_dependents"?}``."""
    rt = request.app[RUNTIME]
    who = request.get(PRINCIPAL, ANONYMOUS_ADMIN)
    try:
        doc = await _json_object(request)
        unknown = set(doc) - {"name", "cis", "start", "end", "reason", "include_dependents"}
        if unknown:
            raise IntakeError("unknown_field", f"unknown fields {sorted(unknown)}",
                              sorted(unknown)[0])
        name = _text(doc, "name", required=True, limit=128)
        cis = doc.get("cis")
        if not isinstance(cis, list) or not cis or not all(isinstance(c, str) for c in cis):
            raise IntakeError("bad_field", "'cis' must be a non-empty list of CI ids", "cis")
        missing = [c for c in cis if rt.cmdb.get(c) is None]
        if missing:
            raise IntakeError("unknown_ci", f"not in the CMDB: {missing}", "cis")
        now = datetime.now(UTC)
        start = parse_time(doc["start"], "start") if doc.get("start") else now
        if not doc.get("end"):
            raise IntakeError("missing_field", "'end' is required", "end")
        end = parse_time(doc["end"], "end")
        if end <= start:
            raise IntakeError("bad_field", "'end' must be after 'start'", "end")
        window = Window(name, frozenset(cis), start, end,
                        include_dependents=doc.get("include_dependents", True) is not False,
                        reason=_text(doc, "reason", limit=1024))
        stored = window_doc(window, who.name)
        await rt.committer.submit(SetWindow(stored))
    except IntakeError as e:
        return json_response(e.as_json(), 400)
    except Overloaded as e:
        return overloaded(e)
    return json_response(stored, 201)


@needs("write", "DELETE", "/api/v1/maintenance/{name}")
async def end_window(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    name = request.match_info["name"]
    known = {doc["name"] for doc in await rt.store.list_windows()}
    if name not in known:
        return error(404, "not_found", f"no maintenance window {name!r} set through the API",
                     "name")
    try:
        await rt.committer.submit(SetWindow({"name": name}, end_only=True))
    except Overloaded as e:
        return overloaded(e)
    return json_response({"name": name, "status": "ended"})


@needs("write", "POST", "/api/v1/incidents")
async def open_incident(request: web.Request) -> web.Response:
    """A person or a system opens an incident by hand; it goes through the same pipeline."""
    rt = request.app[RUNTIME]
    who = request.get(PRINCIPAL, ANONYMOUS_ADMIN)
    try:
        doc = await _json_object(request)
        unknown = set(doc) - _MANUAL_KEYS
        if unknown:
            raise IntakeError("unknown_field", f"unknown fields {sorted(unknown)}"
                              f" (known: {sorted(_MANUAL_KEYS)})", sorted(unknown)[0])
        title = _text(doc, "title", required=True, limit=256)
        ci = _text(doc, "ci", limit=256)
        if ci and rt.cmdb.get(ci) is None:
            raise IntakeError("unknown_ci", f"no CI {ci!r} in the CMDB", "ci")
        extra = doc.get("labels") or {}
        if not isinstance(extra, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
            raise IntakeError("bad_labels", "labels must be a map of strings", "labels")
        labels = {**extra, "alertname": title, "severity": _text(doc, "severity", limit=32)
                  or "warning", "opened_by": who.name, "manual_id": secrets.token_hex(6)}
        if ci:
            labels["ci"] = ci
        annotations = {k: _text(doc, k, limit=65536) for k in ("summary", "description",
                                                                "runbook_url") if doc.get(k)}
        alert = Alert(fingerprint(labels), AlertStatus.FIRING, frozen_labels(labels),
                      frozen_labels(annotations), datetime.now(UTC), None, "", "api")
        await rt.committer.submit(Intake([alert], "api"))
    except IntakeError as e:
        return json_response(e.as_json(), 400)
    except Overloaded as e:
        return overloaded(e)
    for rec in await rt.store.list_incidents(IncidentQuery(limit=50)):
        eps = await rt.store.incident_episodes(rec.id)
        if any(e.fingerprint == alert.fingerprint for e in eps):
            return json_response(incident_summary(rec, eps), 201)
    return json_response({"status": "stored", "fingerprint": alert.fingerprint}, 201)
