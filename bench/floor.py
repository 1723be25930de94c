"""The floor: the fastest a Python server can take a webhook body at all.

Bare aiohttp on the same event loop as the daemon (uvloop where installed):
read the body, ``json.loads`` it, answer 200, store nothing. ingestd's intake
is measured against this.

    python -m bench.floor --listen 127.0.0.1:9099
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from aiohttp import web

_OK = b'{"status":"stored"}'


async def intake(request: web.Request) -> web.Response:
    doc = json.loads(await request.read())
    if not isinstance(doc, dict):
        return web.Response(status=400)
    return web.Response(body=_OK, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(body=b'{"status":"ok"}', content_type="application/json")


def build_app() -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024 + 1)
    app.router.add_post("/api/v1/alerts/alertmanager", intake)
    app.router.add_get("/readyz", healthz)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.floor")
    p.add_argument("--listen", default="127.0.0.1:9099")
    a = p.parse_args(argv)
    host, _, port = a.listen.rpartition(":")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(serve(host or "127.0.0.1", int(port)))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
