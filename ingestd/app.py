"""The composition root: wires the store, the CMDB, the pipeline and the HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from ingestd import metrics
from ingestd.api import context_routes  # noqa: F401  (adds its routes to the shared table)
from ingestd.api.auth import load_tokens
from ingestd.api.middleware import authenticate
from ingestd.api.routes import routes
from ingestd.api.state import RUNTIME, Runtime
from ingestd.cmdb import Cmdb, CmdbError, load_cmdb
from ingestd.config import Settings
from ingestd.correlate.per_ci import PerCiCorrelator
from ingestd.ids import new_incident_id
from ingestd.intake.limits import IntakeLimits
from ingestd.intake.mapped import load_mappings
from ingestd.pipeline.committer import Committer
from ingestd.pipeline.dispatch import CmdbDispatcher
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.sla import DefaultSla
from ingestd.pipeline.work import Tick
from ingestd.store import open_store
from ingestd.store.base import StoreError

log = logging.getLogger("ingestd")


def wall_clock() -> datetime:
    return datetime.now(UTC)


def make_processor(cmdb: Cmdb, settings: Settings, clock: Callable[[], datetime]) -> Processor:
    """The pipeline as the daemon runs it; ``ingestd replay`` builds the same one."""
    correlator = PerCiCorrelator(new_incident_id, settings.correlation_settings())
    return Processor(cmdb, correlator, CmdbDispatcher(), DefaultSla(), clock)


class Daemon:
    """Everything ``ingestd serve`` runs, built from settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cmdb = self._load_cmdb()
        self.store = open_store(settings.db)
        tokens = None
        if settings.auth == "none":
            log.warning("authentication is OFF (--auth none): anyone who reaches %s may send"
                        " alerts and change incidents", settings.listen)
        else:
            if not settings.tokens:
                raise SystemExit("ingestd: give --tokens FILE (or --auth none to run without"
                                 " authentication)")
            tokens = load_tokens(settings.tokens)
        self.committer = Committer(self._processor, self.store,
                                   max_queue=settings.queue_size, max_batch=settings.batch_size)
        self.runtime = Runtime(
            store=self.store, committer=self.committer, cmdb=self.cmdb, tokens=tokens,
            limits=IntakeLimits(max_body_bytes=settings.max_body_bytes,
                                max_alerts=settings.max_alerts),
            sources=load_mappings(settings.sources))
        self._cmdb_stamp = self._stamp(settings.cmdb)

    def _load_cmdb(self) -> Cmdb:
        cmdb = load_cmdb(self.settings.cmdb)
        metrics.CMDB_CIS.set(len(cmdb))
        self._mark_reload("cmdb", True, Path(self.settings.cmdb))
        return cmdb

    def _processor(self) -> Processor:
        return make_processor(self.cmdb, self.settings, wall_clock)

    # -- lifecycle --------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[authenticate],
                              client_max_size=self.settings.max_body_bytes + 1)
        app[RUNTIME] = self.runtime
        app.add_routes(routes)
        app.cleanup_ctx.append(self._lifecycle)
        return app

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        await self.store.open()
        await self.committer.start()
        tasks = [asyncio.create_task(self._tick_loop(), name="ticker"),
                 asyncio.create_task(self._watch_loop(), name="config-watch")]
        self.runtime.ready = True
        log.info("ready: %d CIs from %s, store %s", len(self.cmdb), self.settings.cmdb,
                 self.settings.db.split("@")[-1])
        yield
        self.runtime.ready = False
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await self.committer.drain()
        await self.store.close()

    async def drain(self) -> None:
        """Stop taking bodies (503), let those in flight commit."""
        self.runtime.draining = True
        deadline = time.monotonic() + self.settings.drain_timeout
        while self.runtime.in_flight and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        await self.committer.drain()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                now = wall_clock()
                due = await self.store.due_timers(now, 200)
                await self.committer.submit(Tick(now, due))
                for t in due:
                    metrics.TIMERS_FIRED.labels(kind=t.kind).inc()
            except (StoreError, Exception) as e:  # noqa: BLE001 - the loop must survive
                log.debug("tick skipped: %s", e)

    # -- reloads ----------------------------------------------------------------------

    @staticmethod
    def _stamp(path: str) -> float:
        try:
            return Path(path).stat().st_mtime
        except OSError:
            return 0.0

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reload_interval)
            stamp = self._stamp(self.settings.cmdb)
            if stamp != self._cmdb_stamp:
                self._cmdb_stamp = stamp
                self.reload()

    def reload(self) -> bool:
        """Reload the CMDB; a broken file is refused and the old CMDB keeps serving."""
        path = Path(self.settings.cmdb)
        try:
            cmdb = load_cmdb(path)
        except (CmdbError, OSError) as e:
            log.error("CMDB reload refused, the previous CMDB keeps serving:\n%s", e)
            self._mark_reload("cmdb", False, path)
            return False
        self.cmdb = cmdb
        self.runtime.cmdb = cmdb
        self.committer.processor.cmdb = cmdb
        correlator = self.committer.processor.correlator
        if hasattr(correlator, "cmdb"):
            correlator.cmdb = cmdb
        metrics.CMDB_CIS.set(len(cmdb))
        self._mark_reload("cmdb", True, path)
        log.info("CMDB reloaded: %d CIs", len(cmdb))
        return True

    @staticmethod
    def _mark_reload(name: str, ok: bool, path: Path) -> None:
        metrics.CONFIG_RELOAD_SUCCESS.labels(config=name).set(1 if ok else 0)
        if ok:
            metrics.CONFIG_RELOAD_TIME.labels(config=name).set(time.time())
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                metrics.CONFIG_HASH.labels(config=name).set(int(digest[:13], 16))
            except OSError:
                pass
