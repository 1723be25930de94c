"""Selectors: which alerts map to a CI.

A selector is written either as a map of label names to values (every label
must equal its value) or as a string in Alertmanager's matcher syntax, for
the cases where equality is not enough::

    match:
      - {instance: "node-1:9100"}                           # equality only
      - '{job="blackbox", instance=~"https://shop\\..*"}'   # = != =~ !~

Inside a quoted value ``\\"`` is a quote and ``\\\\`` a backslash; other
backslashes are kept as written (so ``\\.`` reaches the regex). As in
Alertmanager, regular expressions are anchored (they must match the
whole value) and a label the alert does not carry has the value "".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingestd.domain import Labels

OPS = ("=", "!=", "=~", "!~")

_LABEL = r"[A-Za-z_][A-Za-z0-9_]*"
_MATCHER = re.compile(
    rf'\s*({_LABEL})\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^,"{{}}\s]*))\s*(,|$)'
)


class SelectorSyntaxError(ValueError):
    """A selector string is not valid Alertmanager matcher syntax."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label condition of a selector: ``name op value`` with op in = != =~ !~."""

    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def make(name: str, op: str, value: str) -> Matcher:
        if op not in OPS:
            raise SelectorSyntaxError(f"unknown operator {op!r} (use one of {', '.join(OPS)})")
        rx = None
        if op in ("=~", "!~"):
            try:
                rx = re.compile(value)
            except re.error as e:
                raise SelectorSyntaxError(f"bad regular expression {value!r}: {e}") from e
        return Matcher(name, op, value, rx)

    def matches(self, labels: Labels) -> bool:
        v = labels.get(self.name, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        rx = self._regex if self._regex is not None else re.compile(self.value)
        hit = rx.fullmatch(v) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


@dataclass(frozen=True, slots=True)
class Selector:
    """An alert matches a selector when ALL of its matchers hold."""

    matchers: tuple[Matcher, ...]

    def matches(self, labels: Labels) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    @property
    def equalities(self) -> tuple[Matcher, ...]:
        return tuple(m for m in self.matchers if m.op == "=" and m.value)

    def __str__(self) -> str:
        return "{" + ", ".join(str(m) for m in self.matchers) + "}"


def parse_selector_string(text: str) -> Selector:
    """Parse ``{name="v", name=~"re", ...}`` (the braces are optional)."""
    s = text.strip()
    if s.startswith("{"):
        if not s.endswith("}"):
            raise SelectorSyntaxError(f"missing closing brace in {text!r}")
        s = s[1:-1]
    s = s.strip()
    if not s:
        raise SelectorSyntaxError("empty selector (it would match every alert)")
    matchers: list[Matcher] = []
    pos = 0
    while pos < len(s):
        m = _MATCHER.match(s, pos)
        if m is None or m.end() == pos:
            raise SelectorSyntaxError(
                f"cannot parse matcher at {s[pos:]!r} (expected name=\"value\", "
                'name!="value", name=~"regex" or name!~"regex")'
            )
        name, op, quoted, bare, _sep = m.groups()
        value = _unquote(quoted) if quoted is not None else bare
        matchers.append(Matcher.make(name, op, value))
        pos = m.end()
    return Selector(tuple(matchers))


def _unquote(s: str) -> str:
    """Undo ``\\"`` and ``\\\\``; any other backslash stays (regex escapes like ``\\.``)."""
    return re.sub(r'\\(["\\])', r"\1", s)


def selector_from_map(d: dict[str, str]) -> Selector:
    return Selector(tuple(Matcher.make(k, "=", v) for k, v in d.items()))
