"""Classification: how urgent an incident is (P0 most urgent .. P4)."""

from ingestd.classify.matrix import (
    DEFAULT_PRIORITY_MATRIX,
    IMPACT_ORDER,
    BlastStep,
    Classification,
    PriorityMatrix,
)

__all__ = [
    "DEFAULT_PRIORITY_MATRIX",
    "IMPACT_ORDER",
    "BlastStep",
    "Classification",
    "PriorityMatrix",
]
