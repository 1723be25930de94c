"""The routing tree: ordered routes with matchers, walked the way Alertmanager walks it.

A route matches when all of its matchers hold. Its children are tried in
order; the first that matches is descended into and the rest are skipped,
unless that child says ``continue: true``. A route none of whose children
match is where the walk ends: the result is the list of paths from the root
to each such end.

Settings are inherited: a path's value for a setting is the one its deepest
route sets. Across several matched paths (``continue``), the first path that
sets a value below the root wins; the root's own settings are the defaults.
Receivers and tags add up instead: every matched path's receivers are told,
and every route on every path adds its tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from ingestd.domain import Priority
from ingestd.route.matchers import Matchers


@dataclass(frozen=True, slots=True)
class Threshold:
    """Tell nobody until the incident holds ``alerts`` alerts or has lasted ``after``."""

    alerts: int | None = None
    after: timedelta | None = None

    def reached(self, alerts: int, age: timedelta) -> bool:
        return (self.alerts is not None and alerts >= self.alerts) or (
            self.after is not None and age >= self.after
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """What one route sets; None means "not set here" (inherited)."""

    team: str | None = None
    assignee: str | None = None
    priority: Priority | None = None
    runbook: str | None = None
    receivers: tuple[str, ...] | None = None
    escalation: str | None = None
    suppress: bool | None = None
    threshold: Threshold | None = None


SCALAR_SETTINGS: tuple[str, ...] = tuple(f.name for f in fields(Settings))


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    """Its ``name`` in the file, or its position (``routes[2].routes[0]``)."""
    where: str
    """``rules/routes.yaml:12``"""
    matchers: Matchers = field(default_factory=Matchers)
    continue_: bool = False
    settings: Settings = field(default_factory=Settings)
    tags: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()

    def walk(self) -> list[Route]:
        """This route and all below it, depth first."""
        out = [self]
        for r in self.routes:
            out.extend(r.walk())
        return out


Path = tuple[Route, ...]


def match_paths(root: Route, values: Mapping[str, str]) -> list[Path]:
    """Every path the walk ends on (the root always matches)."""

    def walk(node: Route, path: Path) -> list[Path]:
        path = (*path, node)
        found: list[Path] = []
        for child in node.routes:
            if child.matchers.matches(values):
                found.extend(walk(child, path))
                if not child.continue_:
                    break
        return found or [path]

    return walk(root, ())


def _below_root(path: Path, name: str) -> Any:
    for r in reversed(path[1:]):
        v = getattr(r.settings, name)
        if v is not None:
            return v
    return None


def resolve(paths: Sequence[Path], name: str) -> tuple[Any, Route | None]:
    """The value of one setting over the matched paths, and the route that set it."""
    for path in paths:
        for r in reversed(path[1:]):
            if getattr(r.settings, name) is not None:
                return getattr(r.settings, name), r
    root = paths[0][0]
    v = getattr(root.settings, name)
    return v, (root if v is not None else None)


def resolve_receivers(paths: Sequence[Path]) -> tuple[str, ...]:
    out: list[str] = []
    for path in paths:
        v = _below_root(path, "receivers")
        if v is None:
            v = path[0].settings.receivers or ()
        out.extend(x for x in v if x not in out)
    return tuple(out)


def resolve_tags(paths: Sequence[Path]) -> tuple[str, ...]:
    out: list[str] = []
    for path in paths:
        for r in path:
            out.extend(t for t in r.tags if t not in out)
    return tuple(out)
