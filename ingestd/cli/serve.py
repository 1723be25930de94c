"""``ingestd serve``: run the daemon in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys

from aiohttp import web

from ingestd.config import ConfigError, Settings, load_settings
from ingestd.logs import setup_logging

log = logging.getLogger("ingestd")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the daemon",
                       description="Run the daemon. Every flag has an INGESTD_<NAME> variable.")
    p.add_argument("--config", help="YAML file of settings (INGESTD_CONFIG)")
    p.add_argument("--listen", help="HOST:PORT (default 127.0.0.1:9095)")
    p.add_argument("--cmdb", help="CMDB file (default: the repository's example cmdb.yaml)")
    p.add_argument("--rules", help="rules directory (default: the repository's example rules/)")
    p.add_argument("--db", help="sqlite:///PATH (default sqlite:///data/ingestd.db) or"
                   " postgresql://…")
    p.add_argument("--auth", choices=["none", "tokens"], help="tokens (default) or none")
    p.add_argument("--tokens", help="YAML list of {name, token, roles}")
    p.add_argument("--log-format", dest="log_format", choices=["text", "json"])
    p.add_argument("--log-level", dest="log_level")
    p.add_argument("--external-url", dest="external_url",
                   help="URL people use to reach ingestd (links in notifications)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    overrides = {k: getattr(args, k) for k in ("listen", "cmdb", "rules", "db", "auth", "tokens",
                                               "log_format", "log_level", "external_url")}
    try:
        settings = load_settings(args.config, overrides)
    except ConfigError as e:
        print(f"ingestd: {e}", file=sys.stderr)
        return 2
    setup_logging(settings.log_format, settings.log_level)
    tune_gc()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(serve(settings))


GC_THRESHOLDS = (10_000, 10, 100)
"""A young collection every 10,000 new containers (Python's default: 700); a full one is
considered after 100 of the middle generation's (default: 10), every 10 million."""


def tune_gc() -> None:
    """Run the cycle collector less often than Python's default.

    The pipeline's state (episodes, incidents, the CMDB) is a large heap of long-lived
    objects, and a body's own objects are freed by reference counting once it is answered.
    With the default thresholds a stream of new alerts, which grows that heap, had the
    collector walk all of it every time it grew by a quarter: about a tenth of the server's
    CPU. Each full walk pauses the daemon too: 205 ms for a 100,000-CI CMDB alone, 1.5-2 s
    once a storm has added 100,000 alerts to it. Full walks are therefore considered ten
    times less often than young ones would have them: 100,000 new alerts on that CMDB
    took 8 of them (14 s of CPU) at (10,000, 10, 10) and 1 at (10,000, 10, 100). Cycles
    are still collected, only later.
    """
    gc.set_threshold(*GC_THRESHOLDS)


async def serve(settings: Settings) -> int:
    from ingestd.app import ConfigInvalid, Daemon

    try:
        daemon = Daemon(settings)
    except ConfigInvalid as e:
        log.error("cannot start, the configuration is not valid:\n  %s", "\n  ".join(e.problems))
        return 2
    except (OSError, ValueError) as e:
        log.error("cannot start: %s", e)
        return 2
    app = daemon.build_app()
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    host, port = settings.host_port
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    log.info("listening on http://%s:%d", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.reload)
    await stop.wait()
    log.info("draining: new bodies get 503, accepted ones are committed")
    await daemon.drain()
    await runner.cleanup()
    log.info("stopped")
    return 0
