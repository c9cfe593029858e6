"""Store operations for historical imports, backfills and history (migration 2's tables).

Kept beside ``store.py`` so parallel work on the store merges cleanly; like ``store.py``
it is the only code here that talks SQL, and every function opens one short connection
through ``Store.write()`` / ``Store.read()`` (one transaction each).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from index.store import Store, ex, scalar

RECOMPUTED_COLUMNS = ("index_id", "date", "methodology_version", "revision", "value", "unit", "p25", "p75", "conf",
                      "n_fixings", "n_venues", "n_quotes", "status", "inputs_hash", "computed_at", "run_id", "reason")


# ---- imports ------------------------------------------------------------------------------------

def write_import_batch(store: Store, import_id: str, table: str, rows: pl.DataFrame,
                       quarantine: pl.DataFrame) -> tuple[int, int]:
    """Insert one batch of imported rows and its quarantine (one transaction); (rows new, quarantine new)."""
    with store.write() as con:
        new = Store.insert_frame(con, table, rows) if rows.height else 0
        q_new = Store.insert_frame(con, "quarantine", Store.quarantine_frame(import_id, quarantine)) \
            if quarantine.height else 0
    return new, q_new


def record_import(store: Store, record: dict[str, Any]) -> None:
    cols = ("import_id", "dataset", "format", "path", "file_sha256", "file_bytes", "source", "started_at",
            "finished_at", "rows_read", "rows_loaded", "rows_new", "rows_quarantined", "detail")
    with store.write() as con:
        ex(con, f"INSERT INTO imports ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
           [json.dumps(record[c], default=str) if c == "detail" else record[c] for c in cols])
        ex(con, "INSERT INTO runs VALUES (?, 'import', ?, ?, ?, ?) ON CONFLICT DO NOTHING",
           [record["import_id"], record["started_at"], record["finished_at"], record["dataset"],
            json.dumps({k: record[k] for k in ("rows_read", "rows_loaded", "rows_new", "rows_quarantined")})])


# ---- backfill -----------------------------------------------------------------------------------

def published_values(store: Store, index_ids: Sequence[str], start: date, end: date) -> pl.DataFrame:
    """Every (index_id, date) in [start, end) that a publication sent out, with the published revision's value."""
    schema = {"index_id": pl.String, "date": pl.Date, "revision": pl.Int32, "value": pl.Float64,
              "methodology_version": pl.String, "status": pl.String, "inputs_hash": pl.String}
    if not index_ids:
        return pl.DataFrame(schema=schema)
    with store.read() as con:
        if not scalar(con, "SELECT count(*) FROM publications WHERE date >= ? AND date < ?", [start, end]):
            return pl.DataFrame(schema=schema)
        df = con.sql("""
            WITH p AS (
                SELECT date, unnest(from_json(values_published, '[{"index_id":"VARCHAR","revision":"INTEGER"}]'),
                                    recursive := true)
                FROM publications WHERE date >= ? AND date < ?),
            last AS (SELECT index_id, date, max(revision) AS revision FROM p GROUP BY ALL)
            SELECT l.index_id, l.date, l.revision, v.value, v.methodology_version, v.status, v.inputs_hash
            FROM last l LEFT JOIN index_values v USING (index_id, date, revision)
            WHERE list_contains(?, l.index_id)""", params=[start, end, list(index_ids)]).pl()
    return df.cast(schema)  # type: ignore[arg-type]


def latest_values_between(store: Store, index_ids: Sequence[str], start: date, end: date) -> pl.DataFrame:
    with store.read() as con:
        return con.sql("SELECT index_id, date, revision, value, status, inputs_hash, methodology_version "
                       "FROM latest_index_values WHERE date >= ? AND date < ? AND list_contains(?, index_id)",
                       params=[start, end, list(index_ids)]).pl()


def start_backfill_job(store: Store, job_id: str, params: dict[str, Any], restart: bool) -> tuple[int, set[date]]:
    """Open (or resume) a backfill job; returns (attempt, days already done in this attempt).

    A job that was interrupted keeps its progress and is resumed; a job that finished (or
    ``restart``) starts a new attempt from scratch, which is idempotent anyway.
    """
    now = datetime.now(UTC)
    with store.write() as con:
        row = ex(con, "SELECT status, attempt FROM backfill_jobs WHERE job_id = ?", [job_id])
        if row and row[0][0] == "running" and not restart:
            done = ex(con, "SELECT date FROM backfill_progress WHERE job_id = ?", [job_id])
            return int(row[0][1]), {d[0] for d in done}
        attempt = int(row[0][1]) + 1 if row else 1
        ex(con, "DELETE FROM backfill_progress WHERE job_id = ?", [job_id])
        ex(con, "DELETE FROM backfill_jobs WHERE job_id = ?", [job_id])
        ex(con, "INSERT INTO backfill_jobs VALUES (?, ?, 'running', ?, ?, NULL, NULL)",
           [job_id, json.dumps(params, default=str), attempt, now])
    return attempt, set()


def mark_backfill_days(store: Store, job_id: str, progress: pl.DataFrame) -> None:
    if progress.height == 0:
        return
    with store.write() as con:
        Store.insert_frame(con, "backfill_progress", progress.with_columns(job_id=pl.lit(job_id),
                                                                           done_at=pl.lit(datetime.now(UTC))))


def finish_backfill_job(store: Store, job_id: str, detail: dict[str, Any]) -> None:
    with store.write() as con:
        ex(con, "UPDATE backfill_jobs SET status = 'done', finished_at = ?, detail = ? WHERE job_id = ?",
           [datetime.now(UTC), json.dumps(detail, default=str), job_id])


