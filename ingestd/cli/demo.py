"""``ingestd demo``: feed a recorded alert storm into a running daemon and show the incidents."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "storm.jsonl"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="send a recorded alert storm to a running daemon",
                       description="Posts each line of a stream (one Alertmanager webhook body"
                       " per line) to the daemon, then prints the incidents it made.")
    p.add_argument("stream", nargs="?", default=str(EXAMPLE),
                   help="JSON lines of webhook bodies (default: examples/storm.jsonl)")
    p.add_argument("--url", default="http://127.0.0.1:9095", help="the daemon's base URL")
    p.add_argument("--token", help="bearer token with the ingest and read roles")
    p.set_defaults(func=run)


def _request(url: str, token: str | None, data: bytes | None = None) -> dict:
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def run(args: argparse.Namespace) -> int:
    lines = [ln for ln in Path(args.stream).read_text(encoding="utf-8").splitlines() if ln.strip()]
    try:
        for line in lines:
            _request(args.url + "/api/v1/alerts/alertmanager", args.token, line.encode())
        doc = _request(args.url + "/api/v1/incidents?status=any&limit=50", args.token)
    except urllib.error.HTTPError as e:
        print(f"ingestd demo: {args.url} answered {e.code}: {e.read().decode()[:300]}")
        return 1
    except OSError as e:
        print(f"ingestd demo: cannot reach {args.url} ({e}); is `make run` running?")
        return 1
    print(f"sent {len(lines)} bodies; incidents:")
    for inc in doc["incidents"]:
        root = inc["root_ci"] or "-"
        if inc.get("root_inferred"):
            root += " (inferred)"
        print(f"  {inc['id']}  {inc['priority']}  {inc['status']:<12} team={inc['team'] or '-':<8}"
              f" root={root:<22} alerts={len(inc['alerts'])}  {inc['title']}")
    return 0
