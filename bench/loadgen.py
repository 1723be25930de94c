"""A load generator for Alertmanager webhook bodies.

Bodies have the exact shape Alertmanager sends (``"version": "4"``, grouped
alerts with labels, annotations, ``startsAt``/``endsAt``, ``generatorURL`` and
``fingerprint``). A pool of ``distinct`` alerts is cycled, so most alerts are
re-sends of what the server already knows, as Alertmanager's traffic is; a
share of each body can instead be brand-new alerts, or resolutions of pool
alerts (which then fire again later as a new episode).

Closed loop (``rate=None``): ``concurrency`` connections post as fast as the
server answers. Open loop (``rate=N`` bodies/s): bodies are due on a fixed
schedule and latency is measured from when a body was due, so a slow server
cannot hide its queueing (no coordinated omission).

    python -m bench.loadgen --url http://127.0.0.1:9095 --alerts-per-body 20 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
import orjson

from ingestd.intake.fingerprint import fingerprint

INTAKE_PATH = "/api/v1/alerts/alertmanager"
_ZERO = "0001-01-01T00:00:00Z"
_EXTERNAL = "http://alertmanager-main-0.alertmanager-operated.monitoring.svc:9093"
_GENERATOR = ("http://prometheus-k8s.monitoring.svc:9090/graph?g0.expr=up%7Bjob%3D%22node%22%7D"
              "+%3D%3D+0&g0.tab=1")
_ALERTNAMES = ("NodeDown", "KubePodCrashLooping", "HighErrorRate", "TargetDown",
               "NodeFilesystemAlmostFull", "HighLatency", "RedisDown", "ProbeFailed")
_SEVERITIES = ("critical", "warning", "warning", "critical", "info")


def rfc3339(t: datetime) -> str:
    """Go's time format as Alertmanager prints it (nanosecond digits)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


@dataclass(frozen=True)
class AlertTemplate:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)


def default_labels(i: int) -> AlertTemplate:
    """The ``i``-th synthetic alert: node/pod/service style labels as exporters set them."""
    name = _ALERTNAMES[i % len(_ALERTNAMES)]
    labels = {
        "alertname": name,
        "cluster": "prod-eu-west-1",
        "instance": f"node-{i % 997}:9100",
        "job": "node",
        "namespace": f"ns-{i % 13}",
        "pod": f"app-{i}-7c9f8d6b5-x{i % 10}",
        "prometheus": "monitoring/k8s",
        "severity": _SEVERITIES[i % len(_SEVERITIES)],
    }
    annotations = {
        "summary": f"{name} on {labels['instance']}",
        "description": f"{name} has been true for more than 5 minutes on pod {labels['pod']}.",
    }
    return AlertTemplate(labels, annotations)


@dataclass
class _Slot:
    template: AlertTemplate
    fingerprint: str
    starts_at: datetime
    firing: bool = True
    sent: bool = False


class BodyMaker:
    """Builds webhook bodies; keeps track of what each pool alert's state is.

    ``templates`` gives the alert for index i (default: synthetic node/pod alerts);
    new alerts take indexes past the pool, so their fingerprints are never seen.
    """

    def __init__(self, alerts_per_body: int, distinct: int, new_share: float = 0.0,
                 resolved_share: float = 0.0, seed: int = 1,
                 templates: Sequence[AlertTemplate] | None = None,
                 start: datetime | None = None) -> None:
        if not 0 <= new_share + resolved_share <= 1:
            raise ValueError("new_share + resolved_share must be between 0 and 1")
        self.alerts_per_body = alerts_per_body
        self.new_share = new_share
        self.resolved_share = resolved_share
        self._rng = random.Random(seed)
        self._templates = templates
        self._t0 = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        self._event = self._t0
        self._next_new = distinct
        self._cursor = 0
        self.pool = [self._slot(i) for i in range(distinct)]
        self.kinds: Counter[str] = Counter()
        """Alerts put into bodies, by kind: new, resend, resolved, refire."""
        self.episodes = 0
        """Distinct (fingerprint, startsAt) sent: the episodes a server should store."""

    def _template(self, i: int) -> AlertTemplate:
        if self._templates is not None:
            return self._templates[i % len(self._templates)] if i < len(self._templates) \
                else _variant(self._templates[i % len(self._templates)], i)
        return default_labels(i)

    def _slot(self, i: int) -> _Slot:
        t = self._template(i)
        self._event += timedelta(milliseconds=1)
        return _Slot(t, t.fingerprint, self._event)

    def body(self) -> tuple[bytes, int]:
        """One body and the number of alerts in it."""
        parts: list[bytes] = []
        for _ in range(self.alerts_per_body):
            r = self._rng.random() if (self.new_share or self.resolved_share) else 1.0
            if r < self.new_share:
                slot = self._slot(self._next_new)
                self._next_new += 1
                self.kinds["new"] += 1
                self.episodes += 1
                parts.append(_alert_json(slot, None))
                continue
            slot = self.pool[self._cursor % len(self.pool)]
            self._cursor += 1
            if r < self.new_share + self.resolved_share and slot.firing:
                slot.firing = False
                self.kinds["resolved"] += 1
                self.episodes += not slot.sent
                slot.sent = True
                parts.append(_alert_json(slot, slot.starts_at + timedelta(minutes=5)))
                continue
            if not slot.firing:  # fires again: a new episode of the same fingerprint
                self._event += timedelta(milliseconds=1)
                slot.starts_at = self._event + timedelta(minutes=10)
                slot.firing = True
                self.kinds["refire"] += 1
                self.episodes += 1
            else:
                self.kinds["new" if not slot.sent else "resend"] += 1
                self.episodes += not slot.sent
            slot.sent = True
            parts.append(_alert_json(slot, None))
        return _wrap(parts), len(parts)