def record_backfill_run(store: Store, run_id: str, started_at: datetime, detail: dict[str, Any] | None) -> None:
    """The run row (kind 'backfill'): written first, so the computation's own rows join it; detail at the end."""
    with store.write() as con:
        if detail is None:
            ex(con, "INSERT INTO runs VALUES (?, 'backfill', ?, NULL, NULL, NULL) ON CONFLICT DO NOTHING",
               [run_id, started_at])
        else:
            ex(con, "UPDATE runs SET finished_at = ?, detail = ? WHERE run_id = ?",
               [datetime.now(UTC), json.dumps(detail, default=str), run_id])


def write_recomputed(store: Store, run_id: str, values: pl.DataFrame, reason: str) -> int:
    """Keep recomputed values that may not replace a published one, apart from the published series.

    Idempotent: a value identical (inputs hash, value, status) to the latest kept for the same
    (index, day, methodology) adds nothing; a different one adds the next revision.
    """
    if values.height == 0:
        return 0
    now = datetime.now(UTC)
    frame = values.with_columns(computed_at=pl.lit(now), run_id=pl.lit(run_id), reason=pl.lit(reason),
                                revision=pl.lit(0, dtype=pl.Int32))
    cols = [c for c in RECOMPUTED_COLUMNS if c in frame.columns]
    names = ", ".join(f'"{c}"' for c in cols if c != "revision")
    with store.write() as con:
        con.register("_rv", frame.select(cols).to_arrow())
        try:
            ex(con, f"""
                CREATE TEMP TABLE _rv_new AS
                WITH latest AS (
                    SELECT * FROM recomputed_values QUALIFY row_number() OVER (
                        PARTITION BY index_id, date, methodology_version ORDER BY revision DESC) = 1)
                SELECT {', '.join(f'n."{c}"' for c in cols if c != "revision")},
                       COALESCE(l.revision + 1, 0) AS revision
                FROM _rv n LEFT JOIN latest l USING (index_id, date, methodology_version)
                WHERE l.index_id IS NULL OR l.inputs_hash IS DISTINCT FROM n.inputs_hash
                   OR l.value IS DISTINCT FROM n.value OR l.status IS DISTINCT FROM n.status""")
            ex(con, f"INSERT INTO recomputed_values ({names}, revision) SELECT {names}, revision FROM _rv_new")
            added = int(scalar(con, "SELECT count(*) FROM _rv_new"))
            ex(con, "DROP TABLE _rv_new")
        finally:
            con.unregister("_rv")
    return added


# ---- history ------------------------------------------------------------------------------------

def history(store: Store, index_id: str, start: date | None, end: date | None, revisions: bool,
            methodology: str | None = None) -> pl.DataFrame:
    """A series' daily values in [start, end): the latest revision, or every revision with its reason.

    With ``methodology``, values recomputed under that version and kept apart from the
    published series (``recomputed_values``) are shown in place of the published ones.
    """
    where: list[str] = ["index_id = ?"]
    params: list[Any] = [index_id]
    if start is not None:
        where.append("date >= ?")
        params.append(start)
    if end is not None:
        where.append("date < ?")
        params.append(end)
    cond = " AND ".join(where)
    base = ("SELECT index_id, date, revision, value, unit, status, n_venues, n_quotes, n_fixings, p25, p75, conf, "
            "methodology_version, inputs_hash, computed_at, run_id, reason, '{table}' AS stored_in FROM {table}")
    with store.read() as con:
        if methodology is None:
            sql = base.format(table="index_values") + f" WHERE {cond}"
            if revisions:  # values a backfill kept apart from the published ones are revisions too
                sql += f" UNION ALL BY NAME {base.format(table='recomputed_values')} WHERE {cond}"
                params = [*params, *params]
            published = ("SELECT date, max(published_at) AS published_at, list(DISTINCT x.revision) AS revs FROM ("
                         "SELECT date, published_at, unnest(from_json(values_published, "
                         "'[{\"index_id\":\"VARCHAR\",\"revision\":\"INTEGER\"}]'), recursive := true) FROM "
                         "publications) x WHERE x.index_id = ? GROUP BY date")
            sql = (f"WITH h AS ({sql}), pub AS ({published}) SELECT h.*, "
                   "CASE WHEN h.stored_in = 'index_values' AND list_contains(pub.revs, h.revision) "
                   "THEN pub.published_at END AS published_at "
                   "FROM h LEFT JOIN pub USING (date)")
            params = [*params, index_id]
        else:
            # the recomputed values under `methodology`, falling back to stored values of that version
            sql = (f"SELECT * FROM ({base.format(table='recomputed_values')} UNION ALL BY NAME "
                   f"{base.format(table='index_values')}) WHERE {cond} AND methodology_version = ?")
            sql = f"SELECT *, NULL::TIMESTAMPTZ AS published_at FROM ({sql})"
            params = [*params, methodology]
        df = con.sql(sql, params=params).pl()
    if df.height == 0:
        return df
    if not revisions:
        # latest revision per day; recomputed values win over stored ones of the same version
        df = (df.with_columns(_rank=pl.when(pl.col("stored_in") == "recomputed_values").then(1).otherwise(0))
              .sort("date", "_rank", "revision")
              .group_by("date", maintain_order=True).last().drop("_rank"))
    return df.sort("date", "stored_in", "revision")


def series_with_values(store: Store) -> list[str]:
    with store.read() as con:
        return [r[0] for r in ex(con, "SELECT DISTINCT index_id FROM index_values ORDER BY 1")]
