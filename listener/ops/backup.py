"""A consistent copy of a live SQLite database (the online backup API), for `listener db backup FILE`.

sqlite3's backup copies the database page by page while the daemon keeps writing (WAL mode): the copy is the
state of one moment, without stopping the service. PostgreSQL has its own tools (pg_dump), so the command
refuses and says so.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def backup_sqlite(url: str, target: Path, pages_per_step: int = 1024) -> int:
    """Copy the SQLite database at `url` to `target` (which must not exist); returns its size in bytes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            f"`listener db backup` copies SQLite databases; this one is {parsed.get_backend_name()}. "
            f"Use PostgreSQL's own tool, e.g. pg_dump --format=custom --file=listener.dump "
            f"'{parsed.set(drivername='postgresql').render_as_string(hide_password=True)}'"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("the database is in memory: there is nothing on disk to back up")
    source_path = Path(parsed.database).expanduser()
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file (a backup never overwrites)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(source_path)
    try:
        dest = sqlite3.connect(partial)
        try:
            # Small steps let the daemon's writers in between (each step holds the read lock briefly).
            source.backup(dest, pages=pages_per_step)
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dest.close()
    finally:
        source.close()
    partial.rename(target)  # a crash mid-copy leaves a .partial file, never a truncated backup under the real name
    return target.stat().st_size