def _variant(t: AlertTemplate, i: int) -> AlertTemplate:
    labels = dict(t.labels)
    labels["replica"] = str(i)
    return AlertTemplate(labels, t.annotations)


def _alert_json(slot: _Slot, ends_at: datetime | None) -> bytes:
    return orjson.dumps({
        "status": "firing" if ends_at is None else "resolved",
        "labels": slot.template.labels,
        "annotations": slot.template.annotations,
        "startsAt": rfc3339(slot.starts_at),
        "endsAt": _ZERO if ends_at is None else rfc3339(ends_at),
        "generatorURL": _GENERATOR,
        "fingerprint": slot.fingerprint,
    })


_PREFIX = b'{"receiver":"ingestd","status":"firing","alerts":['
_SUFFIX = orjson.dumps({
    "groupLabels": {"alertname": "bench", "cluster": "prod-eu-west-1"},
    "commonLabels": {"cluster": "prod-eu-west-1", "prometheus": "monitoring/k8s"},
    "commonAnnotations": {}, "externalURL": _EXTERNAL, "version": "4",
    "groupKey": '{}:{alertname="bench", cluster="prod-eu-west-1"}', "truncatedAlerts": 0,
})


def _wrap(parts: list[bytes]) -> bytes:
    return _PREFIX + b",".join(parts) + b"]," + _SUFFIX[1:]


# -- running ---------------------------------------------------------------------------


@dataclass
class LoadResult:
    duration: float = 0.0
    bodies_ok: int = 0
    alerts_ok: int = 0
    bodies_sent: int = 0
    alerts_sent: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    """Bodies not answered 2xx, by status (or the exception's name)."""
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def bodies_per_s(self) -> float:
        return self.bodies_ok / self.duration if self.duration else 0.0

    @property
    def alerts_per_s(self) -> float:
        return self.alerts_ok / self.duration if self.duration else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]

    def summary(self) -> dict[str, object]:
        d = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        d.update(bodies_per_s=round(self.bodies_per_s, 1), alerts_per_s=round(self.alerts_per_s, 1),
                 p50_ms=round(self.percentile(50), 3), p90_ms=round(self.percentile(90), 3),
                 p99_ms=round(self.percentile(99), 3))
        return d


class _HttpConn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time (as Alertmanager posts).

    A minimal client: the generator must cost far less per body than the server
    it measures, which a full client library does not.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._fut: asyncio.Future[int] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._fut is not None and not self._fut.done():
            self._fut.set_exception(ConnectionResetError("server closed the connection"))

    def request(self, raw: bytes) -> asyncio.Future[int]:
        assert self.transport is not None
        self._buf.clear()
        self._fut = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return self._fut

    def data_received(self, data: bytes) -> None:
        self._buf += data
        buf = self._buf
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0 or self._fut is None or self._fut.done():
            return
        head = bytes(buf[:head_end]).lower()
        m = _CONTENT_LENGTH.search(head)
        if m is not None:
            if len(buf) - head_end - 4 < int(m.group(1)):
                return
        elif b"chunked" in head:
            if not buf.endswith(b"0\r\n\r\n"):
                return
        status = int(head[9:12])
        if b"connection: close" in head and self.transport is not None:
            self.transport.close()
        self._fut.set_result(status)


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)")


class _RawPoster:
    def __init__(self, url: str) -> None:
        u = urlsplit(url)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self._head = (f"POST {INTAKE_PATH} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                      "User-Agent: Alertmanager/0.27.0\r\nContent-Type: application/json\r\n"
                      "Content-Length: ").encode()
        self._conn: _HttpConn | None = None

    async def post(self, body: bytes) -> int:
        if self._conn is None or self._conn.closed:
            loop = asyncio.get_running_loop()
            _, self._conn = await loop.create_connection(_HttpConn, self.host, self.port)
        return await self._conn.request(self._head + str(len(body)).encode() + b"\r\n\r\n" + body)

    def close(self) -> None:
        if self._conn is not None and self._conn.transport is not None:
            self._conn.transport.close()


