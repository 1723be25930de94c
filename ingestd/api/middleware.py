"""Authentication: every route declares its role in ROUTE_ROLES; the rest is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ingestd.api.auth import ANONYMOUS_ADMIN
from ingestd.api.routes import ROUTE_ROLES, error
from ingestd.api.state import PRINCIPAL, RUNTIME

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    tokens = request.app[RUNTIME].tokens
    if tokens is None:  # --auth none: every route is open to everyone
        request[PRINCIPAL] = ANONYMOUS_ADMIN
        return await handler(request)
    info = request.match_info.route.resource
    path = info.canonical if info is not None else request.path
    key = ("GET" if request.method == "HEAD" else request.method, path)  # HEAD runs GET's handler
    if key not in ROUTE_ROLES:  # 404/405 answered by aiohttp itself, or a sub-app's route
        return await handler(request)
    role = ROUTE_ROLES[key]
    if role is None:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return error(401, "unauthorized", "send 'Authorization: Bearer <token>'",
                     headers={"WWW-Authenticate": 'Bearer realm="ingestd"'})
    who = tokens.lookup(presented.strip())
    if who is None:
        return error(401, "unauthorized", "the token is not known",
                     headers={"WWW-Authenticate": 'Bearer realm="ingestd", error="invalid_token"'})
    if not who.may(role):
        return error(403, "forbidden", f"token {who.name!r} lacks the role {role!r}")
    request[PRINCIPAL] = who
    return await handler(request)
