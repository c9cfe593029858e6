"""The synthetic market: seeded, month by month, with the flaws it promises, and idempotent to load."""

from __future__ import annotations

from datetime import date

import polars as pl

from index import simulate
from index.store import Store

SMALL = simulate.Market(venues=12, series=2, seed=3, start=date(2025, 1, 28), market_listings=12)


def test_same_seed_same_rows_and_months_split() -> None:
    a = pl.concat(list(simulate.generate(SMALL, 6)))
    b = pl.concat(list(simulate.generate(SMALL, 6)))
    assert a.equals(b)
    parts = list(simulate.generate(SMALL, 6))
    assert len(parts) == 2  # January 28-31, then February 1-2
    assert parts[0]["observed_at"].max() < parts[1]["observed_at"].min()
    other = pl.concat(list(simulate.generate(simulate.Market(venues=12, series=2, seed=4, start=SMALL.start,
                                                             market_listings=12), 6)))
    assert not a["price_usd_per_gpu_hour"].equals(other["price_usd_per_gpu_hour"])


def test_market_has_its_flaws() -> None:
    q = pl.concat(list(simulate.generate(SMALL, 6)))
    price = q["price_usd_per_gpu_hour"]
    assert (price.is_nan() | (price <= 0)).sum() > 0  # bad rows
    assert (q["available_units"] == 0).sum() > 0
    med = price.filter(price.is_finite() & (price > 0)).median()
    assert (price > 20 * med).sum() > 0  # gross outliers
    assert (q["source"] == simulate.AGGREGATOR).sum() > 0  # aggregator re-reports
    key = ["source", "offer_id", "observed_at"]
    assert q.height > q.unique(subset=key).height  # exact duplicates
    per_hour = q.group_by("venue", "venue_class", pl.col("observed_at").dt.truncate("1h")).len()
    market, cloud = (per_hour.filter(pl.col("venue_class") == c)["len"].mean() for c in ("marketplace", "neocloud"))
    assert market > 2 * cloud  # a marketplace lists more than a cloud


def test_simulate_into_store_is_idempotent(tmp_path) -> None:
    store = Store(tmp_path / "sim.duckdb")
    first = simulate.simulate(store, SMALL, 3)
    again = simulate.simulate(store, SMALL, 3)
    assert first["added"] > 0 and again["added"] == 0
    assert first["added"] < first["generated"]  # exact duplicates kept once
    assert store.gpu_quotes().collect().height == first["added"]


def test_bulk_insert_matches_insert_frame(tmp_path) -> None:
    frame = next(simulate.generate(SMALL, 2))
    a, b = Store(tmp_path / "a.duckdb"), Store(tmp_path / "b.duckdb")
    with a.write() as con:
        na = a.insert_frame(con, "gpu_quotes", frame)
    with b.write() as con:
        nb = b.bulk_insert_gpu_quotes(con, frame.head(frame.height // 2))
    with b.write() as con:
        nb += b.bulk_insert_gpu_quotes(con, frame)  # overlaps what is stored
    assert na == nb
    key = ["source", "offer_id", "observed_at"]
    assert a.gpu_quotes().collect().sort(key).equals(b.gpu_quotes().collect().sort(key))


def test_bulk_insert_keeps_the_first_row_of_a_key_given_twice(tmp_path) -> None:
    frame = next(simulate.generate(SMALL, 1)).head(50)
    key = ["source", "offer_id", "observed_at"]
    # the key of row 10 again, further down, with another price: the earlier row wins
    clash = frame.slice(10, 1).with_columns(pl.col("price_usd_per_gpu_hour") * 2, pl.col("price_usd_per_hour") * 2)
    doubled = pl.concat([frame.head(30), clash, frame.slice(30)])
    store = Store(tmp_path / "s.duckdb")
    with store.write() as con:
        added = store.bulk_insert_gpu_quotes(con, doubled)
    stored = store.gpu_quotes().collect()
    assert added == frame.unique(subset=key).height == stored.height
    row = frame.slice(10, 1)
    got = stored.join(row.select(key), on=key, how="semi")
    assert got["price_usd_per_gpu_hour"].to_list() == row["price_usd_per_gpu_hour"].to_list()