class _AiohttpPoster:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self._target = url.rstrip("/") + INTAKE_PATH
        self._session = session
        self._headers = {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.27.0"}

    async def post(self, body: bytes) -> int:
        async with self._session.post(self._target, data=body, headers=self._headers) as resp:
            await resp.read()
            return resp.status

    def close(self) -> None:
        pass


async def run_load(url: str, bodies: Iterator[tuple[bytes, int]], *, concurrency: int = 16,
                   duration: float = 10.0, rate: float | None = None, warmup: float = 0.0,
                   max_bodies: int | None = None, client: str = "raw",
                   on_answer: Callable[[bytes, int], None] | None = None) -> LoadResult:
    """Post bodies from ``bodies`` for ``duration`` seconds (after ``warmup``, not counted).

    Stops early when ``bodies`` runs out or ``max_bodies`` were sent. ``client`` is
    ``raw`` (a minimal HTTP/1.1 client, cheap enough not to be the bottleneck) or
    ``aiohttp``. ``on_answer(body, status)`` is called for every body answered (status 0:
    no answer).
    """
    result = LoadResult()
    errors: Counter[str] = Counter()
    lat = result.latencies_ms
    clock = time.perf_counter
    start = clock()
    measure_from = start + warmup
    stop_at = measure_from + duration
    sent = 0
    interval = 1.0 / rate if rate else 0.0
    exhausted = False

    async def worker(poster: _RawPoster | _AiohttpPoster) -> None:
        nonlocal exhausted, sent
        try:
            while not exhausted:
                now = clock()
                if now >= stop_at or (max_bodies is not None and sent >= max_bodies):
                    return
                try:
                    body, n = next(bodies)
                except StopIteration:
                    exhausted = True
                    return
                i = sent
                sent += 1
                if rate:
                    due = start + i * interval
                    if due >= stop_at:
                        return
                    if due > now:
                        await asyncio.sleep(due - now)
                    t0 = due
                else:
                    t0 = clock()
                counted = t0 >= measure_from
                try:
                    status = await poster.post(body)
                except (TimeoutError, aiohttp.ClientError, OSError) as e:
                    status = 0
                    if counted:
                        errors[type(e).__name__] += 1
                t1 = clock()
                if on_answer is not None:
                    on_answer(body, status)
                if not counted:
                    continue
                result.bodies_sent += 1
                result.alerts_sent += n
                if 200 <= status < 300:
                    result.bodies_ok += 1
                    result.alerts_ok += n
                    lat.append((t1 - t0) * 1000.0)
                elif status:
                    errors[str(status)] += 1
        finally:
            poster.close()

    if client == "aiohttp":
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=60)) as session:
            await asyncio.gather(*(worker(_AiohttpPoster(url, session))
                                   for _ in range(concurrency)))
    else:
        await asyncio.gather(*(worker(_RawPoster(url)) for _ in range(concurrency)))
    end = clock()
    stopped_early = exhausted or (max_bodies is not None and sent >= max_bodies)
    result.duration = max(1e-9, (end if stopped_early else min(end, stop_at)) - measure_from)
    result.errors = dict(errors)
    return result


def body_stream(maker: BodyMaker) -> Iterator[tuple[bytes, int]]:
    while True:
        yield maker.body()


def install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="base URL of the server")
    p.add_argument("--alerts-per-body", type=int, default=20)
    p.add_argument("--distinct", type=int, default=2000, help="alerts in the re-sent pool")
    p.add_argument("--new-share", type=float, default=0.0, help="share of brand-new alerts")
    p.add_argument("--resolved-share", type=float, default=0.0, help="share of resolutions")
    p.add_argument("--concurrency", type=int, default=16, help="connections")
    p.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds sent before measuring")
    p.add_argument("--rate", type=float, default=None, help="bodies/s (open loop); default: max")
    p.add_argument("--client", choices=["raw", "aiohttp"], default="raw")
    a = p.parse_args(argv)
    install_uvloop()
    maker = BodyMaker(a.alerts_per_body, a.distinct, a.new_share, a.resolved_share)
    res = asyncio.run(run_load(a.url, body_stream(maker), concurrency=a.concurrency,
                               duration=a.duration, rate=a.rate, warmup=a.warmup,
                               client=a.client))
    out = res.summary()
    out["alerts_by_kind"] = dict(maker.kinds)
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0 if not res.errors else 1


if __name__ == "__main__":
    sys.exit(main())
