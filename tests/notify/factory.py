from __future__ import annotations

import dataclasses
from datetime import datetime

from ingestd.notify.config import ReceiversConfig, parse_receivers
from ingestd.notify.model import Event, Notification
from ingestd.notify.templates import sample_notification


def note(receiver: str, event: Event = Event.OPENED, *, incident: str = "INC-1", seq: int = 1,
         at: datetime | None = None, priority: str = "P1", status: str | None = None,
         detail: dict[str, str] | None = None) -> Notification:
    n = sample_notification(receiver, event, now=at)
    inc = dataclasses.replace(n.incident, id=incident, priority=priority,
                              status=status or n.incident.status)
    return dataclasses.replace(n, incident=inc, sequence=seq,
                               detail=detail if detail is not None else {})


def receivers(yaml_text: str, env: dict[str, str] | None = None) -> ReceiversConfig:
    return parse_receivers(yaml_text, "receivers.yaml", env or {})
