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

from bisect import insort
from collections.abc import Iterable
from typing import NamedTuple

from ingestd.cmdb.selectors import Selector
from ingestd.domain import Labels


class Entry(NamedTuple):
    order: int  # position of the CI in the file
    ci: str
    number: int  # position of the selector within the CI's match list
    selector: Selector


Pair = tuple[str, str]


def _place(e: Entry) -> tuple[int, int]:
    return e.order, e.number


class SelectorIndex:
    def __init__(self, entries: Iterable[tuple[int, str, int, Selector]]) -> None:
        """``entries``: (CI position, CI id, selector position, selector), in file order."""
        self._by_pair: dict[Pair, list[Entry]] = {}
        self._always: list[Entry] = []
        by_pair = self._by_pair
        names: set[str] = set()
        # Most selectors hold one equality: they are filed under it at once,
        # in file order. The others wait until every pair is counted.
        several: list[tuple[Entry, list[Pair]]] = []
        make = tuple.__new__  # skips the NamedTuple constructor: one call per selector
        for e in entries:
            ms = e[3].matchers
            if len(ms) == 1:
                m = ms[0]
                names.add(m.name)
                if m.op != "=" or not m.value:
                    self._always.append(make(Entry, e))
                    continue
                pair = (m.name, m.value)
                filed = by_pair.get(pair)
                if filed is None:
                    by_pair[pair] = [make(Entry, e)]
                else:
                    filed.append(make(Entry, e))
                continue
            names.update(m.name for m in ms)
            pairs = [(m.name, m.value) for m in ms if m.op == "=" and m.value]
            if pairs:
                several.append((make(Entry, e), pairs))
            else:
                self._always.append(make(Entry, e))
        if several:
            self._file_several(several)
        self.label_names = tuple(sorted(names))
        """Every label some selector looks at: nothing else decides where an alert maps."""

    def _file_several(self, several: list[tuple[Entry, list[Pair]]]) -> None:
        """File selectors with several equalities, each under its rarest pair."""
        by_pair = self._by_pair
        counts: dict[Pair, int] = {}
        for _, pairs in several:
            for pair in pairs:
                counts[pair] = counts.get(pair, len(by_pair.get(pair, ()))) + 1
        for e, pairs in several:
            best = min(pairs, key=counts.__getitem__)  # the first of the rarest
            filed = by_pair.setdefault(best, [])
            if filed and _place(filed[-1]) > _place(e):  # keep every list in file order
                insort(filed, e, key=_place)
            else:
                filed.append(e)

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
