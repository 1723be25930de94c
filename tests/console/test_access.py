"""Every console route refuses a viewer without its role; every form refuses a request
without its CSRF token; the login keeps the token in a Secure, HttpOnly, SameSite cookie."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from ingestd.console import CONSOLE_ROLES
from tests.console.server import TOKENS, ConsoleServer

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def login(server: ConsoleServer, who: str) -> tuple[dict[str, str], str]:
    """Log in through the form; the session and CSRF cookies, and a form's CSRF token."""
    form = server.request("GET", "/console/login")
    m = CSRF.search(form.body)
    assert m is not None
    cookies = dict(form.cookies)
    done = server.request("POST", "/console/login", cookies=cookies,
                          form={"csrf_token": m.group(1), "token": TOKENS[who][0],
                                "next": "/console/"})
    assert done.status == 303, done.body
    cookies.update(done.cookies)
    return cookies, m.group(1)


def open_incident(server: ConsoleServer, ci_instance: str = "node-1:9100") -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert server.post_alert({"alertname": "HostDown", "instance": ci_instance,
                              "severity": "critical"}, now).status == 200
    listed = server.request("GET", "/api/v1/incidents", bearer=TOKENS["reader"][0])
    return re.findall(r'"id":"([^"]+)"', listed.body)[0]


def concrete(path: str, incident: str) -> str:
    return path.replace("{id}", incident).replace("{ci}", "node-1").replace("{name}", "console.css")


READ_PAGES = sorted(p for (m, p), role in CONSOLE_ROLES.items() if m == "GET" and role == "read")
FORMS = sorted(p for (m, p), role in CONSOLE_ROLES.items() if m == "POST" and role == "write")


def test_the_route_table_names_every_console_page() -> None:
    assert READ_PAGES == ["/console/", "/console/cis/{ci}", "/console/fragments/incidents",
                          "/console/incidents/{id}", "/console/reports"]
    assert FORMS == [f"/console/incidents/{{id}}/{k}"
                     for k in sorted(["acknowledge", "assign", "note", "resolve", "reopen"])]


def test_login_sets_a_secure_httponly_strict_cookie(server: ConsoleServer) -> None:
    form = server.request("GET", "/console/login")
    token = CSRF.search(form.body).group(1)  # type: ignore[union-attr]
    done = server.request("POST", "/console/login", cookies=form.cookies,
                          form={"csrf_token": token, "token": TOKENS["reader"][0],
                                "next": "/console/reports"})
    assert done.status == 303 and done.headers["Location"] == "/console/reports"
    cookie = done.headers["Set-Cookie"]
    assert "ingestd_session=" in cookie
    for attr in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/console"):
        assert attr in cookie


def test_login_refuses_unknown_token_and_missing_csrf(server: ConsoleServer) -> None:
    form = server.request("GET", "/console/login")
    token = CSRF.search(form.body).group(1)  # type: ignore[union-attr]
    bad = server.request("POST", "/console/login", cookies=form.cookies,
                         form={"csrf_token": token, "token": "not-a-token-at-all"})
    assert bad.status == 401 and "ingestd_session" not in bad.cookies
    assert "not known" in bad.body
    no_csrf = server.request("POST", "/console/login", cookies=form.cookies,
                             form={"token": TOKENS["admin"][0]})
    assert no_csrf.status == 403 and "ingestd_session" not in no_csrf.cookies


def test_login_never_redirects_off_the_console(server: ConsoleServer) -> None:
    form = server.request("GET", "/console/login")
    token = CSRF.search(form.body).group(1)  # type: ignore[union-attr]
    done = server.request("POST", "/console/login", cookies=form.cookies,
                          form={"csrf_token": token, "token": TOKENS["reader"][0],
                                "next": "https://evil.example/"})
    assert done.headers["Location"] == "/console/"


def test_every_page_refuses_a_viewer_without_the_read_role(server: ConsoleServer) -> None:
    incident = open_incident(server)
    feeder, _ = login(server, "feeder")  # a valid token, but only for intake
    reader, _ = login(server, "reader")
    for path in READ_PAGES:
        url = concrete(path, incident)
        anon = server.request("GET", url)
        assert anon.status == 303 and anon.headers["Location"].startswith("/console/login"), url
        forged = server.request("GET", url, cookies={"ingestd_session": "forged-token-123"})
        assert forged.status == 303, url
        refused = server.request("GET", url, cookies=feeder)
        assert refused.status == 403 and "lacks the role 'read'" in refused.body, url
        ok = server.request("GET", url, cookies=reader)
        assert ok.status == 200, (url, ok.body[:300])


