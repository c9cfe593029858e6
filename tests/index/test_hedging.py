"""Hedging math on synthetic cases whose answers are known in closed form."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.hedging import (
    HedgeInputError,
    Tenor,
    exposure_by_period,
    min_variance_ratio,
    monthly_settlements,
    parse_tenor,
    period_settlements,
    simulate,
)


def month(i: int, start: date = date(2024, 1, 1)) -> date:
    y, m = divmod(start.month - 1 + i, 12)
    return date(start.year + y, m + 1, 1)


def daily_from_monthly(levels: list[float], start: date = date(2024, 1, 1)) -> pl.DataFrame:
    """Every day of month i at levels[i]: the month's settlement is exactly levels[i]."""
    rows = []
    for i, v in enumerate(levels):
        d, end = month(i, start), month(i + 1, start)
        while d < end:
            rows.append((d, v, "NORMAL"))
            d += timedelta(days=1)
    return pl.DataFrame(rows, schema={"date": pl.Date, "value": pl.Float64, "status": pl.String}, orient="row")


def settlements_of(levels: list[float], start: date = date(2024, 1, 1)) -> pl.DataFrame:
    return pl.DataFrame({"month": [month(i, start) for i in range(len(levels))], "settlement": levels,
                         "usable": [True] * len(levels)})


def monthly(values: list[float] | np.ndarray, col: str, start: date = date(2024, 1, 1)) -> pl.DataFrame:
    return pl.DataFrame({"month": [month(i, start) for i in range(len(values))], col: list(map(float, values))})


def random_walk(rng: np.random.Generator, n: int, start: float = 10.0, step: float = 0.5) -> np.ndarray:
    return start + np.cumsum(rng.normal(0, step, n))


# ---- settlement --------------------------------------------------------------------------------

def test_settlement_is_the_mean_of_the_counted_days_and_flags_thin_months() -> None:
    days = [date(2025, 1, d) for d in range(1, 32)] + [date(2025, 2, d) for d in range(1, 11)]
    values = [float(d.day) for d in days]
    statuses = ["NORMAL"] * 31 + ["NORMAL"] * 7 + ["CONTINGENCY", "SUSPENDED", "LOW_CONFIDENCE"]
    daily = pl.DataFrame({"date": days, "value": values, "status": statuses})
    s = monthly_settlements(daily, min_valid_days=8)
    jan, feb = s.row(0, named=True), s.row(1, named=True)
    assert jan["settlement"] == pytest.approx(16.0) and jan["n_days"] == 31 and jan["usable"]
    # February: days 1..7 NORMAL, 8 CONTINGENCY (counted, not valid), 9 SUSPENDED (left out), 10 LOW_CONFIDENCE
    assert feb["settlement"] == pytest.approx((sum(range(1, 9)) + 10) / 9)
    assert (feb["n_days"], feb["n_valid"], feb["calendar_days"]) == (9, 8, 28)
    assert feb["usable"]
    assert not monthly_settlements(daily, min_valid_days=9).row(1, named=True)["usable"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.floats(0.01, 1e4), st.sampled_from(
    ["NORMAL", "LOW_CONFIDENCE", "CONTINGENCY", "SUSPENDED"])), min_size=1, max_size=80,
    unique_by=lambda t: t[0]))
def test_settlement_matches_a_plain_python_mean(rows: list[tuple[int, float, str]]) -> None:
    base = date(2024, 12, 1)
    daily = pl.DataFrame({"date": [base + timedelta(days=k) for k, _, _ in rows], "value": [v for _, v, _ in rows],
                          "status": [s for _, _, s in rows]})
    got = {r["month"]: r for r in monthly_settlements(daily, min_valid_days=3).iter_rows(named=True)}
    expected: dict[date, list[tuple[float, str]]] = {}
    for k, v, s in rows:
        d = base + timedelta(days=k)
        expected.setdefault(date(d.year, d.month, 1), []).append((v, s))
    assert set(got) == set(expected)
    for m, items in expected.items():
        counted = [v for v, s in items if s != "SUSPENDED"]
        valid = [v for v, s in items if s in ("NORMAL", "LOW_CONFIDENCE")]
        if counted:
            assert got[m]["settlement"] == pytest.approx(sum(counted) / len(counted), rel=1e-12)
        else:
            assert got[m]["settlement"] is None
        assert got[m]["usable"] == (len(valid) >= 3)


