"""The console's forms: log in and out, and the actions on an incident.

Actions go to the pipeline's single writer exactly as the API's do
(``committer.submit(Action(...))``); the pipeline decides what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from ingestd.api.state import RUNTIME
from ingestd.console import session
from ingestd.console.render import Handler, csrf_refused, guard, page, problem
from ingestd.intake.errors import Overloaded
from ingestd.pipeline.work import Action

ACTIONS = ("acknowledge", "assign", "note", "resolve", "reopen")
MAX_NOTE = 64 * 1024
STATIC = Path(__file__).with_name("static")
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


async def login_form(request: web.Request) -> web.StreamResponse:
    if session.auth_off(request):
        raise web.HTTPSeeOther(_safe_next(request.query.get("next")))
    visit = session.begin(request)
    return page(request, visit, "login.html", next=_safe_next(request.query.get("next")),
                failed=False)


async def login(request: web.Request) -> web.StreamResponse:
    visit = session.begin(request)
    if (refused := await csrf_refused(request, visit)) is not None:
        return refused
    data = await request.post()
    target = _safe_next(str(data.get("next", "")))
    tokens = request.app[RUNTIME].tokens
    if tokens is None:
        raise web.HTTPSeeOther(target)
    token = str(data.get("token", "")).strip()
    who = tokens.lookup(token) if token else None
    if who is None:
        return page(request, visit, "login.html", 401, next=target, failed=True)
    resp = see_other(target)
    session.log_in(resp, token)
    return session.finish(visit, resp)


async def logout(request: web.Request) -> web.StreamResponse:
    visit = session.begin(request)
    if (refused := await csrf_refused(request, visit)) is not None:
        return refused
    resp = see_other("/console/login")
    session.log_out(resp)
    return session.finish(visit, resp)


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=path.read_bytes(), content_type=STATIC_TYPES[path.suffix],
                        headers={"Cache-Control": "max-age=300",
                                 "X-Content-Type-Options": "nosniff"})


def act(kind: str) -> Handler:
    """The POST handler for one action on an incident."""

    @guard("write", form=True)
    async def handler(request: web.Request, visit: session.Visit) -> web.StreamResponse:
        rt = request.app[RUNTIME]
        incident_id = request.match_info["id"]
        data = await request.post()
        note = str(data.get("note", "")).strip()
        assignee = str(data.get("assignee", "")).strip() or None
        back = f"/console/incidents/{quote(incident_id, safe='')}"
        if len(note) > MAX_NOTE:
            return problem(request, visit, 400, "Note too long",
                           f"A note holds at most {MAX_NOTE} characters.")
        if kind == "resolve" and not note:
            return problem(request, visit, 400, "Resolution note needed",
                           "Say how it was resolved: the note becomes knowledge for the next"
                           " time.")
        who = visit.principal
        assert who is not None  # the guard let only a viewer with the role through
        try:
            result = await rt.committer.submit(Action(incident_id, kind, who.name, note,
                                                      assignee))
        except Overloaded as e:
            return problem(request, visit, 503, "Busy", f"{e.reason}; try again in a moment.")
        if result.error is not None:
            return problem(request, visit, result.error.status, "Not done", result.error.detail)
        return see_other(f"{back}?done={kind}")

    handler.__name__ = f"act_{kind}"
    return handler
