"""Typed application state shared by the handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from ingestd.api.auth import Principal, TokenBook
from ingestd.intake.limits import IntakeLimits
from ingestd.intake.mapped import SourceMapping

if TYPE_CHECKING:
    from ingestd.cmdb import Cmdb
    from ingestd.pipeline.committer import Committer
    from ingestd.pipeline.replicated import ReplicatedCommitter
    from ingestd.store.base import Store


@dataclass
class Runtime:
    store: Store
    committer: Committer | ReplicatedCommitter
    cmdb: Cmdb
    tokens: TokenBook | None
    """None: authentication is off (``--auth none``)."""
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    sources: dict[str, SourceMapping] = field(default_factory=dict)
    """Mapped JSON sources by name (POST /api/v1/alerts/{name})."""
    ready: bool = False
    draining: bool = False
    in_flight: int = 0


RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
