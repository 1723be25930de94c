"""The real Prometheus and Alertmanager binaries, run on 127.0.0.1 beside a real ingestd.

Each binary runs as a subprocess on a free port with a temporary data directory
and a generated config; a fixture waits for ``/-/ready``, checks the process is
still alive (a port already taken makes it exit at once), and stops it with
SIGTERM, then SIGKILL. The binaries come from the Debian packages
``prometheus`` and ``prometheus-alertmanager`` (``make system-deps``); when one
is missing the tests fail and say so rather than skip.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, DaemonProcess, free_port

INGEST_TOKEN = "e2e-alertmanager-token-1"
READ_TOKEN = "e2e-reader-token-1"
WEBHOOK_PATH = "/api/v1/alerts/alertmanager"
DEPLOY = ROOT / "deploy"
SHIPPED_ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
SHIPPED_PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
SHIPPED_RULES = DEPLOY / "prometheus" / "ingestd.rules.yml"
SHIPPED_RULES_TEST = DEPLOY / "prometheus" / "ingestd.rules.test.yml"

T = TypeVar("T")


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not on PATH: the end-to-end tests run the real Prometheus and"
                    " Alertmanager. Install them with `make system-deps` (Debian packages"
                    " prometheus and prometheus-alertmanager, as root).", pytrace=False)
    return path


# -- small HTTP helpers ----------------------------------------------------------------


def http(method: str, url: str, body: Any = None, token: str | None = None,
         timeout: float = 5.0) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get_json(url: str, token: str | None = None) -> Any:
    status, body = http("GET", url, token=token)
    assert status == 200, f"GET {url}: {status} {body[:300]!r}"
    return json.loads(body)


def metric_value(url: str, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` with these labels in a /metrics page (0 if none)."""
    _, text = http("GET", url + "/metrics")
    total = 0.0
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def wait_until(check: Callable[[], T | None], timeout: float, what: str,
               logs: tuple[Path, ...] = ()) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` and the logs."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            got = check()
            if got:
                return got
        except (OSError, AssertionError, ValueError) as e:
            last = e
        time.sleep(0.1)
    tails = "\n".join(f"--- {p.name} ---\n{tail(p)}" for p in logs)
    pytest.fail(f"gave up after {timeout}s waiting for {what} (last error: {last})\n{tails}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert(labels: dict[str, str], started_ago: float = 60.0, **annotations: str) -> dict[str, Any]:
    """An alert as pushed to Alertmanager's ``POST /api/v2/alerts``.

    ``startsAt`` lies in the past: a new group whose alerts are older than
    ``group_wait`` is sent at once (without it Alertmanager waits ``group_wait``).
    """
    return {"labels": labels, "annotations": annotations,
            "startsAt": rfc3339(datetime.now(UTC) - timedelta(seconds=started_ago)),
            "generatorURL": "http://127.0.0.1/e2e"}


# -- ingestd ---------------------------------------------------------------------------


class Ingestd(DaemonProcess):
    """``ingestd serve`` with bearer tokens: Alertmanager ingests, the tests read."""

    def __init__(self, tmp: Path, cmdb: Path | None = None) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        tokens = tmp / "tokens.yaml"
        tokens.write_text(yaml.safe_dump([
            {"name": "alertmanager", "token": INGEST_TOKEN, "roles": ["ingest"]},
            {"name": "e2e-reader", "token": READ_TOKEN, "roles": ["read"]},
        ]))
        super().__init__(tmp, cmdb or ROOT / "cmdb.yaml", ["--tokens", str(tokens)])

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def incidents(self) -> list[dict[str, Any]]:
        doc = get_json(self.url + "/api/v1/incidents?status=any&limit=500", READ_TOKEN)
        return list(doc["incidents"])

    def incidents_for(self, alertname: str) -> list[dict[str, Any]]:
        return [i for i in self.incidents()
                if any(a.get("alertname") == alertname for a in i["alerts"])]

    def metric(self, name: str, **labels: str) -> float:
        return metric_value(self.url, name, **labels)


# -- the binaries ----------------------------------------------------------------------


class Service:
    """One binary as a subprocess: started, waited for, stopped (SIGTERM, then SIGKILL)."""

    ready_path = "/-/ready"
    stop_grace = 5.0
    """Seconds between SIGTERM and SIGKILL."""

    def __init__(self, name: str, tmp: Path, port: int | None = None) -> None:
        self.name = name
        self.tmp = tmp
        self.port = port or free_port()
        self.log = tmp / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        tmp.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def args(self) -> list[str]:
        raise NotImplementedError

    def start(self, wait: float = 20.0) -> None:
        with self.log.open("ab") as logf:
            self.proc = subprocess.Popen(self.args(), cwd=self.tmp, stdout=logf, stderr=logf)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited {self.proc.returncode} at start:\n{tail(self.log)}",
                            pytrace=False)
            try:
                if http("GET", self.url + self.ready_path, timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail(f"{self.name} not ready after {wait}s:\n{tail(self.log)}", pytrace=False)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)

    def reap(self, grace: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(max(grace, 0.0))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def stop_all(services: list[Service]) -> None:
    """SIGTERM every service at once, then SIGKILL what is left after its grace."""
    for s in services:
        s.terminate()
    deadline = time.monotonic() + max((s.stop_grace for s in services), default=0.0)
    for s in services:
        s.reap(deadline - time.monotonic())


def shipped_alertmanager_config(receiver_url: str, token_file: Path | None) -> dict[str, Any]:
    """deploy/alertmanager/alertmanager.yml pointed at ``receiver_url``, with test timings.

    group_wait 1s and group_interval 2s instead of 5s and 30s; everything else
    (routes, grouping, webhook settings) is what users are told to run.
    """
    config = yaml.safe_load(SHIPPED_ALERTMANAGER.read_text())
    config["route"].update(group_wait="1s", group_interval="2s")
    (webhook,) = next(r for r in config["receivers"] if r["name"] == "ingestd")["webhook_configs"]
    webhook["url"] = receiver_url
    if token_file is None:
        del webhook["http_config"]
    else:
        webhook["http_config"]["authorization"]["credentials_file"] = str(token_file)
    return dict(config)


class Alertmanager(Service):
    def __init__(self, tmp: Path, receiver_url: str, *, name: str = "alertmanager",
                 token: str | None = INGEST_TOKEN, cluster_port: int | None = None,
                 peer: str | None = None) -> None:
        super().__init__(name, tmp / name)
        self.cluster_port = cluster_port
        self.peer = peer
        if cluster_port is not None:
            self.stop_grace = 1.0  # a clustered peer spends ~12 s leaving the gossip politely
        token_file = None
        if token is not None:
            token_file = self.tmp / "ingestd.token"
            token_file.write_text(token + "\n")
        self.config = shipped_alertmanager_config(receiver_url, token_file)
        self.config_file = self.tmp / "alertmanager.yml"
        self.config_file.write_text(yaml.safe_dump(self.config, sort_keys=False))

    def args(self) -> list[str]:
        args = [require_binary("prometheus-alertmanager"),
                f"--config.file={self.config_file}", f"--storage.path={self.tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", f"--web.external-url={self.url}"]
        if self.cluster_port is None:
            return [*args, "--cluster.listen-address="]  # Debian's default turns gossip on
        args += [f"--cluster.listen-address=127.0.0.1:{self.cluster_port}",
                 "--cluster.gossip-interval=50ms", "--cluster.peer-timeout=2s"]
        if self.peer:
            args.append(f"--cluster.peer={self.peer}")
        return args

    def push(self, alerts: list[dict[str, Any]]) -> None:
        status, body = http("POST", self.url + "/api/v2/alerts", alerts)
        assert status == 200, f"{self.name} refused the alerts: {status} {body!r}"

    def webhook_requests(self) -> tuple[float, float]:
        """(attempts, failed attempts) of webhook requests so far."""
        total = metric_value(self.url, "alertmanager_notification_requests_total",
                             integration="webhook")
        failed = metric_value(self.url, "alertmanager_notification_requests_failed_total",
                              integration="webhook")
        return total, failed


class Prometheus(Service):
    def __init__(self, tmp: Path, config: dict[str, Any], rules: dict[str, Any] | None = None,
                 rule_files: tuple[Path, ...] = ()) -> None:
        super().__init__("prometheus", tmp / "prometheus")
        files = [str(p) for p in rule_files]
        if rules is not None:
            path = self.tmp / "rules.yml"
            path.write_text(yaml.safe_dump(rules, sort_keys=False))
            files.append(str(path))
        self.config = {**config, "rule_files": files}
        self.config_file = self.tmp / "prometheus.yml"
        self.config_file.write_text(yaml.safe_dump(self.config, sort_keys=False))

    def args(self) -> list[str]:
        return [require_binary("prometheus"), f"--config.file={self.config_file}",
                f"--storage.tsdb.path={self.tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", f"--web.external-url={self.url}",
                # Re-send firing alerts every second rather than every minute: the first
                # evaluations happen before Alertmanager is discovered (~5 s) and are dropped.
                "--rules.alert.resend-delay=1s"]

    def api(self, path: str) -> Any:
        doc = get_json(self.url + path)
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))["result"])


# -- a scrape target whose value the test sets -----------------------------------------


class Exporter:
    """A tiny exporter: ``/metrics`` serves the gauges in ``values``; the test changes them."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = dict(values)
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                body = "".join(f"# TYPE {k} gauge\n{k} {v}\n"
                               for k, v in exporter.values.items()).encode()
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def binaries() -> dict[str, str]:
    """Paths of the real binaries; fails (never skips) with what to install when one is missing."""
    return {name: require_binary(name)
            for name in ("prometheus-alertmanager", "amtool", "prometheus", "promtool")}


@pytest.fixture
def services(binaries: dict[str, str]) -> Iterator[list[Service]]:
    """Services a test starts; all stopped at its end, in parallel."""
    started: list[Service] = []
    yield started
    stop_all(started)

