"""Each store test runs on SQLite and on PostgreSQL (a fresh schema per test, dropped after)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ingestd.store.sqlite import SqliteStore

from .harness import PG_URL, create_schema, drop_schema


def postgres_reachable() -> bool:
    from urllib.parse import urlparse

    u = urlparse(PG_URL)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=1):
            return True
    except OSError:
        return False


needs_postgres = pytest.mark.skipif(not postgres_reachable(),
                                    reason=f"no PostgreSQL at {PG_URL} (INGESTD_TEST_POSTGRES)")


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A URL on a schema of its own."""
    if not postgres_reachable():
        pytest.skip(f"no PostgreSQL at {PG_URL} (INGESTD_TEST_POSTGRES)")
    url = await create_schema()
    yield url
    await drop_schema(url)


def make_store(kind: str, tmp_path: Path, url: str | None) -> Any:
    if kind == "sqlite":
        return SqliteStore(tmp_path / "ingestd.db")
    from ingestd.store.postgres import PostgresStore

    assert url is not None
    return PostgresStore(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def store_url(store_kind: str, tmp_path: Path) -> AsyncIterator[str | None]:
    if store_kind == "sqlite":
        yield None
        return
    if not postgres_reachable():
        pytest.skip(f"no PostgreSQL at {PG_URL} (INGESTD_TEST_POSTGRES)")
    url = await create_schema()
    yield url
    await drop_schema(url)


@pytest.fixture
async def store(store_kind: str, store_url: str | None, tmp_path: Path) -> AsyncIterator[Any]:
    s = make_store(store_kind, tmp_path, store_url)
    await s.open()
    yield s
    await s.close()
