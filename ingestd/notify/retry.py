"""One retry policy for every integration (as Alertmanager's ``notify/util.go``).

2xx is done; 5xx, 429 and connection errors are worth another try; any other
answer is permanent. Delays grow exponentially with jitter up to a cap; after
``max_attempts`` the item is dead-lettered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from ingestd.notify.errors import DeliveryError


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status == 429


def check_status(status: int, body: str, *, retry_after: str | None = None) -> None:
    """Raise :class:`DeliveryError` unless ``status`` is 2xx."""
    if 200 <= status < 300:
        return
    after: float | None = None
    if retry_after is not None:
        try:
            after = max(0.0, float(retry_after))
        except ValueError:
            after = None
    snippet = body.strip().replace("\n", " ")[:200]
    raise DeliveryError(
        f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}",
        retryable=is_retryable_status(status),
        status=status,
        retry_after=after,
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off: ``initial * factor**(attempts-1)``, capped, with +-jitter."""

    initial: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    max_delay: timedelta = timedelta(minutes=10)
    jitter: float = 0.2

    def delay(self, attempts: int, rng: random.Random, error: DeliveryError | None = None) -> timedelta:
        """How long to wait before attempt ``attempts + 1`` (``attempts`` >= 1 made so far)."""
        base = self.initial.total_seconds() * self.factor ** max(0, attempts - 1)
        base = min(base, self.max_delay.total_seconds())
        spread = base * self.jitter
        seconds = base + rng.uniform(-spread, spread)
        if error is not None and error.retry_after is not None:
            seconds = max(seconds, min(error.retry_after, self.max_delay.total_seconds()))
        return timedelta(seconds=max(0.0, seconds))
