"""The DuckDB store: the only module that opens the database.

Connections are short: each operation opens, works in one transaction and closes, so a
long-lived writer never exists and readers are blocked only for the seconds of a write
(design note §2, DuckDB concurrency). Frames go in through Arrow; inserts use the natural
keys with ``ON CONFLICT DO NOTHING``, so loading the same snapshot twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl

from index.errors import StoreError
from index.migrations import LATEST_VERSION, MIGRATIONS
from index.schemas import GPU_QUOTE_SCHEMA, QUARANTINE_SCHEMA, TOKEN_PRICE_SCHEMA

# how long a writer waits for a lock held by another process (SPOTINDEX_LOCK_WAIT seconds overrides)
LOCK_RETRY_SECONDS = float(os.environ.get("SPOTINDEX_LOCK_WAIT", "30"))


def ex(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> list[Any]:
    """Run a statement to completion (DuckDB refuses new work while a result is pending)."""
    return con.execute(sql, list(params) if params is not None else []).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The single value a query returns (fetched to completion)."""
    rows = ex(con, sql, params)
    return rows[0][0] if rows else None


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def _holder(exc: Exception) -> tuple[int | None, str]:
    """The PID DuckDB names in a lock error and that process's command line (when /proc tells)."""
    m = re.search(r"PID (\d+)", str(exc))
    if not m:
        return None, "another process"
    pid = int(m.group(1))
    try:
        cmdline = " ".join(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                           .split())
    except OSError:
        cmdline = ""
    if not cmdline:
        prog = re.search(r"held in (.+?) \(PID", str(exc))
        cmdline = prog.group(1) if prog else "unknown program"
    return pid, (cmdline if len(cmdline) <= 120 else cmdline[:117] + "...")


