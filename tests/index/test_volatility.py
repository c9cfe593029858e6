"""Volatility panel on hand-made series."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.volatility import (
    correlations,
    daily_returns,
    max_drawdown,
    settlement_returns,
    vol_panel,
)

D0 = date(2025, 1, 1)


def series(values: list[float], statuses: list[str] | None = None, start: date = D0) -> pl.DataFrame:
    return pl.DataFrame({"date": [start + timedelta(days=i) for i in range(len(values))], "value": values,
                         "status": statuses or ["NORMAL"] * len(values)})


def test_daily_returns_are_log_changes_and_skip_unpublished_days() -> None:
    d = series([100.0, 110.0, 999.0, 99.0, 99.0], ["NORMAL", "NORMAL", "SUSPENDED", "LOW_CONFIDENCE", "CONTINGENCY"])
    r = daily_returns(d)
    assert r["date"].to_list() == [D0, D0 + timedelta(1), D0 + timedelta(3), D0 + timedelta(4)]
    assert r["log_return"].to_list()[1:] == pytest.approx([math.log(1.1), math.log(99 / 110), 0.0])
    assert r["gap_days"].to_list()[1:] == [1, 2, 1]


def test_realised_volatility_of_an_alternating_series() -> None:
    a = 0.05
    values = [100 * math.exp(a * (i % 2)) for i in range(11)]  # log returns +a, −a, … (10 returns)
    p = vol_panel("X", series(values))
    assert p.n_returns == 10
    assert p.daily_vol == pytest.approx(a * math.sqrt(10 / 9))  # sample std of ±a with mean 0
    assert p.daily_vol_annualised == pytest.approx(p.daily_vol * math.sqrt(365))  # type: ignore[operator]


def test_monthly_volatility_uses_settlement_log_changes() -> None:
    levels = [10.0, 11.0, 9.9, 12.0]
    rows = []
    for i, v in enumerate(levels):
        start = date(2025, 1 + i, 1)
        rows += [(start + timedelta(days=k), v, "NORMAL") for k in range(25)]
    daily = pl.DataFrame(rows, schema={"date": pl.Date, "value": pl.Float64, "status": pl.String}, orient="row")
    m = settlement_returns(daily, min_valid_days=20)
    expected = np.diff(np.log(levels))
    assert m["log_return"].to_list()[1:] == pytest.approx(list(expected))
    p = vol_panel("X", daily, min_valid_days=20)
    assert p.monthly_vol == pytest.approx(float(np.std(expected, ddof=1)))
    assert p.monthly_vol_annualised == pytest.approx(p.monthly_vol * math.sqrt(12))  # type: ignore[operator]
    # a month too thin to settle breaks the chain: no return across it
    thin = daily.filter(~((pl.col("date").dt.month() == 2) & (pl.col("date").dt.day() > 10)))
    assert settlement_returns(thin, 20)["log_return"].null_count() == 2


def test_maximum_drawdown_with_and_without_recovery() -> None:
    dd = max_drawdown(series([100.0, 120.0, 90.0, 130.0, 65.0, 70.0]))
    assert dd.depth == pytest.approx(0.5)
    assert (dd.peak_date, dd.trough_date, dd.recovered_date) == (D0 + timedelta(3), D0 + timedelta(4), None)
    dd2 = max_drawdown(series([100.0, 80.0, 90.0, 101.0, 95.0]))
    assert dd2.depth == pytest.approx(0.2)
    assert (dd2.peak_date, dd2.trough_date, dd2.recovered_date) == (D0, D0 + timedelta(1), D0 + timedelta(3))
    assert max_drawdown(series([1.0, 2.0, 3.0])).depth == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 1e4), min_size=1, max_size=60))
def test_drawdown_matches_brute_force(values: list[float]) -> None:
    brute = max((1 - values[j] / max(values[: j + 1]) for j in range(len(values))), default=0.0)
    dd = max_drawdown(series(values))
    assert 0.0 <= dd.depth < 1.0
    assert dd.depth == pytest.approx(brute, abs=1e-12)


def test_jumps_are_counted_against_the_documented_threshold() -> None:
    values = [100.0, 115.0, 101.2, 106.26, 100.0 * 115 / 100 * 0.88 * 1.05 * math.exp(0.1001)]
    p = vol_panel("X", series(values), jump_threshold=0.10)
    # log changes: +0.1398 (up), −0.1278 (down), +0.0488 (no), +0.1001 (up)
    assert (p.jumps_up, p.jumps_down) == (2, 1)
    assert p.largest_move == pytest.approx(math.log(1.15)) and p.largest_move_date == D0 + timedelta(1)
    strict = vol_panel("X", series(values), jump_threshold=0.13)
    assert (strict.jumps_up, strict.jumps_down) == (1, 0)


def test_correlation_of_gpu_and_token_series() -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(0, 0.02, 60)
    gpu = series(list(100 * np.exp(np.cumsum(np.r_[0.0, r]))))
    tok_same = series(list(3 * np.exp(np.cumsum(np.r_[0.0, 2 * r]))))
    tok_indep = series(list(3 * np.exp(np.cumsum(np.r_[0.0, rng.normal(0, 0.02, 60)]))))
    flat = series([0.5] * 61)
    got = {(c.a, c.b, c.frequency): c for c in correlations(
        {"GPU.X": gpu, "TOK.SAME": tok_same, "TOK.INDEP": tok_indep, "TOK.FLAT": flat}, min_valid_days=20)}
    same = got[("GPU.X", "TOK.SAME", "daily")]
    assert same.n == 60 and same.r == pytest.approx(1.0)
    indep = got[("GPU.X", "TOK.INDEP", "daily")]
    assert indep.r is not None and abs(indep.r) < 0.35 and indep.pvalue is not None and indep.pvalue > 0.01
    assert got[("GPU.X", "TOK.FLAT", "daily")].r is None  # a flat series has no correlation
    assert got[("GPU.X", "TOK.FLAT", "daily")].why_none == "TOK.FLAT did not move"
    assert got[("GPU.X", "TOK.SAME", "monthly")].r is None  # two months: too few points
    assert got[("GPU.X", "TOK.SAME", "monthly")].why_none == "fewer than 3 common points"
    assert same.why_none is None


def test_correlation_only_over_common_dates() -> None:
    a = series([1.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    b = series([5.0, 6.0, 5.0, 7.0], start=D0 + timedelta(days=2))
    c = {(x.a, x.b, x.frequency): x for x in correlations({"A": a, "B": b})}
    assert c[("A", "B", "daily")].n == 3  # returns on days 3, 4, 5 only


def test_float_noise_of_recomputed_values_is_not_a_move() -> None:
    noisy = series([0.71, 0.7100000000000001, 0.71, 0.7099999999999999])
    p = vol_panel("TOK.X", noisy)
    assert p.daily_vol == 0.0 and p.drawdown.depth == 0.0 and p.drawdown.peak_date is None
    assert p.largest_move is None and (p.jumps_up, p.jumps_down) == (0, 0)
    moving = series([1.0, 1.1, 1.0, 1.2])
    assert correlations({"GPU.A": moving, "TOK.X": noisy})[0].r is None


def test_drawdown_peak_is_the_last_day_at_the_peak_up_to_float_noise() -> None:
    dd = max_drawdown(series([2.99, 2.9900000000000007, 2.99, 2.8, 2.9900000000000002]))
    assert dd.peak_date == D0 + timedelta(2) and dd.trough_date == D0 + timedelta(3)
    assert dd.recovered_date == D0 + timedelta(4)
