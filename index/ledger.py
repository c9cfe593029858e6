"""The methodology's state in the store: what earlier days left behind, what was published,
the oracle's rounds, settlements and the errors log.

Everything goes through ``index.store.Store`` (the only module that opens DuckDB): reads
with ``store.frame``, writes in one ``store.write()`` transaction.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from index import pipeline, revisions
from index.definitions import Definitions
from index.errors import SpotindexError
from index.store import Store, ex, scalar

VALID = list(pipeline.VALID_STATUSES)


class SettlementExists(SpotindexError):
    """A settlement is immutable once published."""


def load_prior(store: Store, defs: Definitions, day: date) -> pipeline.Prior:
    """The state ``day`` inherits: last valid fixing and day per series, and the venues the
    venue filter excluded at the fixing one hour before the day (latest revisions)."""
    start, _ = pipeline.day_bounds(day)
    ids = [d.id for d in defs.indices]
    if not ids:
        return pipeline.Prior.empty()
    fix_hours = max(d.carry_fixing_hours for d in defs.indices)
    back_days = max(d.carry_days for d in defs.indices)
    fixings = store.frame(
        "SELECT index_id, max(fixing_time) AS fixing_time, arg_max(value, fixing_time) AS value "
        "FROM latest_fixings WHERE list_contains(?::VARCHAR[], index_id) AND fixing_time < ? AND fixing_time >= ? "
        "AND status IN ('NORMAL', 'LOW_CONFIDENCE') AND value IS NOT NULL GROUP BY index_id",
        [ids, start, start - timedelta(hours=fix_hours)])
    venues = store.frame(
        "SELECT DISTINCT index_id, venue FROM venue_medians WHERE list_contains(?::VARCHAR[], index_id) "
        "AND fixing_time = ? AND NOT included "
        "AND (exclusion_reason LIKE 'venue_filter:%' OR exclusion_reason LIKE 'hysteresis:%')",
        [ids, start - timedelta(hours=1)])
    days = store.frame(
        "SELECT index_id, max(date) AS date, arg_max(value, date) AS value FROM latest_index_values "
        "WHERE list_contains(?::VARCHAR[], index_id) AND date < ? AND date >= ? "
        "AND status IN ('NORMAL', 'LOW_CONFIDENCE') AND value IS NOT NULL GROUP BY index_id",
        [ids, day, day - timedelta(days=back_days)])
    return pipeline.Prior(_typed(fixings, pipeline.PRIOR_FIXING_SCHEMA), _typed(venues, pipeline.PRIOR_VENUE_SCHEMA),
                          _typed(days, pipeline.PRIOR_DAY_SCHEMA))


def _typed(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """``df`` with exactly ``schema`` (an empty result from DuckDB may come back untyped)."""
    return df.select(list(schema)).cast(schema) if df.height else pl.DataFrame(schema=schema)


def stored_values(store: Store, day: date) -> pl.DataFrame:
    """The latest stored revision of every series' value for ``day``."""
    df = store.frame("SELECT index_id, date, revision, value, status, inputs_hash FROM latest_index_values "
                     "WHERE date = ?", [day])
    return _typed(df, revisions.STORED_SCHEMA)


def published_keys(store: Store, day: date) -> pl.DataFrame:
    """(index_id, date) of every value of ``day`` that went out in a report."""
    df = store.frame("SELECT DISTINCT index_id, date FROM report_rounds WHERE date = ?", [day])
    return df if df.height else pl.DataFrame(schema={"index_id": pl.String, "date": pl.Date})


def last_rounds(store: Store) -> pl.DataFrame:
    """Per series: the last round id and its publish time."""
    return store.frame("SELECT index_id, max(round_id) AS round_id, arg_max(publish_time, round_id) AS publish_time "
                       "FROM report_rounds GROUP BY index_id")


def record_publication(store: Store, day: date, out_dir: str, report_sha256: str, entries: list[dict[str, Any]],
                       published_at: datetime) -> int:
    """Append the publication and its rounds in one transaction; a round id already taken
    (another publisher got there first) aborts the whole record."""
    with store.write() as con:
        seq = int(scalar(con, "SELECT coalesce(max(seq), -1) + 1 FROM publications WHERE date = ?", [day]))
        ex(con, "INSERT INTO publications VALUES (?, ?, ?, ?, ?, ?, ?)",
           [day, seq, published_at, out_dir, report_sha256, len(entries),
            json.dumps([{"index_id": e["id"], "revision": e["revision"], "round_id": e["round_id"]}
                        for e in entries])])
        for e in entries:
            ex(con, "INSERT INTO report_rounds VALUES (?, ?, ?, ?, ?, ?)",
               [e["id"], e["round_id"], day, e["revision"], published_at, report_sha256])
    return seq


def month_values(store: Store, series: str, first: date, last: date) -> pl.DataFrame:
    return store.frame("SELECT date, value, status, revision, inputs_hash, carried_from FROM latest_index_values "
                       "WHERE index_id = ? AND date BETWEEN ? AND ? ORDER BY date", [series, first, last])


def get_settlement(store: Store, contract_id: str) -> dict[str, Any] | None:
    df = store.frame("SELECT * FROM settlements WHERE contract_id = ?", [contract_id])
    return df.row(0, named=True) if df.height else None


def insert_settlement(store: Store, row: dict[str, Any]) -> None:
    """Store a settlement; refuse if one exists (settlements are immutable)."""
    with store.write() as con:
        existing = scalar(con, "SELECT settled_at FROM settlements WHERE contract_id = ?", [row["contract_id"]])
        if existing is not None:
            raise SettlementExists(f"contract {row['contract_id']} was settled at {existing:%Y-%m-%d %H:%M} UTC; "
                                   "a published settlement is immutable")
        cols = list(row)
        ex(con, f"INSERT INTO settlements ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
           [row[c] for c in cols])


def value_revisions(store: Store, series: str, day: date | None = None) -> pl.DataFrame:
    """Every stored revision of a series' daily values, oldest first, with its reason."""
    where, params = "index_id = ?", list[Any]([series])
    if day is not None:
        where += " AND date = ?"
        params.append(day)
    return store.frame(f"SELECT index_id, date, revision, value, status, carried_from, inputs_hash, reason, "
                       f"computed_at, run_id, methodology_version FROM index_values WHERE {where} "
                       f"ORDER BY date, revision", params)


def errors_log(store: Store, series: str | None = None) -> pl.DataFrame:
    """Published values a recomputation would change but that stand (disclosed, never rewritten)."""
    if series is None:
        return store.frame("SELECT * FROM errors_log ORDER BY date, index_id, logged_at")
    return store.frame("SELECT * FROM errors_log WHERE index_id = ? ORDER BY date, logged_at", [series])
