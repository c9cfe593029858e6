"""Hedging analytics: what a monthly future settled on an index would have done for a compute bill.

Pure functions, polars in and out; no store, no files (``index.hedging_data`` reads those).

The model (METHODOLOGY.md, "Hedging analytics"):

* **Periods.** Contracts are monthly by default (tenor ``kM``); ``kW`` (weeks from Monday) and
  ``kD`` (days) exist for histories too short to settle a month. "Month" below stands for the
  period.
* **Settlement** of a month = the arithmetic mean of the month's daily values whose status is
  NORMAL, LOW_CONFIDENCE or CONTINGENCY (a carried day's published value counts, SUSPENDED and
  missing days do not). A month is usable when it has at least ``min_valid_days`` NORMAL or
  LOW_CONFIDENCE days (the contract rule's default, 20; 5 for a week, 1 for a day).
* **Rolling futures.** With a tenor of k months the contract for month m is bought k months
  before it, at the entry price F_m: the supplied forward-curve price for m, else the last
  settlement known then, S_{m-k}. It settles at S_m. A company buying Q_m units in month m
  holds h·Q_m contracts (h = the hedge ratio, 1 by default). With a daily or weekly tenor a
  month's quantity is spread evenly over its days.
* **Costs.** Unhedged cost U_m = Q_m·P_m, where P_m is the company's own price (optional input)
  or the settlement itself. Futures P&L G_m = h·Q_m·(S_m − F_m). Hedged cost H_m = U_m − G_m.
* **Risk** is measured on the part of each month's cost that was not known when the hedge was
  entered (a rolling one-month hedge locks a price one month ahead; it cannot remove a
  two-year trend, and measuring cost *levels* would blame it for that). The unhedged surprise is
  u_m = Q_m·(P_m − B_m), with the budget price B_m = F_m when the company pays the index, or its
  own price k months earlier, P_{m-k}, when an own-price series is given. The hedged surprise is
  u_m − h·Q_m·(S_m − F_m). Variance reduction = 1 − var(hedged surprise) / var(unhedged
  surprise) (Ederington's hedging effectiveness). Level statistics of U and H are reported too.
* **Minimum-variance hedge ratio**: the OLS slope of u_m on Q_m·(S_m − F_m)
  (``scipy.stats.linregress``), with its standard error; at that ratio the variance reduction
  is R² (in sample, so optimistic).
* **Basis** (own price given): P_m − S_m per unit, its mean and standard deviation, and the
  residual risk share sqrt(1 − R²) that no quantity of index futures removes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from index.errors import SpotindexError

SETTLEMENT_STATUSES = ("NORMAL", "LOW_CONFIDENCE", "CONTINGENCY")
VALID_STATUSES = ("NORMAL", "LOW_CONFIDENCE")
DEFAULT_MIN_VALID_DAYS = 20
MIN_HEDGE_MONTHS = 3
NOISE = 1e-12
# period unit -> (polars/duckdb interval, name, adjective, default min valid days, longest tenor, label format)
PERIODS: dict[str, tuple[str, str, str, int, int, str]] = {
    "D": ("1d", "day", "daily", 1, 31, "%Y-%m-%d"),
    "W": ("1w", "week", "weekly", 5, 26, "%Y-%m-%d"),
    "M": ("1mo", "month", "monthly", DEFAULT_MIN_VALID_DAYS, 12, "%Y-%m"),
}


class HedgeInputError(SpotindexError):
    """The history or the company's inputs do not allow the simulation (too few months, ...)."""


@dataclass(frozen=True)
class Tenor:
    """k periods ahead: the contract for a period is bought k periods before it."""

    k: int = 1
    unit: str = "M"  # D (day), W (week from Monday) or M (calendar month)

    @property
    def every(self) -> str:
        return PERIODS[self.unit][0]

    @property
    def name(self) -> str:
        return PERIODS[self.unit][1]

    @property
    def adjective(self) -> str:
        return PERIODS[self.unit][2]

    @property
    def default_min_valid_days(self) -> int:
        return PERIODS[self.unit][3]

    @property
    def offset(self) -> str:
        return f"{self.k}{self.every[1:]}"

    @property
    def label(self) -> str:
        return f"{self.k}{self.unit}"


def parse_tenor(text: str) -> Tenor:
    """'1M' .. '12M', '1W' .. '26W', '1D' .. '31D' -> periods ahead the contract is bought."""
    m = re.fullmatch(r"\s*(\d{1,2})\s*([dDwWmM])\s*", text)
    unit = m.group(2).upper() if m else "M"
    if not m or not 1 <= int(m.group(1)) <= PERIODS[unit][4]:
        raise HedgeInputError(f"tenor '{text}' is not understood: use 1M .. 12M (months ahead the contract is "
                              "bought), 1W .. 26W (weeks) or 1D .. 31D (days)")
    return Tenor(int(m.group(1)), unit)


