"""Templates, the role guard every console handler goes through, and error pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from markupsafe import Markup

from ingestd.console import session
from ingestd.store.codec import ts

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Page = Callable[[web.Request, session.Visit], Awaitable[web.StreamResponse]]

POLL_SECONDS: web.AppKey[float] = web.AppKey("console_poll_seconds", float)


def _time(dt: datetime | None) -> Markup:
    """A UTC time the page's script shows in the viewer's time zone (UTC without script)."""
    if dt is None:
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(
        ts(dt), dt.strftime("%Y-%m-%d %H:%M UTC"))


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("ingestd.console", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True,
)
ENV.filters["time"] = _time


def page(request: web.Request, visit: session.Visit, template: str, status: int = 200,
         **ctx: Any) -> web.Response:
    who = visit.principal
    text = ENV.get_template(template).render(
        viewer=who, auth_off=session.auth_off(request), csrf=visit.token,
        may_write=bool(who and who.may("write")), path=request.path,
        poll_seconds=request.app.get(POLL_SECONDS, 5.0), **ctx)
    resp = web.Response(text=text, status=status, content_type="text/html")
    session.finish(visit, resp)
    return resp


def problem(request: web.Request, visit: session.Visit, status: int, title: str,
            detail: str) -> web.Response:
    return page(request, visit, "error.html", status, title=title, detail=detail)


async def csrf_refused(request: web.Request, visit: session.Visit) -> web.Response | None:
    """An error page unless the posted form carries this browser's CSRF token."""
    data = await request.post()
    presented = data.get(session.CSRF_FIELD)
    if isinstance(presented, str) and session.csrf_ok(request, presented):
        return None
    return problem(request, visit, 403, "Form expired",
                   "The form's security token is missing or stale; nothing was changed."
                   " Reload the page and try again.")


def guard(role: str, *, form: bool = False) -> Callable[[Page], Handler]:
    """Refuse a viewer without ``role``; for forms, refuse a request without its CSRF token."""

    def wrap(handler: Page) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            visit = session.begin(request)
            who = visit.principal
            if who is None:
                if request.method == "GET":
                    target = request.path_qs
                    raise web.HTTPSeeOther(f"/console/login?next={quote(target, safe='')}")
                return problem(request, visit, 401, "Not logged in",
                               "Log in with a token first; nothing was changed.")
            if not who.may(role):
                return problem(request, visit, 403, "Not allowed",
                               f"The token {who.name!r} lacks the role {role!r} this page needs.")
            if form and (refused := await csrf_refused(request, visit)) is not None:
                return refused
            return session.finish(visit, await handler(request, visit))

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    return wrap
