"""The analyst snapshot: a copy of the store that a notebook may keep open all day.

DuckDB allows one read-write process or many readers on a file, not both, so an analyst who
holds ``data/spotindex.duckdb`` open would block the daemon. After each publication the
daemon writes ``data/spotindex-analyst.duckdb`` instead: the store is copied into a temporary
file (``ATTACH`` + ``COPY FROM DATABASE ... (SCHEMA)`` then one ``INSERT ... SELECT`` per table,
through a short read-only connection) and ``os.replace``-d over the old copy. A reader that
has the old copy open keeps reading the old file (its inode lives on until it closes); a
reader that opens afterwards gets the new one; nobody ever sees half a copy.

The copy has every table and view of the store, except the bodies of raw HTTP responses
(``raw_responses.body`` is NULL): they are for audit (``spotindex verify``/``audit`` on the
main file), and they are what would make a daily copy grow without bound.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from index.store import LOCK_RETRY_SECONDS, connect, ex, scalar

SNAPSHOT_SUFFIX = "-analyst"
OMITTED_COLUMNS = {"raw_responses": ["body"]}


def analyst_path(db: Path | str) -> Path:
    """``data/spotindex.duckdb`` -> ``data/spotindex-analyst.duckdb``."""
    db = Path(db)
    return db.with_name(f"{db.stem}{SNAPSHOT_SUFFIX}{db.suffix or '.duckdb'}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def refresh(db: Path | str, target: Path | str | None = None, retry_seconds: float = LOCK_RETRY_SECONDS) -> Path:
    """Write a fresh snapshot of ``db`` and swap it in atomically; returns its path."""
    db = Path(db)
    target = Path(target) if target is not None else analyst_path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    for stale in (tmp, Path(f"{tmp}.wal")):
        stale.unlink(missing_ok=True)
    con = connect(db, read_only=True, retry_seconds=retry_seconds)
    try:
        src = scalar(con, "SELECT current_database()")
        ex(con, f"ATTACH '{tmp.as_posix()}' AS _snap (READ_WRITE)")
        try:
            ex(con, f"COPY FROM DATABASE {_quote(src)} TO _snap (SCHEMA)")
            tables = [r[0] for r in ex(con, "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                                            "AND schema_name = 'main' ORDER BY table_name", [src])]
            ex(con, "BEGIN TRANSACTION")
            for table in tables:
                omit = OMITTED_COLUMNS.get(table, [])
                select = "*" + (f" REPLACE ({', '.join(f'NULL AS {_quote(c)}' for c in omit)})" if omit else "")
                ex(con, f"INSERT INTO _snap.main.{_quote(table)} SELECT {select} "
                        f"FROM {_quote(src)}.main.{_quote(table)}")
            ex(con, "COMMIT")
            ex(con, "CHECKPOINT _snap")
        finally:
            ex(con, "DETACH _snap")
    except BaseException:
        con.close()
        for stale in (tmp, Path(f"{tmp}.wal")):
            stale.unlink(missing_ok=True)
        raise
    con.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def snapshot_age(target: Path | str) -> float | None:
    """Seconds since the snapshot file was last replaced (None when it does not exist)."""
    try:
        return time.time() - Path(target).stat().st_mtime
    except FileNotFoundError:
        return None