def period_label(unit: str = "M", col: str = "period") -> pl.Expr:
    return pl.col(col).dt.strftime(PERIODS[unit][5])


def _keyed(df: pl.DataFrame) -> pl.DataFrame:
    """Frames are keyed by ``period`` (its first day); ``month`` is accepted for monthly inputs."""
    return df.rename({"month": "period"}) if "period" not in df.columns and "month" in df.columns else df


def _daily(daily: pl.DataFrame) -> pl.DataFrame:
    """date, value, status (status defaults to NORMAL when absent)."""
    if "status" not in daily.columns:
        daily = daily.with_columns(status=pl.lit("NORMAL"))
    return daily.select(pl.col("date").cast(pl.Date), pl.col("value").cast(pl.Float64),
                        pl.col("status").cast(pl.String))


def period_settlements(daily: pl.DataFrame, min_valid_days: int | None = None, unit: str = "M") -> pl.DataFrame:
    """One row per period (calendar month, week from Monday or day) that has any daily row.

    Columns: period (Date, first day), settlement (mean of the counted days' values, null when
    none), n_days (days counted), n_valid (NORMAL or LOW_CONFIDENCE days), calendar_days and
    usable (n_valid >= min_valid_days, by default the period's, and a settlement exists).
    """
    every, _, _, default_days, _, _ = PERIODS[unit]
    need = default_days if min_valid_days is None else min_valid_days
    d = _daily(daily)
    counted = pl.col("status").is_in(SETTLEMENT_STATUSES) & pl.col("value").is_not_null() & pl.col("value").is_finite()
    valid = counted & pl.col("status").is_in(VALID_STATUSES)
    length = {"D": pl.lit(1), "W": pl.lit(7), "M": pl.col("period").dt.month_end().dt.day()}[unit]
    return (
        d.with_columns(period=pl.col("date").dt.truncate(every))
        .group_by("period")
        .agg(settlement=pl.col("value").filter(counted).mean(),
             n_days=counted.sum().cast(pl.Int32),
             n_valid=valid.sum().cast(pl.Int32))
        .with_columns(calendar_days=length.cast(pl.Int32))
        .with_columns(usable=(pl.col("n_valid") >= need) & pl.col("settlement").is_not_null())
        .sort("period")
    )


def monthly_settlements(daily: pl.DataFrame, min_valid_days: int = DEFAULT_MIN_VALID_DAYS) -> pl.DataFrame:
    """:func:`period_settlements` of calendar months, keyed by ``month``."""
    return period_settlements(daily, min_valid_days, "M").rename({"period": "month"})


def exposure_by_period(exposure: pl.DataFrame, unit: str = "M") -> pl.DataFrame:
    """period, quantity: a monthly exposure (month, quantity) on the contract's periods.

    Months are kept as they are; for days and weeks a month's quantity is spread evenly over its
    days, and only periods whose every day falls in an exposure month are kept.
    """
    e = _keyed(exposure).select(pl.col("period").cast(pl.Date), pl.col("quantity").cast(pl.Float64))
    if unit == "M":
        return e
    every = PERIODS[unit][0]
    days = (e.with_columns(day=pl.date_ranges(pl.col("period"), pl.col("period").dt.month_end()))
            .explode("day")
            .with_columns(q=pl.col("quantity") / pl.col("period").dt.month_end().dt.day()))
    full = 7 if unit == "W" else 1
    return (days.group_by(pl.col("day").dt.truncate(every).alias("period"))
            .agg(quantity=pl.col("q").sum(), n=pl.len())
            .filter(pl.col("n") == full).drop("n").sort("period"))


def _change(a: str, b: str) -> pl.Expr:
    """a − b, with floating-point noise of recomputed means (relative < 1e-12) set to exactly 0."""
    d = pl.col(a) - pl.col(b)
    return pl.when(d.abs() <= NOISE * pl.max_horizontal(pl.col(a).abs(), pl.col(b).abs())).then(0.0).otherwise(d)


def _shift(df: pl.DataFrame, offset: str, value: str, name: str) -> pl.DataFrame:
    """The value of period m-k, keyed by period m (calendar arithmetic: a gap stays a gap)."""
    return df.select(pl.col("period").dt.offset_by(offset).alias("period"), pl.col(value).alias(name))


