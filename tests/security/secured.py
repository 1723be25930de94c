"""A daemon with one bearer token per role, for the security tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from ingestd.api.auth import ROLES

TOKENS = {role: f"s3cret-{role}-7f9d2c41a8e6b035" for role in ROLES}
BAD_TOKEN = "s3cret-unknown-0000000000000000"


def write_tokens(tmp: Path) -> Path:
    path = tmp / "tokens.yaml"
    path.write_text(yaml.safe_dump(
        [{"name": f"{role}-bot", "token": tok, "roles": [role]} for role, tok in TOKENS.items()]))
    return path


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def call(url: str, method: str = "GET", data: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def error_of(raw: bytes) -> str:
    return str(json.loads(raw)["error"])
