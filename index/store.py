"""The DuckDB store: the only module that opens the database.

Connections are short: each operation opens, works in one transaction and closes, so a
long-lived writer never exists and readers are blocked only for the seconds of a write
(design note §2, DuckDB concurrency). Frames go in through Arrow; inserts use the natural
keys with ``ON CONFLICT DO NOTHING``, so loading the same snapshot twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from index.errors import StoreError
from index.migrations import LATEST_VERSION, MIGRATIONS
from index.schemas import GPU_QUOTE_SCHEMA, QUARANTINE_SCHEMA, TOKEN_PRICE_SCHEMA

LOCK_RETRY_SECONDS = 30.0


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def connect(path: Path | str, read_only: bool = False, retry_seconds: float = LOCK_RETRY_SECONDS
            ) -> duckdb.DuckDBPyConnection:
    """Open the database, retrying with backoff while another process holds the lock."""
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"database {path} does not exist: run 'spotindex run' or 'spotindex scrape' first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + retry_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute("SET TimeZone = 'UTC'")
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open database {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"database {path} is locked by another process ({exc}); waited {retry_seconds:.0f}s. "
                    "Close the program that holds it (an analyst should open data/spotindex-analyst.duckdb "
                    "or use read_only=True) and run again.") from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply missing migrations; refuse a database written by a newer spotindex."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMPTZ, description VARCHAR)")
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    current = row[0] if row and row[0] is not None else 0
    if current > LATEST_VERSION:
        raise StoreError(f"database schema version {current} is newer than this spotindex supports "
                         f"({LATEST_VERSION}); upgrade spotindex")
    for version, description, sql in MIGRATIONS:
        if version <= current:
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [version, datetime.now(UTC), description])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        current = version
    return current


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except duckdb.CatalogException:
        return 0
    return int(row[0]) if row and row[0] is not None else 0


class Store:
    """A handle on one database file; every method opens and closes its own connection."""

    def __init__(self, path: Path | str, retry_seconds: float = LOCK_RETRY_SECONDS):
        self.path = Path(path)
        self.retry_seconds = retry_seconds

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One read-write connection and one transaction: all of it lands, or none."""
        con = connect(self.path, retry_seconds=self.retry_seconds)
        try:
            migrate(con)
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (migrating first if the file is older than this code)."""
        if self.path.exists():
            con = connect(self.path, read_only=True, retry_seconds=self.retry_seconds)
            version = schema_version(con)
            if version < LATEST_VERSION:
                con.close()
                with self.write():
                    pass
                con = connect(self.path, read_only=True, retry_seconds=self.retry_seconds)
            elif version > LATEST_VERSION:
                con.close()
                raise StoreError(f"database {self.path} has schema version {version}, newer than this "
                                 f"spotindex supports ({LATEST_VERSION}); upgrade spotindex")
        else:
            with self.write():
                pass
            con = connect(self.path, read_only=True, retry_seconds=self.retry_seconds)
        try:
            yield con
        finally:
            con.close()

    def init(self) -> int:
        with self.write() as con:
            return schema_version(con)

    # ---- writing -----------------------------------------------------------------------------

    @staticmethod
    def insert_frame(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> int:
        """Insert a frame via Arrow, skipping rows whose key exists; returns rows added."""
        if df.height == 0:
            return 0
        before = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        arrow = df.to_arrow()
        con.register("_incoming", arrow)
        try:
            cols = ", ".join(f'"{c}"' for c in df.columns)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming ON CONFLICT DO NOTHING")
        finally:
            con.unregister("_incoming")
        after = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        return int(after - before)

    def record_run(self, con: duckdb.DuckDBPyConnection, run_id: str, kind: str, started_at: datetime,
                   dataset: str | None, detail: dict[str, Any]) -> None:
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [run_id, kind, started_at, datetime.now(UTC), dataset, json.dumps(detail, default=str)])

    @staticmethod
    def quarantine_frame(run_id: str, q: pl.DataFrame) -> pl.DataFrame:
        """Quarantine rows with their idempotency key and their ordinal in this run."""
        if q.height == 0:
            return q
        key = pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in
                             ("source", "observed_at", "record_key", "field", "reason", "raw_sha256")],
                            separator="\x1f")
        return q.with_columns(
            qkey=key.map_batches(lambda s: pl.Series([hashlib.sha256(v.encode()).hexdigest() for v in s]),
                                 return_dtype=pl.String),
            run_id=pl.lit(run_id),
            ordinal=pl.int_range(pl.len(), dtype=pl.Int32),
        )

    # ---- reading -----------------------------------------------------------------------------

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        with self.read() as con:
            return con.sql(sql, params=list(params or [])).pl()

    def gpu_quotes(self, start: datetime | None = None, end: datetime | None = None) -> pl.LazyFrame:
        """Quotes observed in [start, end) as a lazy frame with the normalised schema."""
        return self._window("gpu_quotes", GPU_QUOTE_SCHEMA, start, end)

    def token_prices(self, start: datetime | None = None, end: datetime | None = None) -> pl.LazyFrame:
        return self._window("token_prices", TOKEN_PRICE_SCHEMA, start, end)

    def _window(self, table: str, schema: dict[str, pl.DataType], start: datetime | None,
                end: datetime | None) -> pl.LazyFrame:
        cols = [c for c in schema if c != "quarantine_reason"]
        where, params = [], []
        if start is not None:
            where.append("observed_at >= ?")
            params.append(start)
        if end is not None:
            where.append("observed_at < ?")
            params.append(end)
        sql = f"SELECT {', '.join(cols)} FROM {table}" + (f" WHERE {' AND '.join(where)}" if where else "")
        df = self.frame(sql, params)
        return df.with_columns(pl.col(c).cast(schema[c]) for c in cols).lazy()

    def observed_dates(self) -> list[date]:
        df = self.frame("SELECT DISTINCT CAST(observed_at AS DATE) AS d FROM gpu_quotes UNION "
                        "SELECT DISTINCT CAST(observed_at AS DATE) FROM token_prices ORDER BY 1")
        return df["d"].to_list() if df.height else []

    def count(self, table: str) -> int:
        with self.read() as con:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


__all__ = ["QUARANTINE_SCHEMA", "Store", "connect", "migrate", "schema_version"]
