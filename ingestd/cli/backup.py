"""``ingestd backup PATH`` and ``ingestd restore PATH``: copies of the SQLite store.

A backup is taken through SQLite's online backup API on a connection of its own,
in one read transaction: with the store in WAL mode the daemon keeps writing
meanwhile, and the copy is the store as it was at one commit (every body
answered 2xx before that commit is in it). The copy is written beside PATH,
checked (``PRAGMA integrity_check``), synced and renamed into place.

A restore checks the backup first, then refuses a store that a running daemon
has open unless ``--force`` is given. PostgreSQL stores are backed up with the
server's own tools (``pg_dump``), not here.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from ingestd.config import load_settings


class BackupError(Exception):
    pass


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="copy the store while the daemon runs",
                       description="Write a consistent copy of the SQLite store to PATH.")
    b.add_argument("path", metavar="PATH", help="file to write the copy to")
    b.add_argument("--db", help="store URL (INGESTD_DB; default sqlite:///data/ingestd.db)")
    b.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    b.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="put a backup in place of the store",
                       description="Replace the SQLite store with the backup at PATH.")
    r.add_argument("path", metavar="PATH", help="a file written by 'ingestd backup'")
    r.add_argument("--db", help="store URL (INGESTD_DB; default sqlite:///data/ingestd.db)")
    r.add_argument("--force", action="store_true",
                   help="restore even while a daemon has the store open (restart it after)")
    r.set_defaults(func=run_restore)


def sqlite_path(url: str | None) -> Path:
    db = load_settings(None, {"db": url}).db
    if not db.startswith("sqlite://"):
        raise BackupError(f"--db {db.split('@')[-1]!r}: only SQLite stores are copied here;"
                          " back up PostgreSQL with pg_dump")
    path = db[len("sqlite://"):]
    if path.startswith("/"):
        path = path[1:]
    return Path(path or "data/ingestd.db")


def check(conn: sqlite3.Connection, what: str) -> dict[str, int]:
    """Integrity and schema of a store; its row counts."""
    verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise BackupError(f"{what}: integrity check failed: {verdict}")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"schema_version", "alerts", "episodes", "incidents"} <= tables:
        raise BackupError(f"{what}: not an ingestd store (tables: {sorted(tables)})")
    return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("incidents", "episodes", "alerts")}


def backup(source: Path, dest: Path, force: bool = False) -> dict[str, int]:
    if not source.is_file():
        raise BackupError(f"{source}: no store there (give --db sqlite:///PATH)")
    if dest.exists() and not force:
        raise BackupError(f"{dest}: exists; give --force to overwrite it")
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)  # all pages in one step: one read transaction, one snapshot
            out.execute("PRAGMA journal_mode=DELETE")
            counts = check(out, str(tmp))
        finally:
            out.close()
    except sqlite3.Error as e:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{source}: {e}") from None
    except BackupError:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return counts


def restore(backup_file: Path, target: Path, force: bool = False) -> dict[str, int]:
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such backup")
    try:
        src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise BackupError(f"{backup_file}: {e}") from None
    try:
        try:
            counts = check(src, str(backup_file))
        except sqlite3.DatabaseError as e:
            raise BackupError(f"{backup_file}: not a SQLite store ({e})") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, isolation_level=None, timeout=0.2)
        try:
            if not force:
                dst.execute("PRAGMA locking_mode=EXCLUSIVE")
                try:  # a daemon's open connections make this fail; ours then keeps them out
                    dst.execute("BEGIN EXCLUSIVE")
                    dst.execute("ROLLBACK")
                except sqlite3.OperationalError:
                    raise BackupError(
                        f"{target}: the store is in use (is ingestd running?); stop the daemon"
                        " first, or give --force and restart it after") from None
            else:
                dst.execute("PRAGMA busy_timeout=30000")
            src.backup(dst)
            check(dst, str(target))
        finally:
            dst.close()
    except sqlite3.Error as e:
        raise BackupError(f"{target}: {e}") from None
    finally:
        src.close()
    return counts


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {t}" for t, n in counts.items())


def run_backup(args: argparse.Namespace) -> int:
    try:
        source = sqlite_path(args.db)
        dest = Path(args.path)
        counts = backup(source, dest, args.force)
    except BackupError as e:
        print(f"ingestd backup: {e}", file=sys.stderr)
        return 1
    print(f"backup of {source} written to {dest} ({_summary(counts)}); integrity ok")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    try:
        target = sqlite_path(args.db)
        counts = restore(Path(args.path), target, args.force)
    except BackupError as e:
        print(f"ingestd restore: {e}", file=sys.stderr)
        return 1
    print(f"{target} restored from {args.path} ({_summary(counts)}); integrity ok")
    if args.force:
        print("restart the daemon so that it loads the restored store")
    return 0