@dataclass(frozen=True)
class HedgeStats:
    n_periods: int
    tenor: int
    period: str  # D | W | M
    ratio: float
    var_unhedged: float
    var_hedged: float
    variance_reduction: float | None
    std_unhedged: float
    std_hedged: float
    mv_ratio: float | None
    mv_ratio_se: float | None
    mv_intercept: float | None
    mv_r2: float | None
    mv_pvalue: float | None
    mean_cost_unhedged: float
    mean_cost_hedged: float
    std_cost_unhedged: float
    std_cost_hedged: float
    level_variance_reduction: float | None
    total_cost_unhedged: float
    total_cost_hedged: float
    total_futures_pnl: float
    basis_mean: float | None = None
    basis_std: float | None = None
    basis_cost_std: float | None = None
    residual_risk_share: float | None = None
    own_index_correlation: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class HedgeResult:
    periods: pl.DataFrame
    stats: HedgeStats
    dropped: dict[str, list[str]] = field(default_factory=dict)
    entry_source: str = "prior settlement"
    own_price: bool = False
    tenor: Tenor = field(default_factory=Tenor)


def _moves(x: np.ndarray) -> bool:
    """More than float noise between the smallest and the largest value."""
    return bool(x.size) and float(np.ptp(x)) > NOISE * float(np.max(np.abs(x)))


def _var(x: np.ndarray) -> float:
    return float(np.var(x, ddof=1)) if x.size > 1 else float("nan")


def _ratio_or_none(num: float, den: float, scale: float) -> float | None:
    """1 − num/den; None when the denominator is zero or only float noise (std < 1e-9 × scale)."""
    if not math.isfinite(num) or not math.isfinite(den) or den <= (1e-9 * scale) ** 2:
        return None
    return 1.0 - num / den


def min_variance_ratio(exposure_change: np.ndarray, futures_change: np.ndarray) -> dict[str, float | None]:
    """OLS of the unhedged change on the futures change: slope (h*), its SE, intercept, R², p."""
    x = np.asarray(futures_change, dtype=float)
    y = np.asarray(exposure_change, dtype=float)
    if x.size < MIN_HEDGE_MONTHS or float(np.ptp(x)) == 0.0:
        return {"slope": None, "stderr": None, "intercept": None, "r2": None, "pvalue": None}
    if float(np.ptp(y)) == 0.0:  # nothing to hedge: the best ratio is 0, known exactly
        return {"slope": 0.0, "stderr": 0.0, "intercept": float(y[0]), "r2": None, "pvalue": None}
    from scipy import stats  # imported here: the CLI starts faster for every other command

    res = stats.linregress(x, y)
    return {"slope": float(res.slope), "stderr": float(res.stderr), "intercept": float(res.intercept),
            "r2": float(res.rvalue) ** 2, "pvalue": float(res.pvalue)}


