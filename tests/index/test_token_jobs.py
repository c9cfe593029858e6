"""Token jobs on a store: baskets computed after the member series, written as index values,
published in the daily report; a rebalance in the basket file shows no step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from index import definitions, jobs, token_jobs
from index.schemas import TOKEN_PRICE_SCHEMA, conform
from index.store import Store

D1 = date(2026, 11, 1)
DAYS = [D1 + timedelta(days=i) for i in range(6)]
CHANGE = DAYS[3]

INDICES = """
version = "1"
methodology = "test"
[defaults]
window_hours = 2
list_price_window_hours = 168
estimator = "median_of_venue_medians"
[tokens]
baskets = "baskets.toml"
sides = ["blended"]
routers = ["openrouter"]
"""
BASKETS = f"""
version = "1.1.0"
[[basket]]
id = "LABS"
usage_weighted = true
members = [
    {{ model = "openai/gpt-4.1", weight = 1, until = {CHANGE.isoformat()} }},
    {{ model = "openai/gpt-4o", weight = 1 }},
    {{ model = "openai/o3", weight = 2, from = {CHANGE.isoformat()} }},
]
"""
# first-party list prices (USD per million tokens, input = output): o3 is ten times gpt-4.1
PRICES = {"openai/gpt-4.1": 2.0, "openai/gpt-4o": 4.0, "openai/o3": 20.0}


def rows(price_of: dict[str, float], day: date) -> pl.DataFrame:
    seen = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(minutes=30)
    return conform(pl.DataFrame([
        {"observed_at": seen, "source": "llmprices", "provider": "openai", "model": m, "source_model_id": m,
         "usd_per_mtok_input": p, "usd_per_mtok_output": p, "currency": "USD"} for m, p in price_of.items()]),
        TOKEN_PRICE_SCHEMA).drop("quarantine_reason")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Store, definitions.Definitions]:
    (tmp_path / "indices.toml").write_text(INDICES)
    (tmp_path / "baskets.toml").write_text(BASKETS)
    defs = definitions.load(tmp_path / "indices.toml")
    return Store(tmp_path / "t.duckdb"), defs


def load(store: Store, frames: list[pl.DataFrame]) -> None:
    with store.write() as con:
        for f in frames:
            store.insert_frame(con, "token_prices", f)


def basket(store: Store, sid: str) -> pl.DataFrame:
    return store.frame("SELECT date, value, status FROM latest_index_values WHERE index_id = ? ORDER BY date", [sid])


def test_rebalance_in_the_file_shows_no_step_in_the_stored_level(setup) -> None:  # type: ignore[no-untyped-def]
    store, defs = setup
    load(store, [rows(PRICES, d) for d in DAYS])
    totals = jobs.compute_days(store, DAYS, defs=defs)
    assert totals["values_new"] > 0
    eq = basket(store, "TOK.BASKET.LABS.BLEND")
    assert eq["date"].to_list() == DAYS and (eq["status"] == "NORMAL").all()
    assert eq["value"].to_list() == pytest.approx([3.0] * 6)  # unchanged prices: no step on the change day
    usage = basket(store, "TOK.BASKET.LABS.BLEND.USAGE")
    assert usage["value"].to_list() == pytest.approx([3.0] * 6)
    # the members' own series are ordinary index values too
    assert basket(store, "TOK.O3.BLEND")["value"].to_list() == pytest.approx([20.0] * 6)
    # recomputing adds nothing
    assert jobs.compute_days(store, DAYS, defs=defs)["values_new"] == 0


def test_after_a_change_the_level_moves_with_the_new_members(setup) -> None:  # type: ignore[no-untyped-def]
    store, defs = setup
    cut = {**PRICES, "openai/o3": 10.0}  # o3 halves on the last day
    load(store, [rows(PRICES, d) for d in DAYS[:-1]] + [rows(cut, DAYS[-1])])
    for d in DAYS:  # day by day, as the daily job does: the same levels as all at once
        jobs.compute_days(store, [d], defs=defs)
    eq = basket(store, "TOK.BASKET.LABS.BLEND")["value"].to_list()
    assert eq[-2] == pytest.approx(3.0)
    assert eq[-1] == pytest.approx(3.0 * (4.0 + 10.0) / (4.0 + 20.0))
    usage = basket(store, "TOK.BASKET.LABS.BLEND.USAGE")["value"].to_list()
    assert usage[-1] == pytest.approx(3.0 * (4.0 + 2 * 10.0) / (4.0 + 2 * 20.0))


def test_baskets_are_in_the_daily_report(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, defs = setup
    load(store, [rows(PRICES, d) for d in DAYS])
    jobs.compute_days(store, DAYS, defs=defs)
    _, report = jobs.publish_day(store, DAYS[-1], tmp_path / "pub", defs=defs)
    entry = next(e for e in report["indices"] if e["id"] == "TOK.BASKET.LABS.BLEND")
    assert entry["value"] == "3.000000" and entry["status"] == "NORMAL" and len(entry["inputs_hash"]) == 64
    summary = token_jobs.basket_summary(store, defs, DAYS[-1])
    row = summary.filter(pl.col("index_id") == "TOK.BASKET.LABS.BLEND").row(0, named=True)
    assert row["days"] == 6 and row["decline"] == pytest.approx(0.0, abs=1e-9)
