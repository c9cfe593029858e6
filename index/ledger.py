"""The methodology's state in the store: what earlier days left behind, what was published,
the oracle's rounds, settlements and the errors log.

Everything goes through ``index.store.Store`` (the only module that opens DuckDB): reads
with ``store.frame``, writes in one ``store.write()`` transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


PRIOR_SQL = {
    "fixings": "SELECT index_id, max(fixing_time) AS fixing_time, arg_max(value, fixing_time) AS value "
               "FROM latest_fixings WHERE list_contains(?::VARCHAR[], index_id) AND fixing_time < ? "
               "AND fixing_time >= ? AND status IN ('NORMAL', 'LOW_CONFIDENCE') AND value IS NOT NULL "
               "GROUP BY index_id",
    "venues": "SELECT DISTINCT index_id, venue FROM venue_medians WHERE list_contains(?::VARCHAR[], index_id) "
              "AND fixing_time = ? AND NOT included "
              "AND (exclusion_reason LIKE 'venue_filter:%' OR exclusion_reason LIKE 'hysteresis:%')",
    "days": "SELECT index_id, max(date) AS date, arg_max(value, date) AS value FROM latest_index_values "
            "WHERE list_contains(?::VARCHAR[], index_id) AND date < ? AND date >= ? "
            "AND status IN ('NORMAL', 'LOW_CONFIDENCE') AND value IS NOT NULL GROUP BY index_id",
    "stored": "SELECT index_id, date, revision, value, status, inputs_hash FROM latest_index_values WHERE date = ?",
    # report rounds, and any publication recorded without rounds (Store.record_publication)
    "published": "SELECT index_id, date FROM report_rounds WHERE date = ? UNION "
                 "SELECT j.value->>'index_id', p.date FROM publications p, json_each(p.values_published) j "
                 "WHERE p.date = ?",
}


@dataclass
class DayState:
    """What the store holds for a day before it is (re)computed."""

    prior: pipeline.Prior
    stored: pl.DataFrame  # latest revision of each stored value of the day (revisions.STORED_SCHEMA)
    published: pl.DataFrame  # (index_id, date) of the day's values that went out in a report


def day_state(store: Store, defs: Definitions, day: date) -> DayState:
    """The prior state ``day`` inherits (last valid fixing and day per series, the venues the
    venue filter excluded at the fixing one hour before the day; latest revisions) and the day's
    stored and published values: one read-only connection."""
    start, _ = pipeline.day_bounds(day)
    ids = [d.id for d in defs.indices]
    fix_hours = max([d.carry_fixing_hours for d in defs.indices] + [0])
    back_days = max([d.carry_days for d in defs.indices] + [0])
    params: dict[str, list[Any]] = {
        "fixings": [ids, start, start - timedelta(hours=fix_hours)],
        "venues": [ids, start - timedelta(hours=1)],
        "days": [ids, day, day - timedelta(days=back_days)],
        "stored": [day],
        "published": [day, day],
    }
    with store.read() as con:
        got = {k: con.sql(sql, params=params[k]).pl() for k, sql in PRIOR_SQL.items()}
    prior = pipeline.Prior(_typed(got["fixings"], pipeline.PRIOR_FIXING_SCHEMA),
                           _typed(got["venues"], pipeline.PRIOR_VENUE_SCHEMA),
                           _typed(got["days"], pipeline.PRIOR_DAY_SCHEMA))
    published = _typed(got["published"], pl.Schema({"index_id": pl.String(), "date": pl.Date()}))
    return DayState(prior, _typed(got["stored"], revisions.STORED_SCHEMA), published)


def load_prior(store: Store, defs: Definitions, day: date) -> pipeline.Prior:
    return day_state(store, defs, day).prior


def _typed(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """``df`` with exactly ``schema`` (an empty result from DuckDB may come back untyped)."""
    return df.select(list(schema)).cast(schema) if df.height else pl.DataFrame(schema=schema)


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
        existing = scalar(con, "SELECT strftime(settled_at, '%Y-%m-%d %H:%M') FROM settlements "
                               "WHERE contract_id = ?", [row["contract_id"]])
        if existing is not None:
            raise SettlementExists(f"contract {row['contract_id']} was settled at {existing} UTC; "
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
