"""The small, fast version of the benchmark's equivalence check: spotindex, the pandas/numpy/scipy
reference and the DuckDB SQL give the same fixings on generated data (the comparable rules)."""

from __future__ import annotations

import argparse
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


def _results(spot_walls: list[float], duck_walls: list[float]) -> dict:
    part = {"rows": 1_000_000, "fixings": 240, "peak_rss_mb": 900.0}
    spot = {**part, "wall": min(spot_walls), "walls": spot_walls}
    return {
        "machine": {"cores": 2, "memory_gb": 23.5, "cpu": "test", "python": "3.11", "polars": "x", "duckdb": "y",
                    "pandas": "z"},
        "stored_rows": 1_000_001, "days": 10, "spotindex": spot,
        "scaling": [{"days": 1, "rows": 100_000, "wall": min(spot_walls) / 10, "peak_rss_mb": 100.0},
                    {"days": 10, **spot}],
        "pandas": {"days": 1, "fixings": 24, "wall": 3.0, "walls": [3.5, 3.0], "peak_rss_mb": 500.0},
        "duckdb": {"fixings": 240, "wall": min(duck_walls), "walls": duck_walls, "peak_rss_mb": 800.0},
        "agree_pandas": {"compared": 24, "max_abs_diff": 0.0, "over_tolerance": 0, "spot_only": 0},
        "agree_duckdb": {"compared": 240, "max_abs_diff": 0.0, "over_tolerance": 0, "spot_only": 0},
        "ingest": {"rows": 1000, "insert_frame": 2.0, "bulk": 1.0, "no_pk": 0.5, "bulk_again": 0.1,
                   "bulk_again_added": 0, "peak_rss_mb": 300.0},
        "scrape": {"sources": 15, "delay_s": 0.2, "wall": 0.3, "ok": 15, "rows": 300},
        "day": {"quotes": 1000, "compute": 0.5, "publish": 0.1, "wall": 0.6},
    }


def test_report_gives_each_part_its_fastest_run_and_lists_every_run() -> None:
    args = argparse.Namespace(days=10, series=2)
    text = bench.report(_results([5.0, 4.0], [4.4, 6.0]), args)
    assert "| 1. spotindex full recompute (10 days, by month) | 1,000,000 | 4.0 |" in text
    assert "| 3. DuckDB SQL, one query per month | 1,000,000 | 4.4 |" in text
    assert "DuckDB SQL / spotindex = **1.10x**" in text
    assert "All runs (s): spotindex 5.0, 4.0; pandas (measured) 3.5, 3.0; DuckDB 4.4, 6.0." in text
    assert "| no slower than DuckDB SQL | yes | 1.10x |" in text
    slower = bench.report(_results([5.0, 4.8], [4.4, 6.0]), args)
    assert "| no slower than DuckDB SQL | **no** | 0.92x |" in slower
