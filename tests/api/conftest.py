"""An in-process daemon on a free port, with its own SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from ingestd.app import Daemon
from ingestd.config import Settings
from tests.conftest import ROOT, free_port


class Running:
    def __init__(self, daemon: Daemon, url: str, session: aiohttp.ClientSession) -> None:
        self.daemon = daemon
        self.url = url
        self.http = session

    async def post_body(self, body: bytes, token: str | None = None) -> aiohttp.ClientResponse:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.post(self.url + "/api/v1/alerts/alertmanager", data=body,
                                    headers=headers)

    async def incidents(self, **params: str) -> list[dict]:  # type: ignore[type-arg]
        out: list[dict] = []  # type: ignore[type-arg]
        params = {"status": "any", "limit": "500", **params}
        while True:
            async with self.http.get(self.url + "/api/v1/incidents", params=params) as r:
                assert r.status == 200, await r.text()
                doc = await r.json()
            out.extend(doc["incidents"])
            if not doc["next_cursor"]:
                return out
            params["cursor"] = doc["next_cursor"]


async def start_daemon(tmp_path: Path, **overrides: object) -> tuple[Daemon, web.AppRunner, str]:
    settings = Settings(cmdb=str(ROOT / "cmdb.yaml"), rules=str(ROOT / "rules"),
                        db=f"sqlite:///{tmp_path / 'i.db'}", auth="none")
    for k, v in overrides.items():
        setattr(settings, k, v)
    daemon = Daemon(settings)
    runner = web.AppRunner(daemon.build_app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return daemon, runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    daemon, runner, url = await start_daemon(tmp_path)
    async with aiohttp.ClientSession() as session:
        yield Running(daemon, url, session)
    await runner.cleanup()
