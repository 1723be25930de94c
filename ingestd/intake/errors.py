"""Why a body was refused.

    IntakeError            a body that can never be valid (4xx; Alertmanager re-sends it
    |                      every group_interval, so only for what will not change)
    +-- BodyTooLarge       413
    Overloaded             the queue is full or the store is failing (503 + Retry-After)
"""

from __future__ import annotations


class IntakeError(ValueError):
    status = 400

    def __init__(self, error: str, detail: str, path: str = "") -> None:
        super().__init__(f"{error}: {detail}" + (f" (at {path})" if path else ""))
        self.error = error
        self.detail = detail
        self.path = path

    def within(self, place: str) -> IntakeError:
        """The same error, its path taken as relative to ``place`` (an alert in a body)."""
        return type(self)(self.error, self.detail, f"{place}.{self.path}" if self.path else place)

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "detail": self.detail, "path": self.path}


class BodyTooLarge(IntakeError):
    status = 413


class Overloaded(Exception):
    """Intake cannot take the body now; the sender should retry."""

    def __init__(self, reason: str, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
