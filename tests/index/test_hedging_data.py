"""Inputs of the hedging analytics: the store's daily series and a company's CSV files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from index.errors import SpotindexError
from index.hedging_data import (
    InputFileError,
    load_daily,
    read_exposure,
    read_month_prices,
    venue_prices,
)
from tests.hedging_helpers import FIRST, LEVELS, TOKEN, build_store, days, own_venue_price, token_value


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_exposure_is_read_with_months_as_dates(tmp_path: Path) -> None:
    df = read_exposure(write(tmp_path, " Month , QUANTITY\n2025-02, 10\n2025-01,0\n"))
    assert df["month"].to_list() == [date(2025, 1, 1), date(2025, 2, 1)]
    assert df["quantity"].to_list() == [0.0, 10.0]


@pytest.mark.parametrize(("text", "message"), [
    ("month,qty\n2025-01,1\n", r":1: missing column\(s\) 'quantity'"),
    ("month,quantity\n2025-1,1\n", r":2: column 'month': '2025-1' is not a month, use YYYY-MM"),
    ("month,quantity\n2025-01,1\n2025-13,1\n", r":3: column 'month': '2025-13' is not a month"),
    ("month,quantity\n2025-01,1\n2025-02,lots\n", r":3: column 'quantity': 'lots' is not a number"),
    ("month,quantity\n2025-01,-5\n", r":2: column 'quantity': '-5' must be a number >= 0"),
    ("month,quantity\n2025-01,1\n2025-02,2\n2025-01,3\n", r":4: column 'month': 2025-01 repeats line 2"),
    ("month,quantity\n", r"no rows"),
])
def test_bad_exposure_files_name_the_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        read_exposure(write(tmp_path, text))


def test_prices_must_be_positive_and_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r":2: column 'price': '0' must be a positive number"):
        read_month_prices(write(tmp_path, "month,price\n2025-01,0\n"))
    with pytest.raises(InputFileError, match="nope.csv: file not found"):
        read_month_prices(tmp_path / "nope.csv")
    assert read_month_prices(write(tmp_path, "month,price\n2025-03,2.5\n"))["price"].to_list() == [2.5]


def test_daily_series_and_venue_prices_from_the_store(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.duckdb")
    d = load_daily(store, TOKEN, date(2025, 2, 1), date(2025, 3, 1))
    assert d.height == 28 and d["date"].min() == date(2025, 2, 1) and d["date"].max() == date(2025, 2, 28)
    assert d["value"].to_list() == pytest.approx([token_value(x) for x in days() if x.month == 2])
    assert d["unit"].unique().to_list() == ["USD/Mtok"]
    v = venue_prices(store, TOKEN, "v1")
    assert v.height == len(LEVELS) and v["period"][0] == FIRST
    assert v["price"].to_list() == pytest.approx([own_venue_price(date(2025, m, 1)) for m in range(1, 8)])


def test_unknown_series_or_venue_lists_what_exists(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.duckdb")
    with pytest.raises(SpotindexError, match=r"series 'TOK.NOPE' has no values .*series with values: GPU.TEST"):
        load_daily(store, "TOK.NOPE")
    with pytest.raises(SpotindexError, match=r"no values in \[2030-01-01, …\); widen --from/--to"):
        load_daily(store, TOKEN, date(2030, 1, 1))
    with pytest.raises(SpotindexError, match=r"venue 'v9' is not a constituent of series 'TOK.TEST.BLEND' \(its "
                       r"constituents: v1\).*--own-price FILE .*scripts.own_price_from_ledger"):
        venue_prices(store, TOKEN, "v9")
    with pytest.raises(SpotindexError, match=r"venue 'v1' has no prices .* in \[2030-01-01, …\): it is a constituent "
                       r"from 2025-01-01 to 2025-07-31; move --from/--to"):
        venue_prices(store, TOKEN, "v1", date(2030, 1, 1))


def test_a_series_without_a_published_value_in_the_window_is_an_error(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.duckdb")
    suspended = pl.DataFrame({"index_id": ["TOK.OFF.BLEND"] * 3, "date": [date(2025, 1, d) for d in (1, 2, 3)],
                              "value": [None, None, 1.0], "unit": ["USD/Mtok"] * 3,
                              "status": ["SUSPENDED", "SUSPENDED", "NORMAL"], "n_venues": [0, 0, 5],
                              "inputs_hash": ["s1", "s2", "s3"]},
                             schema_overrides={"value": pl.Float64})
    store.write_computation("test-suspended", pl.DataFrame(), pl.DataFrame(), suspended)
    with pytest.raises(SpotindexError, match=r"'TOK.OFF.BLEND' has no published value in \[…, 2025-01-03\) "
                       r"\(2 SUSPENDED day\(s\)\); widen --from/--to"):
        load_daily(store, "TOK.OFF.BLEND", end=date(2025, 1, 3))
    assert load_daily(store, "TOK.OFF.BLEND")["value"].to_list() == [None, None, 1.0]


def test_venue_prices_per_week_and_day(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.duckdb")
    w = venue_prices(store, TOKEN, "v1", date(2025, 1, 6), date(2025, 2, 3), unit="W")
    assert w["period"].to_list() == [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20), date(2025, 1, 27)]
    # the week of 27 January has 5 January days and 2 February days
    assert w["price"][3] == pytest.approx((5 * own_venue_price(date(2025, 1, 1)) + 2 * own_venue_price(
        date(2025, 2, 1))) / 7)
    d = venue_prices(store, TOKEN, "v1", date(2025, 3, 30), date(2025, 4, 2), unit="D")
    assert d["period"].to_list() == [date(2025, 3, 30), date(2025, 3, 31), date(2025, 4, 1)]
    assert d["price"].to_list() == pytest.approx([own_venue_price(x) for x in d["period"].to_list()])


def test_an_exposure_with_a_missing_month_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"month 2025-02 is missing \(between 2025-01 and 2025-04; 2 month\(s\) "
                       r"missing in all\): give one row per month .* quantity 0 for a month without usage"):
        read_exposure(write(tmp_path, "month,quantity\n2025-01,1\n2025-04,1\n2025-05,1\n"))
    assert read_exposure(write(tmp_path, "month,quantity\n2025-03,0\n2025-01,1\n2025-02,2\n")).height == 3