# ---- the hedge ---------------------------------------------------------------------------------

def test_paying_the_index_hedges_to_full_variance_reduction() -> None:
    """A perfectly correlated exposure: the company pays the index itself."""
    rng = np.random.default_rng(7)
    levels = list(random_walk(rng, 30))
    qty = monthly(rng.uniform(500, 1500, 30), "quantity")
    r = simulate(monthly_settlements(daily_from_monthly(levels), 1), qty)
    s = r.stats
    assert s.n_periods == 29  # the first month has no prior settlement
    assert s.variance_reduction == pytest.approx(1.0, abs=1e-9)
    assert s.mv_ratio == pytest.approx(1.0, abs=1e-9) and s.mv_ratio_se == pytest.approx(0.0, abs=1e-6)
    assert s.mv_r2 == pytest.approx(1.0, abs=1e-9)
    # with a full hedge the company pays last month's settlement: the locked-in price
    m = r.periods
    assert np.allclose(m["hedged_price"].to_numpy(), m["entry"].to_numpy())
    assert np.allclose(m["entry"].to_numpy()[1:], m["settlement"].to_numpy()[:-1])


@settings(max_examples=30, deadline=None)
@given(st.floats(-0.9, 0.9), st.integers(0, 2**32 - 1))
def test_variance_reduction_of_a_partial_hedge_is_one_minus_the_unhedged_share_squared(h: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    levels = list(random_walk(rng, 12, start=50.0))
    qty = monthly(rng.uniform(1, 100, 12), "quantity")
    r = simulate(settlements_of(levels), qty, ratio=h)
    if r.stats.variance_reduction is None:  # every change was zero: nothing to reduce
        return
    assert r.stats.variance_reduction == pytest.approx(1 - (1 - h) ** 2, abs=1e-9)


def test_hand_computed_case() -> None:
    # S = 10, 12, 9, 11; Q = 100, 200, 100, 50; ratio 0.5; entry = previous settlement
    r = simulate(settlements_of([10, 12, 9, 11]), monthly([100, 200, 100, 50], "quantity"), ratio=0.5)
    m = r.periods
    assert m["entry"].to_list() == [10, 12, 9]
    assert m["unhedged_cost"].to_list() == pytest.approx([2400, 900, 550])
    assert m["futures_pnl"].to_list() == pytest.approx([200, -150, 50])  # 0.5 · Q · (S − F)
    assert m["hedged_cost"].to_list() == pytest.approx([2200, 1050, 500])
    assert m["unhedged_surprise"].to_list() == pytest.approx([400, -300, 100])
    assert m["hedged_surprise"].to_list() == pytest.approx([200, -150, 50])
    assert r.stats.variance_reduction == pytest.approx(0.75)
    assert r.stats.total_futures_pnl == pytest.approx(100)
    assert r.stats.level_variance_reduction == pytest.approx(1 - np.var([2200, 1050, 500]) / np.var([2400, 900, 550]))


@settings(max_examples=25, deadline=None)
@given(st.floats(-5, 5), st.floats(0.2, 3.0), st.integers(0, 2**32 - 1))
def test_an_own_price_linear_in_the_index_is_fully_hedged_at_its_slope(a: float, b: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    levels = random_walk(rng, 24, start=20.0)
    own = monthly(a + b * levels + 10.0, "price")  # stays positive: levels ≈ 20 ± a few
    r = simulate(settlements_of(list(levels)), monthly([1000.0] * 24, "quantity"), own_price=own)
    assert r.stats.mv_ratio == pytest.approx(b, rel=1e-6)
    assert r.stats.mv_r2 == pytest.approx(1.0, abs=1e-9)
    assert r.stats.residual_risk_share == pytest.approx(0.0, abs=1e-4)
    assert r.stats.basis_std == pytest.approx(abs(b - 1) * np.std(levels[1:], ddof=1), rel=1e-6, abs=1e-9)


def test_an_uncorrelated_own_price_is_not_hedged() -> None:
    rng = np.random.default_rng(11)
    n = 240
    levels = random_walk(rng, n, start=100.0)
    own = random_walk(rng, n, start=100.0)  # independent of the index
    qty = monthly([10.0] * n, "quantity")
    r = simulate(settlements_of(list(levels)), qty, own_price=monthly(own, "price"))
    s = r.stats
    assert s.mv_r2 is not None and s.mv_r2 < 0.05  # ~0% at the best ratio
    assert s.mv_ratio is not None and s.mv_ratio_se is not None and abs(s.mv_ratio) < 3 * s.mv_ratio_se
    assert s.residual_risk_share is not None and s.residual_risk_share > 0.97
    # at the minimum-variance ratio the reduction is the R² (in sample): ~0%
    best = simulate(settlements_of(list(levels)), qty, own_price=monthly(own, "price"), ratio=s.mv_ratio).stats
    assert best.variance_reduction == pytest.approx(s.mv_r2, abs=1e-9)
    assert best.variance_reduction is not None and abs(best.variance_reduction) < 0.05
    # a full hedge adds the futures' variance: 1 − var(u − g)/var(u) = (2 cov(u, g) − var(g)) / var(u)
    u, g = r.periods["unhedged_surprise"].to_numpy(), r.periods["futures_pnl"].to_numpy()
    cov = np.cov(u, g)
    assert s.variance_reduction == pytest.approx((2 * cov[0, 1] - cov[1, 1]) / cov[0, 0], rel=1e-9)
    assert s.variance_reduction < -0.5  # the two walks have the same step: hedging doubles the variance, about


@settings(max_examples=20, deadline=None)
@given(st.floats(-2.0, 3.0), st.integers(0, 2**32 - 1))
def test_the_min_variance_ratio_recovers_a_planted_beta(beta: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 120
    levels = random_walk(rng, n, start=200.0)
    own = 300.0 + np.cumsum(np.r_[0.0, beta * np.diff(levels) + rng.normal(0, 0.3, n - 1)])
    r = simulate(settlements_of(list(levels)), monthly([1.0] * n, "quantity"), own_price=monthly(own, "price"))
    s = r.stats
    assert s.mv_ratio_se is not None and 0 < s.mv_ratio_se < 0.2
    assert s.mv_ratio is not None and abs(s.mv_ratio - beta) < 5 * s.mv_ratio_se


def test_min_variance_ratio_agrees_with_the_covariance_formula() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    y = 0.7 * x + rng.normal(scale=0.5, size=50)
    mv = min_variance_ratio(y, x)
    assert mv["slope"] == pytest.approx(np.cov(x, y)[0, 1] / np.var(x, ddof=1))
    assert mv["r2"] == pytest.approx(np.corrcoef(x, y)[0, 1] ** 2)
    # the textbook standard error of an OLS slope
    resid = y - mv["intercept"] - mv["slope"] * x  # type: ignore[operator]
    se = math.sqrt(np.sum(resid**2) / (50 - 2) / np.sum((x - x.mean()) ** 2))
    assert mv["stderr"] == pytest.approx(se)
    assert min_variance_ratio(y[:2], x[:2])["slope"] is None  # too few points
    assert min_variance_ratio(y, np.ones(50))["slope"] is None  # futures never moved


def test_a_forward_curve_sets_the_entry_and_a_perfect_forward_leaves_nothing_to_hedge() -> None:
    levels = [10.0, 12.0, 9.0, 11.0, 13.0]
    qty = monthly([100.0] * 5, "quantity")
    r = simulate(settlements_of(levels), qty, forward=monthly(levels, "price"))  # the forward was right
    assert r.entry_source == "forward curve" and r.stats.n_periods == 5
    assert r.periods["futures_pnl"].to_list() == pytest.approx([0.0] * 5)
    assert r.periods["hedged_cost"].to_list() == r.periods["unhedged_cost"].to_list()
    flat = simulate(settlements_of(levels), qty, forward=monthly([11.0] * 5, "price"))
    assert flat.periods["hedged_price"].to_list() == pytest.approx([11.0] * 5)  # the strip price is locked


def test_tenor_buys_k_months_ahead() -> None:
    levels = [10.0, 12.0, 9.0, 11.0, 13.0]
    r = simulate(settlements_of(levels), monthly([1.0] * 5, "quantity"), tenor=2)
    assert r.periods["entry"].to_list() == [10.0, 12.0, 9.0]
    assert r.periods["settlement"].to_list() == [9.0, 11.0, 13.0]
    assert parse_tenor("3M").k == 3 and parse_tenor(" 12m ") == Tenor(12, "M")
    assert parse_tenor("1d") == Tenor(1, "D") and parse_tenor("26W") == Tenor(26, "W")
    for bad in ("0M", "13M", "1Y", "", "M", "0D", "32D", "27W"):
        with pytest.raises(HedgeInputError, match="tenor"):
            parse_tenor(bad)


# ---- weekly and daily contracts ------------------------------------------------------------------

def test_weekly_and_daily_settlements() -> None:
    # 2025-01-06 is a Monday; 15 days at 1, 2, ..., 15
    days = [date(2025, 1, 6) + timedelta(days=i) for i in range(15)]
    daily = pl.DataFrame({"date": days, "value": [float(i + 1) for i in range(15)],
                          "status": ["NORMAL"] * 13 + ["SUSPENDED", "LOW_CONFIDENCE"]})
    w = period_settlements(daily, unit="W")
    assert w["period"].to_list() == [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20)]
    assert w["settlement"].to_list() == pytest.approx([4.0, (8 + 9 + 10 + 11 + 12 + 13) / 6, 15.0])
    assert w["usable"].to_list() == [True, True, False]  # default: 5 valid days a week
    assert w["calendar_days"].to_list() == [7, 7, 7]
    d = period_settlements(daily, unit="D")
    assert d.height == 15 and d["settlement"].to_list()[:3] == [1.0, 2.0, 3.0]
    assert d["usable"].to_list() == [True] * 13 + [False, True]  # a day is usable when it is valid itself


def test_a_monthly_exposure_is_spread_evenly_over_days_and_weeks() -> None:
    qty = monthly([310.0, 280.0], "quantity", start=date(2025, 1, 1))  # 10 a day in January and in February
    d = exposure_by_period(qty, "D")
    assert d.height == 31 + 28 and d["quantity"].to_list() == pytest.approx([10.0] * 59)
    w = exposure_by_period(qty, "W")
    # weeks from Monday 2025-01-06 to Monday 2025-02-17 lie wholly inside January-February; the week of
    # 2024-12-30 and that of 2025-02-24 are only partly covered and are left out
    assert w["period"].to_list() == [date(2025, 1, 6) + timedelta(weeks=i) for i in range(7)]
    assert w["quantity"].to_list() == pytest.approx([70.0] * 7)
    assert exposure_by_period(qty, "M")["quantity"].to_list() == [310.0, 280.0]


def test_a_daily_hedge_of_the_index_itself_removes_all_the_risk() -> None:
    """The perfectly correlated exposure with daily contracts: the company pays the daily index."""
    rng = np.random.default_rng(5)
    days = [date(2025, 10, 1) + timedelta(days=i) for i in range(40)]
    daily = pl.DataFrame({"date": days, "value": list(random_walk(rng, 40, start=2.4, step=0.05)),
                          "status": ["NORMAL"] * 40})
    qty = exposure_by_period(monthly([3100.0, 3000.0], "quantity", start=date(2025, 10, 1)), "D")
    r = simulate(period_settlements(daily, unit="D"), qty, tenor=Tenor(1, "D"))
    assert r.stats.n_periods == 39 and r.stats.period == "D"
    assert r.stats.variance_reduction == pytest.approx(1.0, abs=1e-9)
    assert r.stats.mv_ratio == pytest.approx(1.0, abs=1e-9)
    assert np.allclose(r.periods["entry"].to_numpy()[1:], r.periods["settlement"].to_numpy()[:-1])
    assert r.dropped["no entry price"] == ["2025-10-01"]
    assert r.dropped["no usable settlement"] == [f"2025-11-{d:02d}" for d in range(10, 31)]  # after the data


def test_a_weekly_hedge_by_hand() -> None:
    # weekly settlements 10, 12, 9, 11 (weeks from 2025-01-06), 70 units a week, own price 1 + settlement
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(4)]
    s = pl.DataFrame({"period": weeks, "settlement": [10.0, 12.0, 9.0, 11.0], "usable": [True] * 4})
    qty = pl.DataFrame({"period": weeks, "quantity": [70.0] * 4})
    own = pl.DataFrame({"period": weeks, "price": [11.0, 13.0, 10.0, 12.0]})
    r = simulate(s, qty, tenor=Tenor(1, "W"), own_price=own, ratio=0.5)
    assert r.periods["futures_pnl"].to_list() == pytest.approx([70.0, -105.0, 70.0])  # 0.5 · 70 · (S − F)
    assert r.periods["unhedged_surprise"].to_list() == pytest.approx([140.0, -210.0, 140.0])
    assert r.stats.variance_reduction == pytest.approx(0.75)
    assert r.stats.basis_mean == pytest.approx(1.0) and r.stats.basis_std == pytest.approx(0.0)
    assert r.entry_source == "settlement 1 week(s) before"
    with pytest.raises(HedgeInputError, match=r"only 0 day\(s\) can be simulated"):
        simulate(s.head(3), qty, tenor=Tenor(1, "D"))  # the weekly dates are a week apart: no day has an entry


def test_months_without_data_are_left_out_and_listed() -> None:
    s = settlements_of([10.0, 11.0, 12.0, 13.0, 14.0, 15.0]).with_columns(
        usable=pl.Series([True, True, False, True, True, True]))
    r = simulate(s, monthly([1.0] * 8, "quantity"))
    assert r.periods["period"].dt.strftime("%Y-%m").to_list() == ["2024-02", "2024-05", "2024-06"]
    assert r.dropped == {"no usable settlement": ["2024-03", "2024-07", "2024-08"],
                         "no entry price": ["2024-01", "2024-04"]}


def test_too_few_months_is_an_error_saying_what_to_do() -> None:
    with pytest.raises(HedgeInputError, match=r"only 1 month\(s\).*widen --from/--to"):
        simulate(settlements_of([10.0, 11.0]), monthly([1.0, 1.0], "quantity"))


def test_flat_index_has_no_variance_reduction_to_report() -> None:
    r = simulate(settlements_of([5.0] * 6), monthly([1.0] * 6, "quantity"))
    assert r.stats.variance_reduction is None and r.stats.mv_ratio is None


def test_float_noise_in_a_flat_index_is_not_hedged() -> None:
    noisy = [0.71, 0.7100000000000001, 0.71, 0.7099999999999999, 0.71]
    r = simulate(settlements_of(noisy), monthly([1000.0] * 5, "quantity"))
    assert r.periods["futures_pnl"].to_list() == [0.0] * 4
    assert r.stats.mv_ratio is None and r.stats.variance_reduction is None


def test_a_constant_own_price_has_no_variance_to_reduce() -> None:
    """Noise-level variance (1e-17 relative) must not become a ratio of two tiny numbers."""
    levels = [10.0, 12.0, 9.0, 11.0, 13.0]
    own = monthly([0.45, 0.45000000000000007, 0.44999999999999996, 0.45, 0.45], "price")
    r = simulate(settlements_of(levels), monthly([1000.0] * 5, "quantity"), own_price=own)
    assert r.stats.level_variance_reduction is None and r.stats.variance_reduction is None
    assert r.stats.var_hedged > 0  # a hedge on a price one does not pay only adds the futures P&L
    assert r.stats.mv_ratio == 0.0 and r.stats.own_index_correlation is None
