"""Alertmanager matchers: ``name op value`` with op among ``=``, ``!=``, ``=~``, ``!~``.

The syntax is Alertmanager's (``pkg/labels/parse.go``): the value may be
double-quoted, inside quotes ``\\"``, ``\\n`` and ``\\\\`` are escapes and any
other backslash is literal; a regular expression is fully anchored
(``=~"db|cache"`` matches ``db`` but not ``db2``). Several matchers may share
one string, comma-separated, optionally in braces: ``{a="b", c=~"d.*"}``.

Besides Prometheus label names, a name may be dotted (``ci.type``) so rules
can match incident and CI attributes. A name that is absent matches as the
empty string, exactly like Alertmanager.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

_MATCHER_RE = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:.]*)\s*(=~|=|!=|!~)\s*(.*?)\s*$", re.DOTALL)


class MatcherError(ValueError):
    """A matcher string that does not parse (or whose regular expression does not compile)."""


class MatchType(enum.StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEXP = "=~"
    NOT_REGEXP = "!~"


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    type: MatchType
    value: str
    _re: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def make(name: str, type_: MatchType | str, value: str) -> Matcher:
        t = MatchType(type_)
        pattern = None
        if t in (MatchType.REGEXP, MatchType.NOT_REGEXP):
            try:
                pattern = re.compile(f"(?:{value})")
            except re.error as e:
                raise MatcherError(f"bad regular expression {value!r}: {e}") from e
        return Matcher(name, t, value, pattern)

    def matches(self, value: str) -> bool:
        if self.type is MatchType.EQUAL:
            return value == self.value
        if self.type is MatchType.NOT_EQUAL:
            return value != self.value
        assert self._re is not None
        hit = self._re.fullmatch(value) is not None
        return hit if self.type is MatchType.REGEXP else not hit

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.type.value}"{escaped}"'


@dataclass(frozen=True, slots=True)
class Matchers:
    """A conjunction: all matchers must hold."""

    items: tuple[Matcher, ...] = ()

    def matches(self, values: Mapping[str, str]) -> bool:
        return all(m.matches(values.get(m.name, "")) for m in self.items)

    def __iter__(self) -> Iterator[Matcher]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __str__(self) -> str:
        return "{" + ", ".join(str(m) for m in self.items) + "}"


def parse_matcher(s: str) -> Matcher:
    """One matcher, e.g. ``severity="critical"`` or ``ci.type=~"database|cache"``."""
    ms = _MATCHER_RE.match(s)
    if ms is None:
        raise MatcherError(f"bad matcher format: {s!r} (expected name=\"value\", with = != =~ or !~)")
    name, op, raw = ms.group(1), ms.group(2), ms.group(3)
    value: list[str] = []
    expect_trailing_quote = False
    if raw.startswith('"'):
        raw = raw[1:]
        expect_trailing_quote = True
    escaped = False
    for i, ch in enumerate(raw):
        if escaped:
            escaped = False
            if ch == "n":
                value.append("\n")
            elif ch in ('"', "\\"):
                value.append(ch)
            else:  # a spurious escape: the backslash is literal
                value.append("\\" + ch)
            continue
        if ch == "\\":
            if i < len(raw) - 1:
                escaped = True
                continue
            value.append("\\")
        elif ch == '"':
            if not expect_trailing_quote or i < len(raw) - 1:
                raise MatcherError(f"matcher value contains unescaped double quote: {ms.group(3)}")
            expect_trailing_quote = False
        else:
            value.append(ch)
    if expect_trailing_quote:
        raise MatcherError(f"matcher value contains unescaped double quote: {ms.group(3)}")
    return Matcher.make(name, op, "".join(value))


def split_matchers(s: str) -> list[str]:
    """Split a comma-separated matcher list (braces optional) outside quoted parts."""
    s = s.strip()
    s = s.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = False
    escaped = False
    for ch in s:
        if ch == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if ch == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(ch)
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    return tokens


def parse_matchers(s: str) -> Matchers:
    """``a="b", c=~"d"`` or ``{a="b", c=~"d"}``: every matcher in one string."""
    return Matchers(tuple(parse_matcher(t) for t in split_matchers(s)))


def parse_labels(s: str) -> dict[str, str]:
    """A label set written as equality matchers: ``{alertname="X", severity=critical}``."""
    out: dict[str, str] = {}
    for m in parse_matchers(s):
        if m.type is not MatchType.EQUAL:
            raise MatcherError(f"label {m.name}: only = makes sense in a label set, got {m.type.value}")
        out[m.name] = m.value
    return out
