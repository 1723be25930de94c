"""Incident ids: sortable by creation time, unique without coordination."""

from __future__ import annotations

import secrets
import time
from datetime import datetime


def new_incident_id(_event_time: datetime | None = None) -> str:
    return f"inc-{time.time_ns() // 1000:014x}{secrets.token_hex(3)}"
