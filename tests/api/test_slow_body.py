"""A client that sends its body too slowly is cut off with 408 and holds nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.api.conftest import start_daemon


async def test_slow_body_gets_408_and_stores_nothing(tmp_path: Path) -> None:
    daemon, runner, url = await start_daemon(tmp_path, body_timeout=0.5)
    try:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /api/v1/alerts/alertmanager HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                     b'{"version": "4", "alerts": [')
        await writer.drain()
        head = await asyncio.wait_for(reader.readline(), 10)
        assert head.startswith(b"HTTP/1.1 408"), head
        writer.close()
        assert (await daemon.store.counts())["alerts"] == 0
    finally:
        await runner.cleanup()
