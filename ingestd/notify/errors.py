"""Errors of the notify package, drawn as a tree so callers catch at the right level::

    NotifyError
    ├── ReceiversConfigError   receivers.yaml is not valid (every problem, file:line each)
    └── DeliveryError          one delivery attempt failed
        (``retryable`` says whether trying again can help: 5xx, 429 and
        connection errors can; other 4xx and refusals by the peer cannot)
"""

from __future__ import annotations


class NotifyError(Exception):
    pass


class ReceiversConfigError(NotifyError, ValueError):
    """The receivers file is not valid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class DeliveryError(NotifyError):
    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
