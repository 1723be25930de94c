"""Alertmanager's fingerprint of a label set.

64-bit FNV-1a over the labels sorted by name, each name and value followed
by the byte 0xff, printed as 16 lower-case hex digits (Prometheus
``model.LabelSet.Fingerprint``).
"""

from __future__ import annotations

from collections.abc import Mapping

_OFFSET = 0xCBF29CE484222325
_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF
_SEP = 0xFF


def fingerprint(labels: Mapping[str, str]) -> str:
    if not labels:
        return f"{_OFFSET:016x}"
    h = _OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode("utf-8"):
                h = ((h ^ byte) * _PRIME) & _MASK
            h = ((h ^ _SEP) * _PRIME) & _MASK
    return f"{h:016x}"
