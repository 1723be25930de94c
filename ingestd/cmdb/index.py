"""The selector index: map an alert to its CI without scanning every CI.

Each selector is filed under one of its equality matchers, the one whose
``(label, value)`` pair the fewest selectors share (the most selective).
Mapping an alert looks up each of its labels, so it touches only the
selectors that could match; selectors without a usable equality (regex or
negative matchers only) are kept on a short list checked for every alert.
Candidates carry their position in the file, so "the first CI in file order
with a matching selector" is preserved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ingestd.cmdb.selectors import Matcher, Selector
from ingestd.domain import Labels


class Entry(NamedTuple):
    order: int  # position of the CI in the file
    ci: str
    number: int  # position of the selector within the CI's match list
    selector: Selector


class SelectorIndex:
    def __init__(self, entries: Iterable[tuple[int, str, int, Selector]]) -> None:
        """``entries``: (CI position, CI id, selector position, selector), in file order."""
        make = tuple.__new__  # skips the NamedTuple constructor: one call per selector
        items = [(make(Entry, e), _equalities(e[3])) for e in entries]
        counts: dict[tuple[str, str], int] = {}
        for _, eqs in items:
            for m in eqs:
                pair = (m.name, m.value)
                counts[pair] = counts.get(pair, 0) + 1
        self._by_pair: dict[tuple[str, str], list[Entry]] = {}
        self._always: list[Entry] = []
        by_pair = self._by_pair
        for e, eqs in items:  # in file order, so every list stays sorted
            if not eqs:
                self._always.append(e)
                continue
            best = eqs[0] if len(eqs) == 1 else min(eqs, key=lambda m: counts[(m.name, m.value)])
            pair = (best.name, best.value)
            filed = by_pair.get(pair)
            if filed is None:
                by_pair[pair] = [e]
            else:
                filed.append(e)
        self.label_names = tuple(sorted({m.name for e, _ in items for m in e.selector.matchers}))
        """Every label some selector looks at: nothing else decides where an alert maps."""

    def first_match(self, labels: Labels) -> Entry | None:
        """The matching selector of the first CI in file order (then selector order)."""
        best: Entry | None = None
        for pair in labels.items():
            for e in self._by_pair.get(pair, ()):
                if best is not None and (e.order, e.number) >= (best.order, best.number):
                    break  # lists are in file order: nothing later can win
                # filed under its only matcher, which the pair just matched
                if len(e.selector.matchers) == 1 or e.selector.matches(labels):
                    best = e
                    break
        for e in self._always:
            if best is not None and (e.order, e.number) >= (best.order, best.number):
                break
            if e.selector.matches(labels):
                best = e
                break
        return best


def _equalities(selector: Selector) -> tuple[Matcher, ...]:
    ms = selector.matchers
    if len(ms) == 1:  # the usual selector: one label
        m = ms[0]
        return ms if m.op == "=" and m.value else ()
    return selector.equalities