def lock_message(path: Path, exc: Exception, waited: float, read_only: bool) -> str:
    """Who holds the lock and what to do about it, in one line."""
    pid, cmd = _holder(exc)
    who = f"PID {pid} ({cmd})" if pid is not None else cmd
    analyst = path.with_name(f"{path.stem}-analyst{path.suffix}")
    want = "read it" if read_only else "write it"
    return (f"database {path} is locked by {who}; could not {want} within {waited:.3g}s. "
            f"If that is a notebook or a DuckDB shell, close its connection and open the analyst copy "
            f"{analyst} instead (refreshed after each publication, never locks the writer); if it is a "
            f"spotindex daemon or job, wait for it to finish or stop it (kill -TERM {pid if pid else 'PID'}); "
            f"then run again.")


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
            ex(con, "SET TimeZone = 'UTC'")
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(f"cannot open database {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StoreError(lock_message(path, exc, retry_seconds, read_only)) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply missing migrations; refuse a database written by a newer spotindex."""
    ex(con, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMPTZ, description VARCHAR)")
    current = scalar(con, "SELECT max(version) FROM schema_version") or 0
    if current > LATEST_VERSION:
        raise StoreError(f"database schema version {current} is newer than this spotindex supports "
                         f"({LATEST_VERSION}); upgrade spotindex")
    for version, description, sql in MIGRATIONS:
        if version <= current:
            continue
        ex(con, "BEGIN")
        try:
            ex(con, sql)
            ex(con, "INSERT INTO schema_version VALUES (?, ?, ?)", [version, datetime.now(UTC), description])
            ex(con, "COMMIT")
        except Exception:
            ex(con, "ROLLBACK")
            raise
        current = version
    return current


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    try:
        return int(scalar(con, "SELECT max(version) FROM schema_version") or 0)
    except duckdb.CatalogException:
        return 0


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
            ex(con, "BEGIN TRANSACTION")
            try:
                yield con
                ex(con, "COMMIT")
            except BaseException:
                ex(con, "ROLLBACK")
                raise
        finally:
            con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (migrating first if the file is older than this code).

        A missing file is refused, never created: a mistyped ``--db`` must not leave an empty
        database behind (nor let a read command report on one as if it were the real file).
        """
        self.require()
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
        try:
            yield con
        finally:
            con.close()

    def require(self) -> None:
        """Refuse a missing database file (read paths must not create one)."""
        if not self.path.exists():
            raise StoreError(f"no database at {self.path}: run `spotindex run` or `spotindex scrape` first")

    def init(self) -> int:
        with self.write() as con:
            return schema_version(con)

    # ---- writing -----------------------------------------------------------------------------

    @staticmethod
    def bulk_insert_gpu_quotes(con: duckdb.DuckDBPyConnection, df: pl.DataFrame) -> int:
        """Bulk path for many quotes (simulate, large imports): same result as ``insert_frame``.

        Rows are deduplicated on the primary key in polars, rows whose key is already stored
        in the frame's time range are removed by an anti-join, and the rest is appended
        with a plain INSERT (no per-row conflict check). Idempotent: a second load adds nothing.
        """
        if df.height == 0:
            return 0
        key = ["source", "offer_id", "observed_at"]
        # the first row of each key, in order (as ``unique(keep="first", maintain_order=True)``,
        # measured 0.6 s against 1.7-4.1 s on 10M simulated rows)
        fresh = df.filter(pl.struct(key).is_first_distinct())
        lo, hi = fresh["observed_at"].min(), fresh["observed_at"].max()
        con.register("_incoming", fresh.to_arrow())
        try:
            cols = ", ".join(f'"{c}"' for c in fresh.columns)
            stored = int(scalar(con, "SELECT count(*) FROM gpu_quotes WHERE observed_at BETWEEN ? AND ?", [lo, hi]))
            source = "_incoming" if stored == 0 else (
                "(SELECT i.* FROM _incoming i ANTI JOIN (SELECT source, offer_id, observed_at FROM gpu_quotes "
                "WHERE observed_at BETWEEN ? AND ?) s USING (source, offer_id, observed_at))")
            before = int(scalar(con, "SELECT count(*) FROM gpu_quotes"))
            ex(con, f"INSERT INTO gpu_quotes ({cols}) SELECT {cols} FROM {source}", [] if stored == 0 else [lo, hi])
            return int(scalar(con, "SELECT count(*) FROM gpu_quotes")) - before
        finally:
            con.unregister("_incoming")

    @staticmethod
    def insert_frame(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> int:
        """Insert a frame via Arrow, skipping rows whose key exists; returns rows added."""
        if df.height == 0:
            return 0
        before = int(scalar(con, f"SELECT count(*) FROM {table}"))
        arrow = df.to_arrow()
        con.register("_incoming", arrow)
        try:
            cols = ", ".join(f'"{c}"' for c in df.columns)
            ex(con, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming ON CONFLICT DO NOTHING")
        finally:
            con.unregister("_incoming")
        after = int(scalar(con, f"SELECT count(*) FROM {table}"))
        return int(after - before)

    def record_run(self, con: duckdb.DuckDBPyConnection, run_id: str, kind: str, started_at: datetime,
                   dataset: str | None, detail: dict[str, Any]) -> None:
        ex(con, "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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

    def write_scrape(self, run_id: str, started_at: datetime, dataset: str, outcomes: Sequence[Any]) -> dict[str, int]:
        """Store a scrape (one or many rounds) in one transaction: raw bytes, runs, rows, quarantine."""
        totals = {"gpu_new": 0, "token_new": 0, "quarantined": 0, "raw_new": 0}
        with self.write() as con:
            raw_rows: dict[str, dict[str, Any]] = {}
            for o in outcomes:
                for r in o.raw:
                    raw_rows.setdefault(r.sha256, {
                        "sha256": r.sha256, "source": r.source, "method": r.method, "url": r.url, "status": r.status,
                        "headers": json.dumps(dict(r.headers), sort_keys=True), "body": r.body,
                        "captured_at": o.observed_at, "dataset": dataset})
            if raw_rows:
                raw_df = pl.DataFrame(list(raw_rows.values()), schema={
                    "sha256": pl.String, "source": pl.String, "method": pl.String, "url": pl.String,
                    "status": pl.Int32, "headers": pl.String, "body": pl.Binary,
                    "captured_at": pl.Datetime("us", "UTC"), "dataset": pl.String})
                totals["raw_new"] = self.insert_frame(con, "raw_responses", raw_df)
            run_rows = []
            for o in outcomes:
                new = 0
                if o.rows.height:
                    new = self.insert_frame(con, "gpu_quotes" if o.kind == "gpu" else "token_prices", o.rows)
                    totals["gpu_new" if o.kind == "gpu" else "token_new"] += new
                if o.quarantine.height:
                    totals["quarantined"] += self.insert_frame(con, "quarantine",
                                                               self.quarantine_frame(run_id, o.quarantine))
                run_rows.append({"run_id": run_id, "source": o.source, "observed_at": o.observed_at,
                                 "started_at": o.started_at, "finished_at": o.finished_at, "status": o.status,
                                 "rows_loaded": o.rows_loaded, "rows_new": new,
                                 "rows_quarantined": o.rows_quarantined, "error": o.error, "dataset": dataset})
            if run_rows:
                self.insert_frame(con, "scrape_runs", pl.DataFrame(run_rows, schema={
                    "run_id": pl.String, "source": pl.String, "observed_at": pl.Datetime("us", "UTC"),
                    "started_at": pl.Datetime("us", "UTC"), "finished_at": pl.Datetime("us", "UTC"),
                    "status": pl.String, "rows_loaded": pl.Int32, "rows_new": pl.Int32,
                    "rows_quarantined": pl.Int32, "error": pl.String, "dataset": pl.String}))
            self.record_run(con, run_id, "scrape", started_at, dataset, totals)
        return totals

    def write_computation(self, run_id: str, fixings: pl.DataFrame, venues: pl.DataFrame,
                          values: pl.DataFrame, reason: str = "computed",
                          errors: pl.DataFrame | None = None) -> dict[str, int]:
        """Append fixings and daily values as new revisions where they differ from the latest.

        Nothing is updated in place: an unchanged result adds nothing (idempotent), a changed
        one adds revision = latest + 1 with the reason (a ``reason`` column in the frames wins
        over the argument). Rules on *whether* a published value may be revised belong to the
        methodology (``index.revisions``), which decides before calling this; the rows it
        refuses arrive as ``errors`` and are appended to ``errors_log`` in the same transaction.
        """
        now = datetime.now(UTC)
        out = {"fixings_new": 0, "values_new": 0, "errors_new": 0}

        def stamp(df: pl.DataFrame) -> pl.DataFrame:
            extra = {"computed_at": pl.lit(now), "run_id": pl.lit(run_id)}
            if "reason" not in df.columns:
                extra["reason"] = pl.lit(reason)
            return df.with_columns(**extra)

        with self.write() as con:
            if fixings.height:
                con.register("_fx", stamp(fixings).to_arrow())
                ex(con, """
                    CREATE TEMP TABLE _fx_new AS
                    SELECT n.*, COALESCE(l.revision + 1, 0) AS revision
                    FROM _fx n LEFT JOIN latest_fixings l USING (index_id, fixing_time)
                    WHERE l.index_id IS NULL OR l.inputs_hash IS DISTINCT FROM n.inputs_hash
                       OR abs(l.value - n.value) > 1e-12 * abs(n.value) OR (l.value IS NULL) <> (n.value IS NULL)
                       OR l.status IS DISTINCT FROM n.status""")
                cols = [c[0] for c in con.execute("SELECT * FROM _fx_new LIMIT 0").description]
                names = ", ".join(f'"{c}"' for c in cols)
                ex(con, f"INSERT INTO fixings ({names}) SELECT {names} FROM _fx_new")
                out["fixings_new"] = int(scalar(con, "SELECT count(*) FROM _fx_new"))
                if venues.height:
                    con.register("_fv", venues.to_arrow())
                    vcols = [c for c in venues.columns]
                    vnames = ", ".join(f'v."{c}"' for c in vcols)
                    ex(con, f"""INSERT INTO fixing_venues ({", ".join(f'"{c}"' for c in vcols)}, revision)
                                    SELECT {vnames}, f.revision FROM _fv v
                                    JOIN _fx_new f USING (index_id, fixing_time)
                                    ON CONFLICT DO NOTHING""")
                    con.unregister("_fv")
                ex(con, "DROP TABLE _fx_new")
                con.unregister("_fx")
            if values.height:
                con.register("_dv", stamp(values).to_arrow())
                ex(con, """
                    CREATE TEMP TABLE _dv_new AS
                    SELECT n.*, COALESCE(l.revision + 1, 0) AS revision
                    FROM _dv n LEFT JOIN latest_index_values l USING (index_id, date)
                    WHERE l.index_id IS NULL OR l.inputs_hash IS DISTINCT FROM n.inputs_hash
                       OR abs(l.value - n.value) > 1e-12 * abs(n.value) OR (l.value IS NULL) <> (n.value IS NULL)
                       OR l.status IS DISTINCT FROM n.status""")
                cols = [c[0] for c in con.execute("SELECT * FROM _dv_new LIMIT 0").description]
                names = ", ".join(f'"{c}"' for c in cols)
                ex(con, f"INSERT INTO index_values ({names}) SELECT {names} FROM _dv_new")
                out["values_new"] = int(scalar(con, "SELECT count(*) FROM _dv_new"))
                ex(con, "DROP TABLE _dv_new")
                con.unregister("_dv")
            if errors is not None and errors.height:
                out["errors_new"] = self.insert_frame(con, "errors_log", errors.with_columns(
                    logged_at=pl.lit(now), run_id=pl.lit(run_id)))
            self.record_run(con, run_id, "compute", now, None, out)
        return out

    def record_publication(self, day: date, out_dir: str, report_sha256: str,
                           published: list[dict[str, Any]]) -> int:
        """Append a publication record (which revision of which value went out, and when)."""
        with self.write() as con:
            seq = int(scalar(con, "SELECT coalesce(max(seq), -1) + 1 FROM publications WHERE date = ?", [day]))
            ex(con, "INSERT INTO publications VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [day, seq, datetime.now(UTC), out_dir, report_sha256, len(published),
                         json.dumps(published, default=str)])
        return seq

    # ---- reading -----------------------------------------------------------------------------

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        with self.read() as con:
            return con.sql(sql, params=list(params or [])).pl()

    def gpu_quotes(self, start: datetime | None = None, end: datetime | None = None,
                   columns: Sequence[str] | None = None) -> pl.LazyFrame:
        """Quotes observed in [start, end) as a lazy frame with the normalised schema (only
        ``columns`` when given: the pipeline reads ``pipeline.GPU_INPUT_COLUMNS``, a third of
        the bytes)."""
        return self._window("gpu_quotes", GPU_QUOTE_SCHEMA, start, end, columns)

    def token_prices(self, start: datetime | None = None, end: datetime | None = None,
                     columns: Sequence[str] | None = None) -> pl.LazyFrame:
        return self._window("token_prices", TOKEN_PRICE_SCHEMA, start, end, columns)

    def _window(self, table: str, schema: dict[str, pl.DataType], start: datetime | None,
                end: datetime | None, columns: Sequence[str] | None = None) -> pl.LazyFrame:
        cols = [c for c in (columns or schema) if c != "quarantine_reason"]
        where, params = [], []
        if start is not None:
            where.append("observed_at >= ?")
            params.append(start)
        if end is not None:
            where.append("observed_at < ?")
            params.append(end)
        sql = f"SELECT {', '.join(cols)} FROM {table}" + (f" WHERE {' AND '.join(where)}" if where else "")
        with self.read() as con:  # through Arrow: for millions of rows a fraction of .pl()'s time
            df = cast(pl.DataFrame, pl.from_arrow(con.sql(sql, params=params).to_arrow_table()))
        return df.with_columns(pl.col(c).cast(schema[c]) for c in cols).lazy()

    def observed_dates(self) -> list[date]:
        df = self.frame("SELECT DISTINCT CAST(observed_at AS DATE) AS d FROM gpu_quotes UNION "
                        "SELECT DISTINCT CAST(observed_at AS DATE) FROM token_prices ORDER BY 1")
        return df["d"].to_list() if df.height else []

    def count(self, table: str) -> int:
        with self.read() as con:
            return int(scalar(con, f"SELECT count(*) FROM {table}"))


__all__ = ["QUARANTINE_SCHEMA", "Store", "connect", "migrate", "schema_version"]
