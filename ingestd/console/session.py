"""Who is looking: the token kept in a cookie, roles, and CSRF tokens for every form.

The login form takes an API token and keeps it in a ``Secure``, ``HttpOnly``,
``SameSite=Strict`` cookie; each request checks it against the token book again,
so a token removed from the file stops working at once. Forms carry a CSRF
token: an HMAC, under a key the process draws at start, of a random value kept
in a second cookie of the same kind (double submit, signed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web

from ingestd.api.auth import ANONYMOUS_ADMIN, Principal
from ingestd.api.state import RUNTIME

SESSION_COOKIE = "ingestd_session"
CSRF_COOKIE = "ingestd_csrf"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/console"
MAX_AGE = 12 * 3600

SECRET: web.AppKey[bytes] = web.AppKey("console_secret", bytes)


def auth_off(request: web.Request) -> bool:
    return request.app[RUNTIME].tokens is None


def viewer(request: web.Request) -> Principal | None:
    """The principal behind the session cookie; everyone is admin when auth is off."""
    tokens = request.app[RUNTIME].tokens
    if tokens is None:
        return ANONYMOUS_ADMIN
    presented = request.cookies.get(SESSION_COOKIE, "")
    return tokens.lookup(presented) if presented else None


def set_cookie(resp: web.StreamResponse, name: str, value: str, max_age: int | None) -> None:
    resp.set_cookie(name, value, path=COOKIE_PATH, max_age=max_age, secure=True, httponly=True,
                    samesite="Strict")


def log_in(resp: web.StreamResponse, token: str) -> None:
    set_cookie(resp, SESSION_COOKIE, token, MAX_AGE)


def log_out(resp: web.StreamResponse) -> None:
    resp.del_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=True, httponly=True,
                    samesite="Strict")


@dataclass(slots=True)
class Visit:
    """One request's viewer and the random value behind this browser's CSRF tokens."""

    principal: Principal | None
    seed: str
    new_seed: bool = False
    token: str = ""
    """The CSRF token to put in this page's forms."""


def begin(request: web.Request) -> Visit:
    """Who is looking, and the CSRF seed (drawn on first sight of this browser)."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    fresh = len(seed) < 32
    if fresh:
        seed = secrets.token_urlsafe(32)
    token = hmac.new(request.app[SECRET], seed.encode(), hashlib.sha256).hexdigest()
    return Visit(viewer(request), seed, fresh, token)


def csrf_ok(request: web.Request, presented: str) -> bool:
    seed = request.cookies.get(CSRF_COOKIE, "")
    if len(seed) < 32 or not presented:
        return False
    want = hmac.new(request.app[SECRET], seed.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, presented)


def finish(visit: Visit, resp: web.StreamResponse) -> web.StreamResponse:
    """Set the CSRF cookie if this visit drew a new seed, and the security headers."""
    if visit.new_seed:
        set_cookie(resp, CSRF_COOKIE, visit.seed, None)
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp
