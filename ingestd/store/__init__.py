"""Durable state: alerts, episodes, incidents, timeline, outbox and timers."""

from ingestd.store.base import Store, StoreError, StoreFull


def open_store(url: str) -> Store:
    """A store for ``sqlite:///path`` (embedded) or ``postgresql://…`` (shared)."""
    if url.startswith("sqlite://"):
        from ingestd.store.sqlite import SqliteStore

        path = url[len("sqlite://"):]
        if path.startswith("/"):
            path = path[1:] if not path.startswith("//") else path[1:]
        return SqliteStore(path or "data/ingestd.db")
    if url.startswith(("postgresql://", "postgres://")):
        from ingestd.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(f"--db {url!r}: expected sqlite:///PATH or postgresql://…")


__all__ = ["Store", "StoreError", "StoreFull", "open_store"]
