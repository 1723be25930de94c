"""Which fingerprints a store may hold, answered from memory.

Deduplication keeps only recent alerts in memory; an alert it does not know is
looked up in the store, in case it fired long ago. In a storm almost every such
alert is brand new, and each lookup costs a probe of the store's index on
another thread: 10-20 µs per new alert. A Bloom filter of every fingerprint
the store holds answers "never stored" for nearly all of them without leaving
memory. It has no false negatives (every stored fingerprint is added before its
row is committed); about 1 in 100 of the others is still looked up.
"""

from __future__ import annotations

from collections.abc import Iterable

from rbloom import Bloom

FALSE_POSITIVE_RATE = 0.01
MIN_CAPACITY = 2_000_000
"""2.4 MB of bits: a store may grow to this many alerts before the filter is rebuilt."""


class StoredFingerprints:
    def __init__(self, fingerprints: Iterable[str], count: int) -> None:
        """``fingerprints`` are all the store holds, ``count`` how many they are."""
        self.capacity = max(MIN_CAPACITY, 2 * count)
        self._bloom = Bloom(self.capacity, FALSE_POSITIVE_RATE)
        self._bloom.update(fingerprints)
        self.added = count

    def __contains__(self, fingerprint: str) -> bool:
        """False: the store holds no alert of this fingerprint. True: it may."""
        return fingerprint in self._bloom

    def add(self, fingerprints: Iterable[str]) -> None:
        """Call before the rows of ``fingerprints`` are committed."""
        bloom = self._bloom
        for fp in fingerprints:
            if fp not in bloom:  # counted once, however often its row is rewritten
                bloom.add(fp)
                self.added += 1

    @property
    def full(self) -> bool:
        """More added than it was sized for: false positives climb; rebuild it bigger."""
        return self.added > self.capacity
