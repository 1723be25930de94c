"""A real HTTP server on 127.0.0.1 that records every request and answers as scripted."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

HANG = "hang"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Request], Awaitable[web.StreamResponse]]


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: dict[str, deque[int | str]] = defaultdict(deque)
        self.handlers: dict[str, Handler] = {}
        self.default_body: dict[str, str] = {}
        self.arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str, *answers: int | str) -> None:
        """Answer the next requests to ``path`` with these statuses (or HANG), then 200."""
        self.script[path].extend(answers)

    def at(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, path: str, count: int) -> list[Request]:
        async with asyncio.timeout(10), self.arrived:
            await self.arrived.wait_for(lambda: len(self.at(path)) >= count)
        return self.at(path)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        rec = Request(request.method, request.path, dict(request.query),
                      dict(request.headers), await request.read())
        self.requests.append(rec)
        async with self.arrived:
            self.arrived.notify_all()
        if request.path in self.handlers:
            return await self.handlers[request.path](rec)
        script = self.script.get(request.path)
        answer = script.popleft() if script else 200
        if answer == HANG:
            await asyncio.Event().wait()
        return web.Response(status=int(answer),
                            text=self.default_body.get(request.path, '{"errcode":0,"errmsg":"ok"}'),
                            content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
