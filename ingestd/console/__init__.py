"""The web console: incidents, one incident with its dependency graph, CIs, service numbers.

Server-rendered (Jinja2 templates, a little plain JavaScript for live updates
and local times; everything works without it). Access goes by the API's tokens
and roles, presented once in a login form and kept in a cookie
(:mod:`ingestd.console.session`); every form carries a CSRF token.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from ingestd.api.routes import ROUTE_ROLES
from ingestd.console import forms, pages, session
from ingestd.console.render import POLL_SECONDS, Handler


def _pages() -> list[tuple[str, str, str | None, Handler]]:
    table: list[tuple[str, str, str | None, Handler]] = [
        ("GET", "/", None, forms.root),
        ("GET", "/console/login", None, forms.login_form),
        ("POST", "/console/login", None, forms.login),
        ("POST", "/console/logout", None, forms.logout),
        ("GET", "/console/static/{name}", None, forms.static),
        ("GET", "/console/", "read", pages.incidents),
        ("GET", "/console/fragments/incidents", "read", pages.incident_rows),
        ("GET", "/console/incidents/{id}", "read", pages.incident),
        ("GET", "/console/cis/{ci}", "read", pages.ci_page),
        ("GET", "/console/reports", "read", pages.reports_page),
    ]
    for kind in forms.ACTIONS:
        table.append(("POST", f"/console/incidents/{{id}}/{kind}", "write", forms.act(kind)))
    return table


PAGES = _pages()

CONSOLE_ROLES: dict[tuple[str, str], str | None] = {(m, p): role for m, p, role, _ in PAGES}
"""(method, path) -> the role the console itself demands of the viewer (None: anyone).

The API middleware sees these paths as open (ROUTE_ROLES None): the console
checks its session cookie and the role itself.
"""


def setup(app: web.Application, *, poll_seconds: float = 5.0) -> None:
    """Mount the console under ``/console/`` (and redirect ``/`` there)."""
    app[session.SECRET] = secrets.token_bytes(32)
    app[POLL_SECONDS] = poll_seconds
    for method, path, _role, handler in PAGES:
        ROUTE_ROLES[(method, path)] = None
        app.router.add_route(method, path, handler)
