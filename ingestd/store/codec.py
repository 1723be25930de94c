"""Row encoding shared by the SQL stores: times as sortable UTC text, maps as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from ingestd.domain import IncidentStatus, Priority
from ingestd.store.records import ChangeRecord, IncidentRecord, ProblemRecord


def ts(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return _ts(dt)


@lru_cache(maxsize=16_384)
def _ts(dt: datetime) -> str:
    """A batch writes the same few times again and again (its ``now``, each alert's start)."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    if dt.year < 1000:  # strftime prints such years unpadded
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def dumps(obj: Any) -> str:
    return orjson.dumps(obj, default=_plain).decode()


def _plain(obj: Any) -> Any:
    """What orjson cannot encode itself: read-only maps (an alert's labels) become objects."""
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} as JSON")


class MapsJson:
    """JSON of label maps, each encoded once per batch: a new alert's labels go to its own
    row and to its episode's, and are the same (read-only) map in both."""

    def __init__(self) -> None:
        self._done: dict[int, tuple[Mapping[str, str], str]] = {}

    def __call__(self, m: Mapping[str, str]) -> str:
        hit = self._done.get(id(m))
        if hit is not None and hit[0] is m:
            return hit[1]
        text = dumps(m)
        self._done[id(m)] = (m, text)  # (holding m: its id is not reused meanwhile)
        return text


def loads(s: str | bytes) -> Any:
    return orjson.loads(s)


_TIME_FIELDS = ("opened_at", "updated_at", "created_at", "last_activity", "acknowledged_at", "resolved_at")


def incident_doc(r: IncidentRecord) -> str:
    d = {f: getattr(r, f) for f in IncidentRecord.__slots__}
    for f in _TIME_FIELDS:
        d[f] = ts(d[f])
    d["status"] = r.status.value
    d["priority"] = r.priority.value
    return dumps(d)


def incident_from_doc(doc: str | bytes) -> IncidentRecord:
    d = loads(doc)
    for f in _TIME_FIELDS:
        d[f] = parse_ts(d.get(f))
    d["status"] = IncidentStatus(d["status"])
    d["priority"] = Priority(d["priority"])
    known = set(IncidentRecord.__slots__)
    return IncidentRecord(**{k: v for k, v in d.items() if k in known})


def problem_doc(p: ProblemRecord) -> str:
    return dumps({"id": p.id, "status": p.status, "root_ci": p.root_ci, "signature": p.signature,
                  "opened_at": ts(p.opened_at), "team": p.team, "incidents": p.incidents,
                  "notes": p.notes, "closed_at": ts(p.closed_at)})


def problem_from_doc(doc: str | bytes) -> ProblemRecord:
    d = loads(doc)
    d["opened_at"] = parse_ts(d["opened_at"])
    d["closed_at"] = parse_ts(d.get("closed_at"))
    return ProblemRecord(**d)


def change_from_row(row: Any) -> ChangeRecord:
    return ChangeRecord(id=row[0], ci=row[1], summary=row[2], author=row[3], kind=row[4],
                        started_at=parse_ts(row[5]), ended_at=parse_ts(row[6]),  # type: ignore[arg-type]
                        link=row[7], created_at=parse_ts(row[8]))
