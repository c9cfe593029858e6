"""Backfill: recompute fixings and daily values over a half-open range of days [from, to).

The methodology itself is ``index.pipeline``: ``tokens.compute_range`` computes a chunk of days
in one pass with the same results, bit for bit, as the daily job's ``compute_day`` day after
day (``tests/index/test_pipeline_range.py``); this module only decides *what may be written*:

- values nobody published are written as usual (a new revision where the result changed),
  with reason ``backfill``;
- a published value is never overwritten: the recomputed value becomes a revision only
  when the revision rule allows it (until T+1 09:00 UTC and a move above
  max(0.5%, $0.01)); otherwise, or when the methodology version differs from the one
  published, it is kept apart in ``recomputed_values`` with the reason, where ``spotindex
  history --methodology`` shows it;
- progress is recorded per day in the store (``backfill_progress``), so an interrupted
  backfill resumes where it stopped; running it again after it finished adds nothing.

Days are computed in chunks: one read of the stored rows per chunk (plus the look-back of
the longest eligibility window) and one write transaction per chunk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from index import definitions as definitions_mod
from index import ledger, pipeline, store_history, tokens
from index.errors import SpotindexError
from index.paths import data_dir
from index.scrape import new_run_id
from index.store import Store

REVISION_DEADLINE = time(9, 0)  # T+1 09:00 UTC (METHODOLOGY: revisions)
REVISION_MIN_REL = 0.005
REVISION_MIN_ABS = 0.01
CHUNK_DAYS = 14


@dataclass
class BackfillResult:
    job_id: str
    run_id: str
    attempt: int
    series: list[str]
    days_total: int
    days_resumed: int = 0
    days_computed: int = 0
    fixings_new: int = 0
    values_new: int = 0
    values_published_kept: int = 0
    revisions_allowed: int = 0
    recomputed_new: int = 0
    days_without_values: list[date] = field(default_factory=list)
    elapsed_s: float = 0.0


def revision_allowed(day: date, now: datetime, old: float | None, new: float | None) -> bool:
    """May a published value for ``day`` be revised at ``now`` from ``old`` to ``new``?"""
    if now > datetime.combine(day + timedelta(days=1), REVISION_DEADLINE, tzinfo=UTC):
        return False
    if old is None or new is None:
        return old is not new
    return abs(new - old) > max(REVISION_MIN_REL * abs(old), REVISION_MIN_ABS)


def day_range(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def _job_id(start: date, end: date, series: Sequence[str], methodology: str) -> str:
    defs_file = data_dir() / "indices.toml"
    defs_hash = hashlib.sha256(defs_file.read_bytes()).hexdigest() if defs_file.exists() else ""
    blob = json.dumps({"from": str(start), "to": str(end), "series": sorted(series), "methodology": methodology,
                       "definitions": defs_hash}, sort_keys=True)
    return "backfill-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_backfill(store: Store, start: date, end: date, series: Sequence[str] | None = None,
                 methodology: str | None = None, defs: definitions_mod.Definitions | None = None,
                 restart: bool = False, now: datetime | None = None, chunk_days: int = CHUNK_DAYS,
                 on_start: Callable[[int, int], None] | None = None,
                 on_day: Callable[[date, int], None] | None = None) -> BackfillResult:
    """Recompute [start, end) for the chosen series; ``on_start(total, done)`` / ``on_day(day, n)`` report progress."""
    import time as _time

    t0 = _time.monotonic()
    now = now or datetime.now(UTC)
    if end <= start:
        raise SpotindexError(f"empty range [{start}, {end}): --to must be after --from (the range is half-open, "
                             "--to is the first day NOT computed)")
    if start > now.date():
        raise SpotindexError(f"--from {start} is in the future (today is {now.date()}): nothing to backfill")
    end = min(end, now.date() + timedelta(days=1))
    defs = (defs or definitions_mod.load()).select(list(series) if series else None)
    if methodology is not None and methodology != defs.methodology:
        raise SpotindexError(
            f"this spotindex computes methodology {defs.methodology} (data/indices.toml); it cannot recompute "
            f"under {methodology}: install the spotindex release that implements {methodology}, or omit "
            "--methodology")
    ids = [d.id for d in defs.indices]
    job_id = _job_id(start, end, ids, defs.methodology)
    params = {"from": start, "to": end, "series": ids, "methodology": defs.methodology}
    store.require()  # recomputes from stored rows: a missing file is a wrong --db, not an empty store
    attempt, done = store_history.start_backfill_job(store, job_id, params, restart)
    days = day_range(start, end)
    todo = [d for d in days if d not in done]
    run_id = new_run_id("backfill")
    store_history.record_backfill_run(store, run_id, datetime.now(UTC), None)
    result = BackfillResult(job_id, run_id, attempt, ids, len(days), days_resumed=len(days) - len(todo))
    if on_start:
        on_start(len(days) * len(ids), (len(days) - len(todo)) * len(ids))
    lookback = pipeline.lookback(defs)
    gpu_models = sorted({m for d in defs.gpu() for m in d.gpu_models})
    token_models = sorted({d.model for d in defs.token() if d.model})
    for chunk in _chunks(todo, chunk_days):
        first, _ = pipeline.day_bounds(chunk[0])
        _, last = pipeline.day_bounds(chunk[-1])
        gq = (store.gpu_quotes(first - lookback, last, columns=pipeline.GPU_INPUT_COLUMNS)
              .filter(pl.col("gpu_model").is_in(gpu_models)).collect())
        tp = store.token_prices(first - lookback, last).filter(pl.col("model").is_in(token_models)).collect()
        # carry-forward and hysteresis follow on from the day before, as in the daily job: the
        # chunk's prior state comes from the store, and within the chunk the days follow on in
        # memory (tokens.compute_range = compute_day day after day, bit for bit)
        prior = ledger.load_prior(store, defs, chunk[0])
        fx, venues, values = tokens.compute_range(gq.lazy(), tp.lazy(), defs, chunk[0],
                                                  chunk[-1] + timedelta(days=1), prior)
        for day in chunk:
            if values.filter((pl.col("date") == day) & pl.col("value").is_not_null()).height == 0:
                result.days_without_values.append(day)
            if on_day:
                on_day(day, len(ids))
        _write_chunk(store, run_id, chunk, ids, fx, venues, values, defs.methodology, now, result)
        result.days_computed += len(chunk)
    result.elapsed_s = _time.monotonic() - t0
    detail = {k: v for k, v in result.__dict__.items() if k not in ("days_without_values",)}
    detail["days_without_values"] = len(result.days_without_values)
    store_history.finish_backfill_job(store, job_id, detail)
    store_history.record_backfill_run(store, run_id, now, detail)
    return result


def _chunks(days: list[date], size: int) -> list[list[date]]:
    """Runs of consecutive days, at most ``size`` long (a resumed job may have holes)."""
    out: list[list[date]] = []
    for d in days:
        if out and len(out[-1]) < size and out[-1][-1] + timedelta(days=1) == d:
            out[-1].append(d)
        else:
            out.append([d])
    return out


def _write_chunk(store: Store, run_id: str, chunk: list[date], ids: list[str], fx: pl.DataFrame,
                 venues: pl.DataFrame, values: pl.DataFrame, methodology: str, now: datetime,
                 result: BackfillResult) -> None:
    start, end = chunk[0], chunk[-1] + timedelta(days=1)
    published = store_history.published_values(store, ids, start, end)
    blocked = pl.DataFrame(schema={"index_id": pl.String, "date": pl.Date})
    kept_apart: list[tuple[pl.DataFrame, str]] = []
    allowed = pl.DataFrame(schema=values.schema)
    if published.height and values.height:
        joined = values.join(published.select("index_id", "date", pl.col("value").alias("_pub_value"),
                                              pl.col("methodology_version").alias("_pub_version"),
                                              pl.col("inputs_hash").alias("_pub_hash"),
                                              pl.col("status").alias("_pub_status")),
                             on=["index_id", "date"], how="inner")
        rows = []
        for r in joined.iter_rows(named=True):  # published values only: a handful per day at most
            same = (r["_pub_hash"] == r["inputs_hash"] and r["_pub_status"] == r["status"]
                    and r["_pub_value"] == r["value"])
            if r["_pub_version"] != r["methodology_version"]:
                verdict = f"backfill under methodology {r['methodology_version']}: the published value " \
                          f"({r['_pub_version']}) is kept"
            elif same:
                verdict = "same"
            elif revision_allowed(r["date"], now, r["_pub_value"], r["value"]):
                verdict = "revise"
            else:
                verdict = "backfill: published value kept (revision window closed or move below threshold)"
            rows.append({"index_id": r["index_id"], "date": r["date"], "verdict": verdict})
        verdicts = pl.DataFrame(rows, schema={"index_id": pl.String, "date": pl.Date, "verdict": pl.String})
        blocked = verdicts.filter(pl.col("verdict") != "revise").select("index_id", "date")
        allowed = values.join(verdicts.filter(pl.col("verdict") == "revise").select("index_id", "date"),
                              on=["index_id", "date"], how="semi")
        for key, grp in verdicts.filter(~pl.col("verdict").is_in(["revise", "same"])).group_by("verdict"):
            kept_apart.append((values.join(grp.select("index_id", "date"), on=["index_id", "date"], how="semi"),
                               str(key[0])))
        result.values_published_kept += blocked.height
        result.revisions_allowed += allowed.height
    published_keys = published.select("index_id", "date")

    def without(df: pl.DataFrame, keys: pl.DataFrame, time_col: str | None = None) -> pl.DataFrame:
        if keys.height == 0 or df.height == 0:
            return df
        if time_col:
            df = df.with_columns(date=pl.col(time_col).dt.date())
            return df.join(keys, on=["index_id", "date"], how="anti").drop("date")
        return df.join(keys, on=["index_id", "date"], how="anti")

    fx_free = without(fx, published_keys, "fixing_time")
    venues_free = without(venues, published_keys, "fixing_time")
    values_free = without(values, published_keys)
    out = store.write_computation(run_id, fx_free, venues_free, values_free, reason="backfill")
    result.fixings_new += out["fixings_new"]
    result.values_new += out["values_new"]
    if allowed.height:
        keys = allowed.select("index_id", "date")
        fx_rev = fx.with_columns(date=pl.col("fixing_time").dt.date()).join(keys, on=["index_id", "date"],
                                                                            how="semi").drop("date")
        v_rev = venues.with_columns(date=pl.col("fixing_time").dt.date()).join(keys, on=["index_id", "date"],
                                                                               how="semi").drop("date")
        out = store.write_computation(run_id, fx_rev, v_rev, allowed, reason="backfill: revision within window")
        result.fixings_new += out["fixings_new"]
        result.values_new += out["values_new"]
    for frame, reason in kept_apart:
        result.recomputed_new += store_history.write_recomputed(store, run_id, frame, reason)
    counts = values.group_by("date").agg(pl.len().alias("n_series"))
    progress = pl.DataFrame({"date": chunk}, schema={"date": pl.Date}).join(counts, on="date", how="left").select(
        "date", pl.col("n_series").fill_null(0).cast(pl.Int32),
        pl.lit(None, dtype=pl.Int32).alias("fixings_new"), pl.lit(None, dtype=pl.Int32).alias("values_new"),
        pl.lit(None, dtype=pl.Int32).alias("values_kept"))
    store_history.mark_backfill_days(store, result.job_id, progress)


def summary(result: BackfillResult) -> dict[str, Any]:
    return {k: v for k, v in result.__dict__.items() if k != "days_without_values"}
