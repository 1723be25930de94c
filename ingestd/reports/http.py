"""``GET /api/v1/reports``: the service numbers as JSON, and their Prometheus gauges."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ingestd.api.routes import ROUTE_ROLES, error, json_response
from ingestd.api.state import RUNTIME
from ingestd.reports import metrics
from ingestd.reports.figures import build_report
from ingestd.reports.gather import load_history
from ingestd.store.base import StoreError
from ingestd.store.codec import ts

log = logging.getLogger("ingestd.reports")

Clock = Callable[[], datetime]

CLOCK: web.AppKey[Clock] = web.AppKey("reports_clock", Callable)  # type: ignore[arg-type]
"""What "now" is for the reports (tests set a fixed clock)."""

DEFAULT_DAYS = 28
METRICS_INTERVAL = 60.0
PATH = "/api/v1/reports"


def wall_clock() -> datetime:
    return datetime.now(UTC)


class BadParameter(ValueError):
    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail


def parse_days(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise BadParameter("days", "days must be a whole number of days (1..366)") from None
    if not 1 <= days <= 366:
        raise BadParameter("days", "days must be between 1 and 366")
    return days


async def report_for(app: web.Application, days: int, team: str | None = None) -> dict[str, Any]:
    """The report over the last ``days`` days (optionally for one team)."""
    rt = app[RUNTIME]
    now = app.get(CLOCK, wall_clock)()
    start = now - timedelta(days=days)
    history = await load_history(rt.store, start, now, team)
    listed = await rt.store.list_changes(None, start, 100_000)
    changes = [(c.ci, ts(c.started_at) or "") for c in listed]
    report = build_report(history.period, history.active, now, start, earlier=history.earlier,
                          changes=changes)
    report["team"] = team
    report["truncated"] = history.truncated
    if team is None and days == DEFAULT_DAYS:
        metrics.publish(report)
    return report


async def reports(request: web.Request) -> web.Response:
    try:
        days = parse_days(request.query.get("days"))
    except BadParameter as e:
        return error(400, "bad_parameter", e.detail, e.name)
    try:
        doc = await report_for(request.app, days, request.query.get("team") or None)
    except StoreError as e:
        return error(503, "unavailable", str(e))
    return json_response(doc)


async def _refresh_metrics(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(METRICS_INTERVAL)
            try:
                await report_for(app, DEFAULT_DAYS)
            except Exception as e:  # noqa: BLE001 - the loop must survive a bad store moment
                log.debug("report gauges not refreshed: %s", e)

    task = asyncio.create_task(loop(), name="report-gauges")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def setup(app: web.Application) -> None:
    ROUTE_ROLES[("GET", PATH)] = "read"
    app.router.add_get(PATH, reports)
    app.cleanup_ctx.append(_refresh_metrics)
