"""The service numbers: response times, SLA compliance, repeats, compression, open by age.

:mod:`figures` computes them (pure), :mod:`gather` reads the store, :mod:`http`
serves ``GET /api/v1/reports`` and :mod:`metrics` publishes the bounded ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web


def setup(app: web.Application) -> None:
    """Add ``GET /api/v1/reports`` (role ``read``) and the report gauges to ``app``."""
    from ingestd.reports import http

    http.setup(app)
