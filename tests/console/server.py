"""The daemon with its console, run in-process on a free port in a thread of its own,
so that synchronous clients (a browser driver, urllib) can talk to it."""

from __future__ import annotations

import asyncio
import html
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from ingestd.app import Daemon
from ingestd.config import Settings
from tests.conftest import ROOT, free_port

TOKENS = {
    "admin": ("admin-token-0001", ["admin"]),
    "writer": ("writer-token-0001", ["read", "write"]),
    "reader": ("reader-token-0001", ["read"]),
    "feeder": ("feeder-token-0001", ["ingest"]),
}


def wire(app: web.Application, poll_seconds: float) -> None:
    """Add the console and the reports unless the composition root already did."""
    import ingestd.console
    import ingestd.reports

    paths = {r.canonical for r in app.router.resources()}
    if "/api/v1/reports" not in paths:
        ingestd.reports.setup(app)
    if "/console/" not in paths:
        ingestd.console.setup(app, poll_seconds=poll_seconds)
    else:
        from ingestd.console.render import POLL_SECONDS

        app[POLL_SECONDS] = poll_seconds


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str
    cookies: dict[str, str] = field(default_factory=dict)


class ConsoleServer:
    def __init__(self, tmp: Path, auth: bool = True, poll_seconds: float = 1.0) -> None:
        self.port = free_port()
        tokens = tmp / "tokens.yaml"
        tokens.write_text(json.dumps([{"name": n, "token": t, "roles": r}
                                      for n, (t, r) in TOKENS.items()]))
        self.settings = Settings(listen=f"127.0.0.1:{self.port}", cmdb=str(ROOT / "cmdb.yaml"),
                                 rules=str(ROOT / "rules"), db=f"sqlite:///{tmp / 'ingestd.db'}",
                                 auth="tokens" if auth else "none",
                                 tokens=str(tokens) if auth else None)
        self.poll_seconds = poll_seconds
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ingestd", daemon=True)
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None
        self.opener = urllib.request.build_opener(NoRedirect)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ConsoleServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    async def _start(self) -> None:
        self.app = Daemon(self.settings).build_app()
        wire(self.app, self.poll_seconds)
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        if self.runner is not None:
            done = asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop)
            try:
                done.result(15)
            except TimeoutError:  # a shutdown that hangs is the daemon's test to fail, not ours
                warnings.warn("the daemon did not shut down within 15 s", stacklevel=2)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    # -- a plain HTTP client that shows redirects and cookies as they are ----------------

    def request(self, method: str, path: str, *, cookies: dict[str, str] | None = None,
                form: dict[str, str] | None = None, json_body: object = None,
                bearer: str | None = None) -> Reply:
        data = None
        headers = {}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            resp = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as e:
            resp = e
        body = html.unescape(resp.read().decode("utf-8", "replace"))
        got: dict[str, str] = {}
        for line in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            got[name.strip()] = rest.split(";")[0]
        return Reply(resp.status, {k: v for k, v in resp.headers.items()}, body, got)

    def post_alert(self, labels: dict[str, str], starts_at: str,
                   status: str = "firing") -> Reply:
        body = {
            "version": "4", "receiver": "ingestd", "status": status,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093", "groupKey": "{}:{}",
            "truncatedAlerts": 0,
            "alerts": [{"status": status, "labels": labels,
                        "annotations": {"summary": f"{labels.get('alertname')} test"},
                        "startsAt": starts_at, "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": "http://prometheus.example:9090/graph"}],
        }
        for _ in range(50):  # like Alertmanager: a 503 is retried
            reply = self.request("POST", "/api/v1/alerts/alertmanager", json_body=body,
                                 bearer=TOKENS["feeder"][0])
            if reply.status != 503:
                break
            time.sleep(0.1)
        return reply
