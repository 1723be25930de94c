"""YAML with line numbers, and the checks every rules file shares.

:func:`load_yaml` builds plain Python data whose maps (:class:`YMap`) and
lists (:class:`YList`) remember the line of every key and item, so that each
problem can be reported as ``rules/teams.yaml:14: reason``. A :class:`Source`
collects problems for one file; the loaders report everything they find and
the caller refuses the whole configuration if anything was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import yaml

from ingestd.yamlconf import YList, YMap, _Loader, parse_duration

__all__ = ["Source", "YList", "YMap", "format_duration", "parse_duration"]


def format_duration(d: timedelta) -> str:
    secs = int(d.total_seconds())
    if secs == 0:
        return "0s"
    out = []
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if secs >= n:
            out.append(f"{secs // n}{unit}")
            secs %= n
    return "".join(out)


@dataclass
class Source:
    """One file being checked: where it is, and the problems found so far."""

    path: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, line: int, reason: str) -> None:
        self.problems.append(f"{self.path}:{line}: {reason}")

    def warn(self, line: int, reason: str) -> None:
        """Worth telling, not worth refusing the file for."""
        self.warnings.append(f"{self.path}:{line}: {reason}")

    def load(self, text: str) -> Any:
        """The file's data, or None (with a problem recorded) if it is not YAML."""
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark is not None else 1
            context = ""
            if e.context and e.context_mark is not None and e.context_mark.line + 1 != line:
                context = f" ({e.context} at line {e.context_mark.line + 1})"
            self.error(line, f"YAML error: {e.problem or e}{context}")
        except yaml.YAMLError as e:
            self.error(1, f"YAML error: {e}")
        return None

    # ---- shape checks -----------------------------------------------------------

    def is_map(self, value: Any, line: int, what: str) -> bool:
        if isinstance(value, YMap):
            return True
        self.error(line, f"{what} must be a map, got {_kind(value)}")
        return False

    def is_list(self, value: Any, line: int, what: str) -> bool:
        if isinstance(value, YList):
            return True
        self.error(line, f"{what} must be a list, got {_kind(value)}")
        return False

    def fields(
        self, m: YMap, what: str, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> None:
        """Unknown keys and missing required keys are errors."""
        allowed = list(allowed)
        for key in m:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                tip = f'; did you mean "{hint[0]}"?' if hint else ""
                self.error(
                    m.line_of(key),
                    f'unknown field "{key}" in {what} (allowed: {", ".join(allowed)}){tip}',
                )
        for key in required:
            if key not in m:
                self.error(m.line, f'{what} needs "{key}"')

    # ---- typed getters: on a wrong type they record a problem and answer None ----

    def str_(self, m: YMap, key: str, what: str) -> str | None:
        if key not in m or m[key] is None:
            return None
        v = m[key]
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            self.error(m.line_of(key), f"{what}: {key} must be a string, got {_kind(v)}")
            return None
        return str(v)

    def bool_(self, m: YMap, key: str, what: str) -> bool | None:
        if key not in m or m[key] is None:
            return None
        v = m[key]
        if not isinstance(v, bool):
            self.error(m.line_of(key), f"{what}: {key} must be true or false, got {_kind(v)}")
            return None
        return v

    def int_(self, m: YMap, key: str, what: str, minimum: int = 0) -> int | None:
        if key not in m or m[key] is None:
            return None
        v = m[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            self.error(m.line_of(key), f"{what}: {key} must be a whole number >= {minimum}, got {v!r}")
            return None
        return v

    def str_list(self, m: YMap, key: str, what: str) -> tuple[str, ...] | None:
        """A list of strings (a single string is also accepted as a list of one)."""
        if key not in m or m[key] is None:
            return None
        v = m[key]
        if isinstance(v, str):
            return (v,)
        if not isinstance(v, YList) or not all(isinstance(x, str | int) for x in v):
            self.error(m.line_of(key), f"{what}: {key} must be a list of strings, got {_kind(v)}")
            return None
        return tuple(str(x) for x in v)

    def duration(self, m: YMap, key: str, what: str) -> timedelta | None:
        s = self.str_(m, key, what)
        if s is None:
            return None
        try:
            return parse_duration(s)
        except ValueError as e:
            self.error(m.line_of(key), f"{what}: {key}: {e}")
            return None

    def datetime_(self, m: YMap, key: str, what: str) -> datetime | None:
        if key not in m or m[key] is None:
            return None
        v = m[key]
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v)
            except ValueError:
                self.error(m.line_of(key), f"{what}: {key}: {v!r} is not a date-time like 2026-01-05T09:00:00Z")
                return None
        if not isinstance(v, datetime):
            self.error(m.line_of(key), f"{what}: {key} must be a date-time like 2026-01-05T09:00:00Z")
            return None
        if v.tzinfo is None:
            self.error(m.line_of(key), f"{what}: {key} needs a time zone offset, e.g. 2026-01-05T09:00:00Z")
            return None
        return v

    def date_(self, m: YMap, key: str, what: str) -> date | None:
        if key not in m or m[key] is None:
            return None
        v = m[key]
        if isinstance(v, str):
            try:
                v = date.fromisoformat(v)
            except ValueError:
                pass
        if isinstance(v, datetime) or not isinstance(v, date):
            self.error(m.line_of(key), f"{what}: {key} must be a date like 2026-01-05")
            return None
        return v


def _kind(v: Any) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, YMap | dict):
        return "a map"
    if isinstance(v, YList | list):
        return "a list"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, str):
        return f"the string {v!r}"
    return f"{type(v).__name__} {v!r}"
