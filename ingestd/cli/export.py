"""``ingestd export``: the stored alerts as a stream of webhook bodies, for ``ingestd replay``.

Each episode becomes a firing body at its start and, once it resolved, a resolved body at
its end; bodies come in event-time order, one JSON document per line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any, TextIO

from ingestd.config import Settings
from ingestd.store import open_store

_ZERO = "0001-01-01T00:00:00Z"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write the stored alerts as a replayable stream",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=Settings().db, help="the store (default: %(default)s)")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(func=run)


def _z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _body(alert: dict[str, Any]) -> dict[str, Any]:
    return {"receiver": "ingestd-export", "status": alert["status"], "alerts": [alert],
            "groupLabels": {}, "commonLabels": alert["labels"],
            "commonAnnotations": alert["annotations"], "externalURL": "", "version": "4",
            "groupKey": "{}:{}", "truncatedAlerts": 0}


async def export(db: str, out: TextIO) -> int:
    store = open_store(db)
    await store.open()
    try:
        dump = getattr(store, "export_episodes", None)
        if dump is None:
            raise SystemExit("ingestd export: this store cannot export yet (SQLite only)")
        events: list[tuple[datetime, int, dict[str, Any]]] = []
        for ep, annotations, _source, generator in await dump():
            alert = {"status": "firing", "labels": ep.labels, "annotations": annotations,
                     "startsAt": _z(ep.starts_at), "endsAt": _ZERO, "generatorURL": generator,
                     "fingerprint": ep.fingerprint}
            events.append((ep.starts_at, 0, _body(alert)))
            if ep.ends_at is not None:
                ended = {**alert, "status": "resolved", "endsAt": _z(ep.ends_at)}
                events.append((ep.ends_at, 1, _body(ended)))
        events.sort(key=lambda e: (e[0], e[1]))
        for _, _, body in events:
            out.write(json.dumps(body, separators=(",", ":")) + "\n")
        return len(events)
    finally:
        await store.close()


def run(args: argparse.Namespace) -> int:
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            n = asyncio.run(export(args.db, f))
    else:
        n = asyncio.run(export(args.db, sys.stdout))
    print(f"ingestd export: {n} bodies", file=sys.stderr)
    return 0