def simulate(settlements: pl.DataFrame, exposure: pl.DataFrame, *, tenor: Tenor | int = 1, ratio: float = 1.0,
             own_price: pl.DataFrame | None = None, forward: pl.DataFrame | None = None) -> HedgeResult:
    """Simulate the rolling hedge period by period (see the module docstring for the model).

    ``settlements``: output of :func:`period_settlements` (or :func:`monthly_settlements`) for the
    tenor's period. ``exposure``: period (Date, first day), quantity on the same periods (see
    :func:`exposure_by_period`). ``own_price`` / ``forward``: period, price. ``month`` is accepted
    for ``period`` in every frame. An int tenor is a number of months. Periods that lack a usable
    settlement, an entry price or an own price are dropped and listed in ``dropped``.
    """
    t = tenor if isinstance(tenor, Tenor) else Tenor(tenor, "M")
    if t.k < 1:
        raise HedgeInputError(f"tenor must be at least one {t.name}")
    if not math.isfinite(ratio):
        raise HedgeInputError("hedge ratio must be a finite number")
    usable = _keyed(settlements).filter(pl.col("usable")).select("period", "settlement")
    frame = _keyed(exposure).select(pl.col("period").cast(pl.Date), pl.col("quantity").cast(pl.Float64))
    frame = frame.join(usable, on="period", how="left")
    if forward is not None:
        fwd = _keyed(forward).select(pl.col("period").cast(pl.Date), pl.col("price").cast(pl.Float64).alias("entry"))
        frame = frame.join(fwd, on="period", how="left")
        entry_source = "forward curve"
    else:
        frame = frame.join(_shift(usable, t.offset, "settlement", "entry"), on="period", how="left")
        entry_source = f"settlement {t.k} {t.name}(s) before"
    if own_price is not None:
        own = _keyed(own_price).select(pl.col("period").cast(pl.Date), pl.col("price").cast(pl.Float64).alias("paid"))
        frame = (frame.join(own, on="period", how="left")
                 .join(_shift(own.rename({"paid": "price"}), t.offset, "price", "budget"), on="period", how="left"))
    else:
        frame = frame.with_columns(paid=pl.col("settlement"), budget=pl.col("entry"))

    dropped: dict[str, list[str]] = {}
    reasons = [("no usable settlement", pl.col("settlement").is_null()),
               ("no entry price", pl.col("entry").is_null())]
    if own_price is not None:
        reasons += [("no own price", pl.col("paid").is_null()),
                    (f"no own price {t.k} {t.name}(s) before", pl.col("budget").is_null())]
    keep = pl.lit(True)
    for reason, cond in reasons:
        periods = frame.filter(keep & cond).select(period_label(t.unit))["period"].to_list()
        if periods:
            dropped[reason] = periods
        keep = keep & ~cond
    frame = frame.filter(keep).sort("period")
    n = frame.height
    if n < MIN_HEDGE_MONTHS:
        detail = "; ".join(f"{r}: {', '.join(ms[:6])}{' …' if len(ms) > 6 else ''}" for r, ms in dropped.items())
        shorter = "" if t.unit == "D" else ", use a shorter tenor (--tenor 1W or 1D)"
        raise HedgeInputError(
            f"only {n} {t.name}(s) can be simulated (need at least {MIN_HEDGE_MONTHS}): a {t.name} needs the "
            f"exposure, a usable settlement and an entry price" + (f" ({detail})" if detail else "")
            + f"; widen --from/--to, lower --min-valid-days{shorter} or supply --forward")

    q = pl.col("quantity")
    frame = frame.with_columns(
        unhedged_cost=q * pl.col("paid"),
        futures_pnl=ratio * q * _change("settlement", "entry"),
        unhedged_surprise=q * _change("paid", "budget"),
        futures_change=q * _change("settlement", "entry"),
        basis=_change("paid", "settlement"),
    ).with_columns(
        hedged_cost=pl.col("unhedged_cost") - pl.col("futures_pnl"),
        hedged_surprise=pl.col("unhedged_surprise") - pl.col("futures_pnl"),
    ).with_columns(
        hedged_price=pl.when(q != 0).then(pl.col("hedged_cost") / q),
    )

    u = frame["unhedged_surprise"].to_numpy()
    h = frame["hedged_surprise"].to_numpy()
    g = frame["futures_change"].to_numpy()
    cu, ch = frame["unhedged_cost"].to_numpy(), frame["hedged_cost"].to_numpy()
    var_u, var_h = _var(u), _var(h)
    scale = float(np.mean(np.abs(cu)))  # the size of a monthly bill: what "no variance at all" is measured against
    mv = min_variance_ratio(u, g)
    basis: dict[str, float | None] = {}
    if own_price is not None:
        b = frame["basis"].to_numpy()
        paid, settle = frame["paid"].to_numpy(), frame["settlement"].to_numpy()
        corr = None
        if _moves(paid) and _moves(settle):
            corr = float(np.corrcoef(paid, settle)[0, 1])
        basis = {"basis_mean": float(np.mean(b)), "basis_std": float(np.std(b, ddof=1)),
                 "basis_cost_std": float(np.std(frame["quantity"].to_numpy() * b, ddof=1)),
                 "residual_risk_share": (math.sqrt(max(0.0, 1.0 - mv["r2"])) if mv["r2"] is not None else None),
                 "own_index_correlation": corr}
    st = HedgeStats(
        n_periods=n, tenor=t.k, period=t.unit, ratio=ratio,
        var_unhedged=var_u, var_hedged=var_h, variance_reduction=_ratio_or_none(var_h, var_u, scale),
        std_unhedged=math.sqrt(var_u), std_hedged=math.sqrt(var_h),
        mv_ratio=mv["slope"], mv_ratio_se=mv["stderr"], mv_intercept=mv["intercept"], mv_r2=mv["r2"],
        mv_pvalue=mv["pvalue"],
        mean_cost_unhedged=float(np.mean(cu)), mean_cost_hedged=float(np.mean(ch)),
        std_cost_unhedged=float(np.std(cu, ddof=1)), std_cost_hedged=float(np.std(ch, ddof=1)),
        level_variance_reduction=_ratio_or_none(_var(ch), _var(cu), scale),
        total_cost_unhedged=float(np.sum(cu)), total_cost_hedged=float(np.sum(ch)),
        total_futures_pnl=float(frame["futures_pnl"].sum()),
        **basis,  # type: ignore[arg-type]
    )
    cols = ["period", "quantity", "settlement", "entry", "paid", "budget", "unhedged_cost", "futures_pnl",
            "hedged_cost", "hedged_price", "unhedged_surprise", "hedged_surprise", "basis"]
    return HedgeResult(periods=frame.select(cols), stats=st, dropped=dropped, entry_source=entry_source,
                       own_price=own_price is not None, tenor=t)


__all__ = ["DEFAULT_MIN_VALID_DAYS", "PERIODS", "HedgeInputError", "HedgeResult", "HedgeStats", "Tenor",
           "exposure_by_period", "min_variance_ratio", "monthly_settlements", "parse_tenor", "period_label",
           "period_settlements", "simulate"]
