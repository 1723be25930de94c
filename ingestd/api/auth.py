"""Bearer tokens with roles: ``ingest``, ``read``, ``write``, ``admin`` (admin may do all).

Tokens come from a YAML list of ``{name, token, roles}``; a token may instead be
read from a file (``token_file``) or an environment variable (``token_env``).
They are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

ROLES = ("ingest", "read", "write", "admin")


class TokenFileError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    roles: frozenset[str]

    def may(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


ANONYMOUS_ADMIN = Principal("anonymous", frozenset(ROLES))


class TokenBook:
    def __init__(self, entries: list[tuple[bytes, Principal]]) -> None:
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, presented: str) -> Principal | None:
        given = presented.encode()
        found = None
        for secret, who in self._entries:  # compare with every token: timing says nothing
            if hmac.compare_digest(given, secret):
                found = who
        return found


def load_tokens(path: str) -> TokenBook:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise TokenFileError(f"{path}: {e}") from None
    if not isinstance(doc, list):
        raise TokenFileError(f"{path}: expected a list of {{name, token, roles}}")
    entries = []
    for i, item in enumerate(doc):
        where = f"{path}: entry {i + 1}"
        if not isinstance(item, dict):
            raise TokenFileError(f"{where}: expected a map with name, token, roles")
        unknown = set(item) - {"name", "token", "token_file", "token_env", "roles"}
        if unknown:
            raise TokenFileError(f"{where}: unknown keys {sorted(unknown)}")
        name = str(item.get("name") or f"token-{i + 1}")
        token = item.get("token")
        if item.get("token_file"):
            token = Path(item["token_file"]).read_text(encoding="utf-8").strip()
        elif item.get("token_env"):
            token = os.environ.get(item["token_env"])
            if not token:
                raise TokenFileError(f"{where}: environment variable {item['token_env']} is empty")
        if not token or len(str(token)) < 8:
            raise TokenFileError(f"{where} ({name}): a token of at least 8 characters is required")
        roles = item.get("roles") or []
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise TokenFileError(f"{where} ({name}): roles must be among {list(ROLES)}, got {roles}")
        entries.append((str(token).encode(), Principal(name, frozenset(roles))))
    return TokenBook(entries)
