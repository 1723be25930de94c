"""Every route the daemon serves, with every role, no token and a bad token."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingestd.api.auth import ROLES
from ingestd.api.routes import ROUTE_ROLES
from ingestd.app import Daemon
from ingestd.config import Settings
from tests.conftest import ROOT, DaemonProcess, fixture_bodies

from .secured import BAD_TOKEN, TOKENS, auth, call, error_of, write_tokens


def served_routes(tmp: Path) -> list[tuple[str, str]]:
    """(method, path) of every route of the application ``ingestd serve`` builds."""
    settings = Settings(cmdb=str(ROOT / "cmdb.yaml"), rules=str(ROOT / "rules"),
                        db=f"sqlite:///{tmp / 'unused.db'}", auth="none")
    app = Daemon(settings).build_app()
    out = []
    for route in app.router.routes():
        resource = route.resource
        if resource is not None:
            out.append((route.method, resource.canonical))
    return sorted(set(out))


def test_every_served_route_declares_its_role(tmp_path: Path) -> None:
    undeclared = [(m, p) for m, p in served_routes(tmp_path)
                  if (("GET" if m == "HEAD" else m), p) not in ROUTE_ROLES]
    assert not undeclared, f"routes with no role in ROUTE_ROLES (open to anyone): {undeclared}"


@pytest.fixture
def secured(daemon_factory: type[DaemonProcess], tmp_path: Path) -> DaemonProcess:
    d = daemon_factory(extra=["--tokens", str(write_tokens(tmp_path)), "--log-level", "debug"])
    d.start()
    return d


def test_roles_on_every_route(secured: DaemonProcess, tmp_path: Path) -> None:
    d = secured
    status, raw = call(d.url + "/api/v1/alerts/alertmanager", "POST",
                       fixture_bodies()["firing-grouped-4.json"], auth(TOKENS["ingest"]))
    assert status == 200, raw
    status, raw = call(d.url + "/api/v1/incidents?status=any", headers=auth(TOKENS["read"]))
    incident = json.loads(raw)["incidents"][0]["id"]
    title = json.loads(raw)["incidents"][0]["title"].encode()
    bodies = {"/api/v1/alerts/alertmanager": fixture_bodies()["firing-single.json"]}
    walked = 0
    for method, path in served_routes(tmp_path):
        role = ROUTE_ROLES[("GET" if method == "HEAD" else method, path)]
        url = d.url + path.replace("{id}", incident if "incidents" in path else "nope")
        url = re.sub(r"\{[^}]+\}", "nosuch", url)
        data = bodies.get(path, b'{"note": "walked"}') if method == "POST" else None
        for who in (None, "bad", *ROLES):
            token = BAD_TOKEN if who == "bad" else TOKENS.get(who or "")
            status, raw = call(url, method, data, auth(token))
            walked += 1
            where = f"{method} {path} as {who}: {status} {raw[:200]!r}"
            assert status < 500, where
            if role is None and path.startswith("/console"):
                # the console signs people in itself: without a session it shows nothing
                assert status in (200, 302, 303, 401, 403, 404) and title not in raw, where
            elif role is None:
                assert status == 200, where
            elif who in (None, "bad"):
                assert status == 401, where
                assert method == "HEAD" or error_of(raw) == "unauthorized", where
            elif who == role or who == "admin":
                assert status not in (401, 403), where
                if method in ("GET", "HEAD") and ("{" not in path or path.endswith("incidents/{id}")):
                    assert status == 200, where
            else:
                assert status == 403, where
                assert method == "HEAD" or error_of(raw) == "forbidden", where
    assert walked >= 6 * 20


def test_bearer_scheme_is_required(secured: DaemonProcess) -> None:
    url = secured.url + "/api/v1/incidents"
    for header in (TOKENS["read"], f"Basic {TOKENS['read']}", "Bearer", "Bearer  ",
                   f"Bearer {TOKENS['read']}x", f"Bearer {TOKENS['read'][:-1]}"):
        status, raw = call(url, headers={"Authorization": header})
        assert status == 401, header
    status, _ = call(url, headers={"Authorization": f"bearer {TOKENS['read']}"})
    assert status == 200
