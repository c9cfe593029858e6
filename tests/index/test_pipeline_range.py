"""``pipeline.run_days`` (a month in one pass) equals ``run_day`` chained with ``Prior.advance``.

The range pass is what backfill and the benchmark run; the day-by-day chain is what the daily
job runs. They must agree bit for bit - values, statuses, carry-forward, hysteresis state,
excluded venues and inputs hashes - on a market with gaps (so that carry-forward and
suspension cross day boundaries), bad rows, stale quotes and a hysteresis band.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from index import pipeline, simulate
from index.definitions import Definitions, IndexDefinition
from tests.index.synth import NO_TOKENS

MARKET = simulate.Market(venues=9, series=2, seed=11, start=date(2025, 3, 1), market_listings=6)
FIRST, DAYS = date(2025, 3, 9), 6


def _definitions() -> Definitions:
    gpu = {"kind": "gpu", "unit": "USD/GPU-hour", "pricing_classes": ["on_demand"],
           "venue_classes": ["neocloud", "marketplace"], "estimator": "median_of_venue_medians"}
    return Definitions(version="t", methodology="1.0.0", indices=[
        # the benchmark's rules with a hysteresis band, a tighter filter so that it bites
        IndexDefinition(id="S0", gpu_models=["SIM-GPU-0"], window_hours=2, list_price_window_hours=2,
                        venue_filter_k=1.2, readmit_k=0.6, mad_floor=0.0, venue_filter_min_venues=3, **gpu),
        # list prices valid for 24 h, short carry horizons, another estimator
        IndexDefinition(id="S1", gpu_models=["SIM-GPU-1"], window_hours=1, list_price_window_hours=24,
                        carry_fixing_hours=3, carry_days=1, gross_days=3,
                        **{**gpu, "estimator": "trimmed_mean"}),
        # a pooled series over three days
        IndexDefinition(id="P0", gpu_models=["SIM-GPU-0"], window_hours=2, list_price_window_hours=24,
                        window="pooled", pool_days=3, min_observations=50, **gpu),
    ])


def _rows() -> pl.DataFrame:
    q = pl.concat(list(simulate.generate(MARKET, 16)))
    t = pl.col("observed_at")
    day = t.dt.date()
    # gaps: S1 has no rows for two and a half days (its list prices last 24 h, then the day is
    # carried once and suspended), S0 loses six hours
    s1_gap = (pl.col("gpu_model") == "SIM-GPU-1") & (day >= date(2025, 3, 10)) & (day <= date(2025, 3, 12)) & ~(
        (day == date(2025, 3, 12)) & (t.dt.hour() >= 14))
    s0_gap = (pl.col("gpu_model") == "SIM-GPU-0") & (day == date(2025, 3, 12)) & (t.dt.hour() >= 18)
    return q.filter(~s1_gap & ~s0_gap)


@pytest.fixture(scope="module")
def both() -> tuple[pipeline.DayResult, list[pipeline.DayResult]]:
    defs, rows = _definitions(), _rows()
    back = pipeline.lookback(defs)
    end = FIRST + timedelta(days=DAYS)
    lo, hi = pipeline.day_bounds(FIRST)[0] - back, pipeline.day_bounds(end)[0]
    ranged = pipeline.run_days(rows.lazy().filter((pl.col("observed_at") >= lo) & (pl.col("observed_at") < hi)),
                               NO_TOKENS, defs, FIRST, end)
    prior, chain = pipeline.Prior.empty(), []
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        start, stop = pipeline.day_bounds(day)
        window = rows.lazy().filter((pl.col("observed_at") >= start - back) & (pl.col("observed_at") < stop))
        r = pipeline.run_day(window, NO_TOKENS, defs, day, prior)
        chain.append(r)
        prior = prior.advance(r.fixings, r.venues, r.values, defs, day + timedelta(days=1))
    return ranged, chain


def test_the_market_exercises_the_day_to_day_state(both: tuple[pipeline.DayResult, list[pipeline.DayResult]]
                                                   ) -> None:
    ranged, _ = both
    fx, values = ranged.fixings, ranged.values
    assert fx.height == 24 * DAYS * 2 and values.height == DAYS * 3
    assert fx.filter(pl.col("carried_from").is_not_null()).height > 0  # fixings carried forward
    assert fx.filter(pl.col("carried_from").is_not_null() & (pl.col("carried_from").dt.date()
                                                             < pl.col("fixing_time").dt.date())).height > 0
    assert values.filter(pl.col("status") == "SUSPENDED").height > 0
    assert values.filter(pl.col("status") == "CONTINGENCY").height > 0
    assert ranged.venues.filter(pl.col("exclusion_reason").str.starts_with("hysteresis")).height > 0
    assert ranged.venues.filter(pl.col("exclusion_reason").str.starts_with("venue_filter")).height > 0
    assert values.filter((pl.col("index_id") == "P0") & pl.col("value").is_not_null()).height == DAYS


def test_range_equals_day_by_day(both: tuple[pipeline.DayResult, list[pipeline.DayResult]]) -> None:
    ranged, chain = both
    for name, keys in (("fixings", ["index_id", "fixing_time"]), ("venues", ["index_id", "fixing_time", "venue"]),
                       ("values", ["index_id", "date"])):
        a = getattr(ranged, name).sort(keys)
        b = pl.concat([getattr(r, name) for r in chain]).sort(keys)
        assert a.columns == b.columns
        assert a.height == b.height
        assert a.equals(b), f"{name} differ"
    pooled_a = ranged.pooled_venues.sort("index_id", "date", "venue")
    pooled_b = pl.concat([r.pooled_venues for r in chain]).sort("index_id", "date", "venue")
    assert pooled_a.equals(pooled_b)


def test_a_changed_row_changes_only_what_it_feeds(both: tuple[pipeline.DayResult, list[pipeline.DayResult]]
                                                  ) -> None:
    """The comparison above can fail: one quote moved on the last day changes that day's hashes."""
    ranged, _ = both
    defs, rows = _definitions(), _rows()
    last = FIRST + timedelta(days=DAYS - 1)
    lo = pipeline.day_bounds(last)[0]
    target = rows.filter((pl.col("observed_at") >= lo + timedelta(hours=5))
                         & (pl.col("gpu_model") == "SIM-GPU-0")
                         & (pl.col("price_usd_per_gpu_hour") > 0)).sort("observed_at").row(0, named=True)
    moved = rows.with_columns(pl.when((pl.col("observed_at") == target["observed_at"])
                                      & (pl.col("offer_id") == target["offer_id"])
                                      & (pl.col("source") == target["source"]))
                              .then(pl.col("price_usd_per_gpu_hour") * 1.01)
                              .otherwise(pl.col("price_usd_per_gpu_hour")).alias("price_usd_per_gpu_hour"))
    back = pipeline.lookback(defs)
    end = FIRST + timedelta(days=DAYS)
    other = pipeline.run_days(moved.lazy().filter(pl.col("observed_at") >= pipeline.day_bounds(FIRST)[0] - back),
                              NO_TOKENS, defs, FIRST, end)
    j = ranged.fixings.join(other.fixings, on=["index_id", "fixing_time"], suffix="_o")
    changed = j.filter(pl.col("inputs_hash") != pl.col("inputs_hash_o"))
    assert changed.height > 0
    assert (changed["fixing_time"].dt.date() == last).all() and (changed["index_id"] == "S0").all()
