"""The composition root: wires the store, the configuration, the pipeline and the servers."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from ingestd import console, metrics, reports
from ingestd.api import context_routes  # noqa: F401  (adds its routes to the shared table)
from ingestd.api.auth import load_tokens
from ingestd.api.middleware import authenticate
from ingestd.api.routes import routes
from ingestd.api.state import RUNTIME, Runtime
from ingestd.cmdb import Cmdb, CmdbError, load_cmdb
from ingestd.config import Settings
from ingestd.correlate.topology import TopologyCorrelator
from ingestd.ids import new_incident_id
from ingestd.intake.limits import IntakeLimits
from ingestd.intake.mapped import load_mappings
from ingestd.knowledge import AlertKnowledge, load_knowledge
from ingestd.notify.config import ReceiversConfig, ReceiversConfigError, load_receivers
from ingestd.notify.metrics import NotifyMetrics
from ingestd.notify.receivers import Receiver, build_receivers
from ingestd.notify.worker import OutboxWorker
from ingestd.pipeline.committer import Committer
from ingestd.pipeline.processor import Processor
from ingestd.pipeline.replicated import ReplicatedCommitter
from ingestd.pipeline.rules_dispatch import RulesDispatcher, RulesSla
from ingestd.pipeline.work import Tick
from ingestd.route import RulesError, RuleSet, load_rules
from ingestd.store import open_store

log = logging.getLogger("ingestd")

_NOTIFY_METRICS: NotifyMetrics | None = None


def notify_metrics() -> NotifyMetrics:
    global _NOTIFY_METRICS
    if _NOTIFY_METRICS is None:
        _NOTIFY_METRICS = NotifyMetrics()
    return _NOTIFY_METRICS


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Config:
    """Everything loaded from files, built completely before it replaces the running one."""

    cmdb: Cmdb
    rules: RuleSet
    receivers: ReceiversConfig | None
    knowledge: AlertKnowledge


class ConfigInvalid(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_config(settings: Settings) -> Config:
    """Load the CMDB, the rules and the receivers; raise ConfigInvalid listing every problem."""
    try:
        cmdb = load_cmdb(settings.cmdb)
    except CmdbError as e:
        raise ConfigInvalid(e.problems) from None
    except OSError as e:
        raise ConfigInvalid([f"{settings.cmdb}: cannot read: {e.strerror}"]) from None
    try:
        rules = load_rules(settings.rules, cmdb)
    except RulesError as e:
        raise ConfigInvalid(e.problems) from None
    receivers = None
    path = Path(settings.rules) / "receivers.yaml"
    if path.exists():
        try:
            receivers = load_receivers(path)
        except ReceiversConfigError as e:
            raise ConfigInvalid(list(e.problems)) from None
    knowledge_file = Path(settings.rules) / "alerts.yaml"
    try:
        knowledge = load_knowledge(knowledge_file if knowledge_file.exists() else None)
    except ValueError as e:
        raise ConfigInvalid([str(e)]) from None
    return Config(cmdb, rules, receivers, knowledge)


def make_processor(config: Config, settings: Settings, clock: Callable[[], datetime]) -> Processor:
    """The pipeline as the daemon runs it; ``ingestd replay`` builds the same one."""
    correlator = TopologyCorrelator(config.cmdb, settings.correlation_settings(),
                                    config.knowledge, new_incident_id)
    return Processor(config.cmdb, correlator, RulesDispatcher(config.rules),
                     RulesSla(config.rules), clock, base_url=settings.external_url)


def _digest(paths: list[Path]) -> int:
    h = hashlib.sha256()
    for p in sorted(paths):
        with contextlib.suppress(OSError):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return int(h.hexdigest()[:13], 16)


class Daemon:
    """Everything ``ingestd serve`` runs, built from settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = load_config(settings)
        self._mark_reload(True)
        self.store = open_store(settings.db)
        tokens = None
        if settings.auth == "none":
            log.warning("authentication is OFF (--auth none): anyone who reaches %s may send"
                        " alerts and change incidents", settings.listen)
        else:
            if not settings.tokens:
                raise ConfigInvalid(["give --tokens FILE (or --auth none to run without"
                                     " authentication)"])
            tokens = load_tokens(settings.tokens)
        self.committer: Committer | ReplicatedCommitter
        if settings.db.startswith(("postgresql://", "postgres://")):
            # Several replicas share the store: each takes bodies into the inbox, one leads
            # the pipeline (docs/scaling.md).
            self.committer = ReplicatedCommitter(
                self._processor, self.store,  # type: ignore[arg-type]
                max_queue=settings.queue_size, max_batch=settings.batch_size,
                on_commit=self._outbox_written)
        else:
            self.committer = Committer(self._processor, self.store, max_queue=settings.queue_size,
                                       max_batch=settings.batch_size,
                                       on_commit=self._outbox_written)
        self.runtime = Runtime(
            store=self.store, committer=self.committer, cmdb=self.config.cmdb, tokens=tokens,
            limits=IntakeLimits(max_body_bytes=settings.max_body_bytes,
                                max_alerts=settings.max_alerts,
                                body_timeout=settings.body_timeout),
            sources=load_mappings(settings.sources))
        self.worker: OutboxWorker | None = None
        self._session: aiohttp.ClientSession | None = None
        self._stamp = self._files_stamp()

    @property
    def cmdb(self) -> Cmdb:
        return self.config.cmdb

    def _processor(self) -> Processor:
        return make_processor(self.config, self.settings, wall_clock)

    # -- lifecycle --------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[authenticate],
                              client_max_size=self.settings.max_body_bytes + 1)
        app[RUNTIME] = self.runtime
        app.add_routes(routes)
        reports.setup(app)
        console.setup(app)
        app.cleanup_ctx.append(self._lifecycle)
        return app

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        await self.store.open()
        await self.committer.start()
        self._session = aiohttp.ClientSession()
        self.worker = OutboxWorker(self.store, self._receivers(), wall_clock,  # type: ignore[arg-type]
                                   notify_metrics())
        tasks = [asyncio.create_task(self._tick_loop(), name="ticker"),
                 asyncio.create_task(self._watch_loop(), name="config-watch"),
                 asyncio.create_task(self.worker.run(), name="outbox")]
        self.runtime.ready = True
        log.info("ready: %d CIs from %s, rules from %s, store %s", len(self.cmdb),
                 self.settings.cmdb, self.settings.rules, self.settings.db.split("@")[-1])
        yield
        self.runtime.ready = False
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        await self.worker.close()
        await self.committer.drain()
        await self._session.close()
        await self.store.close()

    def _receivers(self) -> dict[str, Receiver]:
        if self.config.receivers is None or self._session is None:
            return {}
        return build_receivers(self.config.receivers, self._session)

    async def _outbox_written(self) -> None:
        if self.worker is not None:
            self.worker.wake()

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
                    metrics.TIMERS_FIRED.labels(kind=t.kind.split(".")[0]).inc()
            except Exception as e:  # noqa: BLE001 - the clock must keep ticking
                log.debug("tick skipped: %s", e)

    # -- reloads ----------------------------------------------------------------------

    def _config_files(self) -> list[Path]:
        rules = Path(self.settings.rules)
        files = [Path(self.settings.cmdb)]
        if rules.is_dir():
            files += [p for p in rules.iterdir() if p.suffix in (".yaml", ".yml")]
        return files

    def _files_stamp(self) -> tuple[tuple[str, float], ...]:
        out = []
        for p in self._config_files():
            with contextlib.suppress(OSError):
                out.append((str(p), p.stat().st_mtime))
        return tuple(sorted(out))

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reload_interval)
            stamp = self._files_stamp()
            if stamp != self._stamp:
                self._stamp = stamp
                self.reload()

    def reload(self) -> bool:
        """Reload CMDB, rules and receivers together; a broken edit changes nothing."""
        try:
            config = load_config(self.settings)
        except ConfigInvalid as e:
            log.error("configuration reload refused; the previous configuration keeps"
                      " serving:\n  %s", "\n  ".join(e.problems))
            self._mark_reload(False)
            return False
        self.config = config
        self.runtime.cmdb = config.cmdb
        processor = self.committer.processor
        processor.cmdb = config.cmdb
        processor.dispatcher = RulesDispatcher(config.rules)
        processor.sla = RulesSla(config.rules)
        correlator = processor.correlator
        if isinstance(correlator, TopologyCorrelator):
            correlator.set_cmdb(config.cmdb)
            correlator.knowledge = config.knowledge
        if self.worker is not None:
            self.worker.receivers = self._receivers()
        self._mark_reload(True)
        log.info("configuration reloaded: %d CIs, rules %s", len(config.cmdb),
                 config.rules.config_hash[:12])
        return True

    def _mark_reload(self, ok: bool) -> None:
        metrics.CONFIG_RELOAD_SUCCESS.labels(config="all").set(1 if ok else 0)
        if ok:
            metrics.CONFIG_RELOAD_TIME.labels(config="all").set(time.time())
            metrics.CONFIG_HASH.labels(config="all").set(_digest(self._config_files()))
            metrics.CMDB_CIS.set(len(self.config.cmdb))
