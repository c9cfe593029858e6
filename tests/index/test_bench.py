"""The small, fast version of the benchmark's equivalence check: spotindex, the pandas/numpy/scipy
reference and the DuckDB SQL give the same fixings on generated data (the comparable rules)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from index import bench, simulate
from index.store import Store

MARKET = simulate.Market(venues=14, series=2, seed=11, start=date(2025, 3, 1), market_listings=15)
DAYS = 9


def test_spotindex_pandas_and_duckdb_agree(tmp_path) -> None:
    store = Store(tmp_path / "sim.duckdb")
    simulate.simulate(store, MARKET, DAYS)
    defs = simulate.benchmark_definitions(MARKET.series)
    first, end = MARKET.start, MARKET.start + timedelta(days=DAYS)
    spot, rows = bench.spotindex_recompute(store, defs, first, end)
    assert rows == store.gpu_quotes().collect().height
    days = [end - timedelta(days=2), end - timedelta(days=1)]  # with a full 7-day gross reference
    ref = bench.pandas_fixings(store, defs, days)
    sql = bench.duckdb_fixings(store.path, defs, first, end)
    span = spot.filter(pl.col("fixing_time") >= pl.lit(days[0]).cast(pl.Datetime("us", "UTC")))
    vs_pandas, vs_sql = bench.compare(span, ref), bench.compare(spot, sql)
    assert vs_pandas["compared"] == 2 * MARKET.series * 24
    assert vs_sql["compared"] >= (DAYS - 1) * MARKET.series * 24
    for result in (vs_pandas, vs_sql):
        assert result["over_tolerance"] == 0 and result["spot_only"] == 0
        assert result["max_abs_diff"] <= bench.TOLERANCE
    # the venue filter and the gross filter both acted, so the agreement is not on trivial fixings
    assert spot["value"].n_unique() > 100


def test_compare_sees_a_difference() -> None:
    t = pl.datetime(2025, 1, 1, time_zone="UTC")
    spot = pl.select(index_id=pl.lit("S"), fixing_time=t, value=pl.lit(1.0),
                     carried_from=pl.lit(None, dtype=pl.Datetime("us", "UTC")))
    other = pl.select(index_id=pl.lit("S"), fixing_time=t, value=pl.lit(1.0 + 1e-6))
    assert bench.compare(spot, other)["over_tolerance"] == 1
    assert bench.compare(spot, other.clear())["spot_only"] == 1


def test_mock_scrape_is_concurrent() -> None:
    r = bench.scrape_mock(n_sources=5, delay_s=0.2)
    assert r["ok"] == 5 and r["rows"] == 100
    assert r["wall"] < 5 * 0.2
