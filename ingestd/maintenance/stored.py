"""Maintenance windows set through the API, as the store keeps them (JSON documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ingestd.maintenance.windows import Window


def window_from_doc(doc: dict[str, Any]) -> Window:
    return Window(
        name=str(doc["name"]), cis=frozenset(doc["cis"]),
        start=datetime.fromisoformat(doc["start"]), end=datetime.fromisoformat(doc["end"]),
        include_dependents=bool(doc.get("include_dependents", True)),
        reason=str(doc.get("reason", "")),
    )


def window_doc(w: Window, created_by: str) -> dict[str, Any]:
    return {"name": w.name, "cis": sorted(w.cis), "start": w.start.isoformat(),
            "end": w.end.isoformat(), "include_dependents": w.include_dependents,
            "reason": w.reason, "created_by": created_by}
