"""The load generator against a real daemon: every alert of every 2xx body is stored."""

from __future__ import annotations

import aiohttp
import orjson

from bench.loadgen import BodyMaker, body_stream, run_load
from tests.conftest import DaemonProcess


async def _incidents(url: str) -> list[dict]:  # type: ignore[type-arg]
    out: list[dict] = []  # type: ignore[type-arg]
    params = {"status": "any", "limit": "1000"}
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(url + "/api/v1/incidents", params=params) as r:
                assert r.status == 200, await r.text()
                doc = await r.json()
            out.extend(doc["incidents"])
            if not doc["next_cursor"]:
                return out
            params["cursor"] = doc["next_cursor"]


async def _received_total(url: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as r:
        text = await r.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("ingestd_alerts_received_total{")
               and 'source="alertmanager"' in line)


def _episodes(body: bytes) -> set[tuple[str, str]]:
    """(fingerprint, startsAt) of every alert in a body, startsAt as the API prints it."""
    return {(a["fingerprint"], a["startsAt"][:26] + "Z") for a in orjson.loads(body)["alerts"]}


async def test_every_acknowledged_alert_is_stored(daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    maker = BodyMaker(alerts_per_body=5, distinct=150, new_share=0.1, resolved_share=0.1)
    answers: list[tuple[bytes, int]] = []

    res = await run_load(d.url, body_stream(maker), concurrency=4, duration=2.0,
                         max_bodies=1500, on_answer=lambda b, s: answers.append((b, s)))

    assert res.bodies_sent == len(answers) > 0
    assert res.alerts_sent == res.bodies_sent * 5
    assert res.bodies_ok == sum(1 for _, s in answers if s == 200)
    assert len(res.latencies_ms) == res.bodies_ok > 0
    # 503 (retry later) is the only refusal a valid body may get
    assert set(res.errors) <= {"503"}
    assert await _received_total(d.url) == res.alerts_sent
    stored = {(a["fingerprint"], a["starts_at"]) for i in await _incidents(d.url)
              for a in i["alerts"]}
    acknowledged = set().union(*(_episodes(b) for b, s in answers if s == 200))
    assert acknowledged <= stored
    if not res.errors:  # one entry per episode: each first sending, each firing again
        assert len(stored) == maker.episodes
    assert maker.kinds["resend"] > 0 and maker.kinds["resolved"] > 0


async def test_raw_and_aiohttp_clients_agree(daemon_factory: type[DaemonProcess]) -> None:
    d = daemon_factory()
    d.start()
    for client in ("raw", "aiohttp"):
        maker = BodyMaker(alerts_per_body=2, distinct=20)
        res = await run_load(d.url, iter([maker.body() for _ in range(30)]), concurrency=3,
                             duration=30, client=client)
        assert (res.bodies_sent, res.alerts_sent) == (30, 60), client
        assert res.bodies_ok + sum(res.errors.values()) == 30, client
    assert await _received_total(d.url) == 120