def test_every_form_refuses_a_viewer_without_the_write_role(server: ConsoleServer) -> None:
    incident = open_incident(server)
    reader, token = login(server, "reader")
    before = server.request("GET", f"/api/v1/incidents/{incident}", bearer=TOKENS["reader"][0])
    for path in FORMS:
        url = concrete(path, incident)
        form = {"csrf_token": token, "note": "n", "assignee": "ann"}
        assert server.request("POST", url, form=form).status == 401, url
        refused = server.request("POST", url, cookies=reader, form=form)
        assert refused.status == 403 and "lacks the role 'write'" in refused.body, url
    after = server.request("GET", f"/api/v1/incidents/{incident}", bearer=TOKENS["reader"][0])
    assert '"status":"open"' in after.body
    assert after.body == before.body  # nothing changed


@pytest.mark.parametrize("kind", ["acknowledge", "assign", "note", "resolve", "reopen"])
def test_every_form_refuses_a_request_without_its_csrf_token(server: ConsoleServer,
                                                             kind: str) -> None:
    incident = open_incident(server)
    writer, token = login(server, "writer")
    url = f"/console/incidents/{incident}/{kind}"
    if kind == "reopen":  # reopen applies to a resolved incident
        assert server.request("POST", f"/console/incidents/{incident}/resolve", cookies=writer,
                              form={"csrf_token": token, "note": "fixed"}).status == 303
    before = server.request("GET", f"/api/v1/incidents/{incident}", bearer=TOKENS["reader"][0])
    form = {"note": "by a forged form", "assignee": "mallory"}
    for bad in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}):
        refused = server.request("POST", url, cookies=writer, form={**form, **bad})
        assert refused.status == 403 and "security token" in refused.body
    other_browser = {"ingestd_session": writer["ingestd_session"], "ingestd_csrf": "x" * 43}
    assert server.request("POST", url, cookies=other_browser,
                          form={**form, "csrf_token": token}).status == 403
    after = server.request("GET", f"/api/v1/incidents/{incident}", bearer=TOKENS["reader"][0])
    assert after.body == before.body  # nothing changed
    ok = server.request("POST", url, cookies=writer, form={**form, "csrf_token": token})
    assert ok.status == 303 and ok.headers["Location"].endswith(f"?done={kind}")


def test_logout_needs_its_csrf_token_and_clears_the_session(server: ConsoleServer) -> None:
    reader, token = login(server, "reader")
    assert server.request("POST", "/console/logout", cookies=reader).status == 403
    out = server.request("POST", "/console/logout", cookies=reader, form={"csrf_token": token})
    assert out.status == 303
    assert out.cookies["ingestd_session"] in ("", '""')


def test_reports_api_needs_a_read_token(server: ConsoleServer) -> None:
    assert server.request("GET", "/api/v1/reports").status == 401
    assert server.request("GET", "/api/v1/reports", bearer=TOKENS["feeder"][0]).status == 403
    ok = server.request("GET", "/api/v1/reports?days=7", bearer=TOKENS["reader"][0])
    assert ok.status == 200 and '"days":7.0' in ok.body
    bad = server.request("GET", "/api/v1/reports?days=0", bearer=TOKENS["reader"][0])
    assert bad.status == 400 and "days" in bad.body


def test_root_redirects_to_the_console(server: ConsoleServer) -> None:
    r = server.request("GET", "/")
    assert r.status == 302 and r.headers["Location"] == "/console/"


def test_with_auth_off_everyone_is_admin_but_forms_still_need_csrf(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = ConsoleServer(tmp_path, auth=False).start()
    try:
        incident = open_incident(server)
        page = server.request("GET", f"/console/incidents/{incident}")
        assert page.status == 200 and "Acknowledge" in page.body
        token = CSRF.search(page.body).group(1)  # type: ignore[union-attr]
        url = f"/console/incidents/{incident}/acknowledge"
        assert server.request("POST", url, cookies=page.cookies).status == 403
        done = server.request("POST", url, cookies=page.cookies, form={"csrf_token": token})
        assert done.status == 303
        assert server.request("GET", "/console/login").status == 303
    finally:
        server.stop()
