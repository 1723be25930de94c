"""The one interface every integration implements."""

from __future__ import annotations

from typing import Protocol

from ingestd.notify.model import Notification


class Sender(Protocol):
    """Delivers one notification or raises :class:`~ingestd.notify.errors.DeliveryError`.

    A sender must be safe to call again with the same notification (the outbox
    retries after a crash): it passes ``n.idempotency_key`` on where the peer
    can use it, and ticket senders check for the key before they act.
    """

    async def send(self, n: Notification) -> None: ...
