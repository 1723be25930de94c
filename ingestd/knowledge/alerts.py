"""Alert-name knowledge: is an alert a failing CI, a symptom, or a stand-alone warning?

The shipped ``alerts.yaml`` holds the well-known rules of node-exporter,
kube-prometheus, blackbox and the database/cache/queue exporters; a user
file extends and overrides it (same format: its entries replace shipped
ones, its patterns are tried before the shipped patterns). Names nobody
listed are classified by name patterns, then by the ``severity`` label.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SHIPPED = Path(__file__).with_name("alerts.yaml")


class Role(enum.StrEnum):
    CAUSE = "cause"
    """The CI itself fails (down, crash-looping, out of disk)."""
    SYMPTOM = "symptom"
    """The CI answers with errors or not at all (5xx, failed probes): impacted, perhaps
    by something it depends on."""
    SLOW = "slow"
    """The CI is slow (latency, slow queries, backlogs): a slow dependency explains it,
    and it explains only slowness, not errors or failures."""
    LINK = "link"
    """The CI reports a broken link to a neighbour: it belongs to that neighbour's fault."""
    STANDALONE = "standalone"
    """A warning about the CI alone, never merged into a neighbour's fault."""

    @property
    def strength(self) -> int:
        """How strongly the alert says the CI itself is at fault (cause 4 ... standalone 0)."""
        return _STRENGTH[self]


_STRENGTH = {Role.CAUSE: 4, Role.SYMPTOM: 3, Role.SLOW: 2, Role.LINK: 1, Role.STANDALONE: 0}


@dataclass(frozen=True, slots=True)
class Meaning:
    role: Role
    blames: str | None = None
    """A CI type: the cause is the dependency of this type (e.g. certificate)."""
    local: bool = False
    """The fault starts in the CI itself (a full disk, a bad deploy): nothing it
    depends on explains it, though it may explain what depends on it."""
    delay: timedelta = timedelta(0)
    """The rule's ``for``: Prometheus sends ``startsAt`` once the condition has held
    this long, so the fault began about this much earlier than the alert says."""
    source: str = "listed"

    def onset(self, starts_at: datetime) -> datetime:
        """When the condition behind an alert that started firing at ``starts_at`` began."""
        return starts_at - self.delay


class KnowledgeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    meaning: Meaning


class AlertKnowledge:
    def __init__(self, names: dict[str, Meaning], patterns: list[_Pattern],
                 by_severity: dict[str, Role]) -> None:
        self._names = names
        self._patterns = patterns
        self._by_severity = by_severity
        self._cache: dict[tuple[str, str], Meaning] = {}

    def meaning(self, alertname: str, severity: str = "") -> Meaning:
        key = (alertname, severity)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._classify(alertname, severity)
        return hit

    def _classify(self, alertname: str, severity: str) -> Meaning:
        known = self._names.get(alertname)
        if known is not None:
            return known
        for p in self._patterns:
            if p.regex.fullmatch(alertname):
                return Meaning(p.meaning.role, p.meaning.blames, p.meaning.local,
                               p.meaning.delay, f"name pattern {p.regex.pattern}")
        role = self._by_severity.get(severity.lower(), self._by_severity.get("", Role.SYMPTOM))
        return Meaning(role, None, False, timedelta(0), f'severity "{severity}"')

    def extended(self, doc: Any, source: str) -> AlertKnowledge:
        names, patterns, sev = _parse(doc, source)
        return AlertKnowledge({**self._names, **names}, patterns + self._patterns,
                              {**self._by_severity, **sev})


def _meaning(v: Any, where: str) -> Meaning:
    if isinstance(v, str):
        return Meaning(_role(v, where))
    if isinstance(v, dict):
        unknown = set(v) - {"role", "blames", "local", "for", "match"}
        if unknown:
            raise KnowledgeError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                                 "(allowed: role, blames, local, for)")
        blames = v.get("blames")
        local = v.get("local", False)
        if not isinstance(local, bool):
            raise KnowledgeError(f"{where}: 'local' must be true or false")
        return Meaning(_role(v.get("role"), where), str(blames) if blames else None, local,
                       _duration(v.get("for", "0s"), where))
    raise KnowledgeError(f"{where}: expected a role ({', '.join(r.value for r in Role)}) "
                         "or a map with 'role'")


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def _duration(v: Any, where: str) -> timedelta:
    m = _DURATION.fullmatch(str(v))
    if v == 0:
        return timedelta(0)
    if not m or not str(v):
        raise KnowledgeError(f'{where}: \'for\' must be a duration like 15m, 1h or 30s, not "{v}"')
    h, mi, se = (int(g or 0) for g in m.groups())
    return timedelta(hours=h, minutes=mi, seconds=se)


def _role(v: Any, where: str) -> Role:
    try:
        return Role(v)
    except ValueError:
        raise KnowledgeError(f'{where}: unknown role "{v}" (use one of '
                             f"{', '.join(r.value for r in Role)})") from None


def _parse(doc: Any, source: str) -> tuple[dict[str, Meaning], list[_Pattern], dict[str, Role]]:
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise KnowledgeError(f"{source}: expected a map with 'alerts', 'patterns', 'by_severity'")
    unknown = set(doc) - {"alerts", "patterns", "by_severity"}
    if unknown:
        raise KnowledgeError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                             "(allowed: alerts, patterns, by_severity)")
    names = {str(k): _meaning(v, f"{source}: alerts.{k}") for k, v in (doc.get("alerts") or {}).items()}
    patterns = []
    for i, p in enumerate(doc.get("patterns") or []):
        where = f"{source}: patterns[{i}]"
        if not isinstance(p, dict) or "match" not in p:
            raise KnowledgeError(f"{where}: expected {{match: REGEX, role: ROLE}}")
        try:
            rx = re.compile(str(p["match"]))
        except re.error as e:
            raise KnowledgeError(f"{where}: bad regular expression: {e}") from e
        patterns.append(_Pattern(rx, _meaning(p, where)))
    sev = {str(k).lower(): _role(v, f"{source}: by_severity.{k}")
           for k, v in (doc.get("by_severity") or {}).items()}
    return names, patterns, sev


@lru_cache(maxsize=1)
def default_knowledge() -> AlertKnowledge:
    """The shipped knowledge."""
    return AlertKnowledge({}, [], {}).extended(
        yaml.safe_load(SHIPPED.read_text(encoding="utf-8")), str(SHIPPED))


def load_knowledge(path: str | Path | None = None) -> AlertKnowledge:
    """The shipped knowledge, extended and overridden by the user's file (if any)."""
    base = default_knowledge()
    if path is None:
        return base
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise KnowledgeError(f"{p}: {e}") from e
    return base.extended(doc, str(p))
