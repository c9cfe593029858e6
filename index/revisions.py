"""Revision policy (METHODOLOGY §7): pure decisions on what a recomputation may write.

Nothing is ever updated in place; the store appends revisions. This module decides, per
series and day, what happens to a recomputed value:

- never stored                                  -> ``write`` (revision 0)
- same value, status and inputs hash            -> ``skip`` (nothing to add)
- stored but never published (e.g. a backfill)  -> ``write`` a new revision
- published, before T+1 09:00 UTC, and the value moves by more than max(0.5%, $0.01)
  (or appears / disappears)                     -> ``write`` a revision with its reason
- published, before the deadline, smaller move  -> ``keep`` the published value; logged as
                                                   ``below_threshold`` in ``errors_log``
- published, after the deadline                 -> ``keep``; logged as ``after_deadline``

A day's fixings follow its daily value: kept with it, or revised with it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl

REVISION_DEADLINE = time(9, 0)  # T+1 09:00 UTC
RELATIVE_THRESHOLD = 0.005
ABSOLUTE_THRESHOLD = 0.01  # USD (or the series' unit)

STORED_SCHEMA = pl.Schema({
    "index_id": pl.String(), "date": pl.Date(), "revision": pl.Int32(), "value": pl.Float64(), "status": pl.String(),
    "inputs_hash": pl.String()})
ERRORS_SCHEMA = pl.Schema({
    "index_id": pl.String(), "date": pl.Date(), "kind": pl.String(), "recomputed_inputs_hash": pl.String(),
    "published_revision": pl.Int32(), "published_value": pl.Float64(), "published_status": pl.String(),
    "recomputed_value": pl.Float64(), "recomputed_status": pl.String(), "detail": pl.String()})


def deadline(day: date) -> datetime:
    """The last moment a published value for ``day`` may be revised: T+1 09:00 UTC."""
    return datetime.combine(day + timedelta(days=1), REVISION_DEADLINE, tzinfo=UTC)


def threshold(old: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(RELATIVE_THRESHOLD * old.abs(), pl.lit(ABSOLUTE_THRESHOLD))


def decide(new: pl.DataFrame, stored: pl.DataFrame, published: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """One row per new value: index_id, date, action (write/skip/keep), reason, error kind or null,
    plus the stored revision's fields (``old_*``) for the errors log."""
    old = stored.select(
        "index_id", "date", old_revision=pl.col("revision"), old_value=pl.col("value"), old_status=pl.col("status"),
        old_hash=pl.col("inputs_hash"))
    pub = published.select("index_id", "date").unique().with_columns(_published=pl.lit(True))
    frame = (
        new.select("index_id", "date", "value", "status", "inputs_hash")
        .join(old, on=["index_id", "date"], how="left")
        .join(pub, on=["index_id", "date"], how="left")
        .with_columns(pl.col("_published").fill_null(False))
    )
    v, o = pl.col("value"), pl.col("old_value")
    changed = (
        (pl.col("old_hash") != pl.col("inputs_hash")).fill_null(True)
        | ((v - o).abs() > 1e-12 * v.abs()).fill_null(False)
        | (v.is_null() != o.is_null())
        | (pl.col("old_status") != pl.col("status")).fill_null(True)
    )
    material = (v.is_null() != o.is_null()) | ((v - o).abs() > threshold(o)).fill_null(False)
    cutoff = (pl.col("date").cast(pl.Datetime("us", "UTC"))
              + pl.duration(days=1, hours=REVISION_DEADLINE.hour, minutes=REVISION_DEADLINE.minute))
    in_time = pl.lit(now).cast(pl.Datetime("us", "UTC")) < cutoff
    move = pl.format("value {} -> {}, status {} -> {}", o.round(6).cast(pl.String).fill_null("none"),
                     v.round(6).cast(pl.String).fill_null("none"), pl.col("old_status").fill_null("none"),
                     pl.col("status"))
    dl = pl.lit(f"T+1 {REVISION_DEADLINE:%H:%M} UTC")
    return frame.with_columns(
        action=pl.when(pl.col("old_revision").is_null()).then(pl.lit("write"))
        .when(~changed).then(pl.lit("skip"))
        .when(~pl.col("_published")).then(pl.lit("write"))
        .when(in_time & material).then(pl.lit("write"))
        .otherwise(pl.lit("keep")),
        reason=pl.when(pl.col("old_revision").is_null()).then(pl.lit("computed"))
        .when(~changed).then(pl.lit("unchanged"))
        .when(~pl.col("_published")).then(pl.format("recomputed before publication: {}", move))
        .when(in_time & material).then(pl.format("revision before the {} deadline: {}", dl, move))
        .when(in_time).then(pl.format("published value kept: move within max(0.5%, $0.01): {}", move))
        .otherwise(pl.format("published value kept: after the {} deadline: {}", dl, move)),
        kind=pl.when(pl.col("old_revision").is_null() | ~changed | ~pl.col("_published")).then(pl.lit(None))
        .when(in_time & material).then(pl.lit(None))
        .when(in_time).then(pl.lit("below_threshold"))
        .otherwise(pl.lit("after_deadline")),
    )


def apply(decision: pl.DataFrame, fixings: pl.DataFrame, venues: pl.DataFrame, values: pl.DataFrame
          ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The frames to hand to ``Store.write_computation`` (with a per-row ``reason``) and the
    errors-log rows, from a ``decide`` result."""
    write = decision.filter(pl.col("action") == "write").select("index_id", "date", "reason")
    values_w = values.join(write, on=["index_id", "date"], how="inner")
    if fixings.height:
        with_date = fixings.with_columns(date=pl.col("fixing_time").dt.date())
        fixings_w = with_date.join(write, on=["index_id", "date"], how="inner").drop("date")
    else:
        fixings_w = fixings
    if venues.height:
        venues_w = venues.join(fixings_w.select("index_id", "fixing_time"), on=["index_id", "fixing_time"],
                               how="semi")
    else:
        venues_w = venues
    errors = decision.filter(pl.col("kind").is_not_null()).select(
        "index_id", "date", "kind", recomputed_inputs_hash=pl.col("inputs_hash"),
        published_revision=pl.col("old_revision"), published_value=pl.col("old_value"),
        published_status=pl.col("old_status"), recomputed_value=pl.col("value"),
        recomputed_status=pl.col("status"), detail=pl.col("reason"))
    return fixings_w, venues_w, values_w, errors.cast(ERRORS_SCHEMA)
