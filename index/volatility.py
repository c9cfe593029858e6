"""The volatility panel of a series: realised volatility, drawdown, jumps, cross-series correlation.

Pure functions over a daily frame (date, value[, status]); rules in METHODOLOGY.md,
"Hedging analytics":

* Returns are log changes between consecutive *published* daily values (status NORMAL,
  LOW_CONFIDENCE or CONTINGENCY, value > 0). A missing or SUSPENDED day is skipped: the return
  spans the gap and ``gap_days`` says how long it was. A carried (CONTINGENCY) day repeats the
  last value and so contributes a zero return, as it would to a contract holder.
* Daily realised volatility = sample standard deviation of the daily log returns; annualised
  ×√365 (compute is rented every calendar day). Monthly realised volatility = standard deviation
  of the log changes between consecutive usable monthly settlements; annualised ×√12.
* Maximum drawdown = the largest fall from a running peak, 1 − value / peak, with the peak's
  and the trough's dates.
* Relative changes below 1e-12 are floating-point noise of recomputed values and count as 0.
* A jump is a daily |log return| of at least ``jump_threshold`` (default 0.10, about a 10% move
  in one day); up and down jumps are counted apart.
* Correlation between two series: Pearson on their daily log returns over the days both have a
  return (same date, each from its own previous value); monthly on settlement log changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from index.hedging import DEFAULT_MIN_VALID_DAYS, SETTLEMENT_STATUSES, monthly_settlements

DEFAULT_JUMP_THRESHOLD = 0.10
DAYS_PER_YEAR = 365
MONTHS_PER_YEAR = 12
MIN_CORRELATION_POINTS = 3
# Relative changes smaller than this are floating-point noise of recomputed medians and means
# (0.71 vs 0.7100000000000001), not price moves: they are set to exactly zero.
NOISE = 1e-12


def daily_returns(daily: pl.DataFrame) -> pl.DataFrame:
    """date, value, log_return (from the previous published value; null on the first), gap_days."""
    d = daily if "status" in daily.columns else daily.with_columns(status=pl.lit("NORMAL"))
    return (
        d.filter(pl.col("status").is_in(SETTLEMENT_STATUSES) & pl.col("value").is_not_null()
                 & pl.col("value").is_finite() & (pl.col("value") > 0))
        .select(pl.col("date").cast(pl.Date), pl.col("value").cast(pl.Float64))
        .sort("date")
        .with_columns(log_return=pl.col("value").log() - pl.col("value").log().shift(1),
                      gap_days=(pl.col("date") - pl.col("date").shift(1)).dt.total_days().cast(pl.Int32))
        .with_columns(log_return=pl.when(pl.col("log_return").abs() < NOISE).then(0.0)
                      .otherwise(pl.col("log_return")))
    )


def settlement_returns(daily: pl.DataFrame, min_valid_days: int = DEFAULT_MIN_VALID_DAYS) -> pl.DataFrame:
    """month, settlement, log_return between consecutive *calendar* months both usable (else null)."""
    s = monthly_settlements(daily, min_valid_days).filter(pl.col("usable") & (pl.col("settlement") > 0))
    prev = s.select(pl.col("month").dt.offset_by("1mo"), pl.col("settlement").alias("prev"))
    return (s.select("month", "settlement").join(prev, on="month", how="left")
            .with_columns(log_return=pl.col("settlement").log() - pl.col("prev").log())
            .with_columns(log_return=pl.when(pl.col("log_return").abs() < NOISE).then(0.0)
                          .otherwise(pl.col("log_return")))
            .drop("prev"))


def _std(x: pl.Series) -> float | None:
    x = x.drop_nulls()
    return float(x.std(ddof=1)) if x.len() >= 2 else None  # type: ignore[arg-type]


@dataclass(frozen=True)
class Drawdown:
    depth: float  # 0.25 = a 25% fall from the peak
    peak_date: date | None
    trough_date: date | None
    recovered_date: date | None  # first day back at or above the peak, None if never


def max_drawdown(daily: pl.DataFrame) -> Drawdown:
    r = daily_returns(daily)
    if r.height == 0:
        return Drawdown(0.0, None, None, None)
    r = r.with_columns(peak=pl.col("value").cum_max()).with_columns(dd=1.0 - pl.col("value") / pl.col("peak"))
    i = int(r["dd"].arg_max() or 0)
    depth = float(r["dd"][i])
    if depth <= NOISE:
        return Drawdown(0.0, None, None, None)
    at_peak = pl.col("value") >= float(r["peak"][i]) * (1 - NOISE)  # the peak, up to float noise
    peak_date = r.head(i + 1).filter(at_peak)["date"][-1]  # the last day at the peak before the trough
    after = r.slice(i).filter(at_peak)
    return Drawdown(depth, peak_date, r["date"][i], after["date"][0] if after.height else None)


@dataclass(frozen=True)
class VolPanel:
    series: str
    first_date: date | None
    last_date: date | None
    n_days: int
    n_returns: int
    max_gap_days: int
    daily_vol: float | None
    daily_vol_annualised: float | None
    n_months: int
    monthly_vol: float | None
    monthly_vol_annualised: float | None
    drawdown: Drawdown
    jump_threshold: float
    jumps_up: int
    jumps_down: int
    largest_move: float | None  # the daily log return of largest magnitude
    largest_move_date: date | None

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "drawdown"}
        out.update({f"drawdown_{k}": v for k, v in self.drawdown.__dict__.items()})
        return out


def vol_panel(series: str, daily: pl.DataFrame, jump_threshold: float = DEFAULT_JUMP_THRESHOLD,
              min_valid_days: int = DEFAULT_MIN_VALID_DAYS) -> VolPanel:
    r = daily_returns(daily)
    rets = r["log_return"].drop_nulls()
    dvol = _std(rets)
    m = settlement_returns(daily, min_valid_days)
    mvol = _std(m["log_return"])
    largest, largest_date = None, None
    if rets.len() and float(rets.abs().max()) > 0:  # type: ignore[arg-type]
        k = int(r["log_return"].abs().arg_max() or 0)
        largest, largest_date = float(r["log_return"][k]), r["date"][k]
    return VolPanel(
        series=series,
        first_date=r["date"].min() if r.height else None,  # type: ignore[arg-type]
        last_date=r["date"].max() if r.height else None,  # type: ignore[arg-type]
        n_days=r.height, n_returns=rets.len(),
        max_gap_days=int(r["gap_days"].max() or 0) if r.height > 1 else 0,  # type: ignore[arg-type]
        daily_vol=dvol, daily_vol_annualised=dvol * math.sqrt(DAYS_PER_YEAR) if dvol is not None else None,
        n_months=m.height, monthly_vol=mvol,
        monthly_vol_annualised=mvol * math.sqrt(MONTHS_PER_YEAR) if mvol is not None else None,
        drawdown=max_drawdown(daily),
        jump_threshold=jump_threshold,
        jumps_up=int((rets >= jump_threshold).sum()), jumps_down=int((rets <= -jump_threshold).sum()),
        largest_move=largest, largest_move_date=largest_date,
    )


@dataclass(frozen=True)
class Correlation:
    a: str
    b: str
    frequency: str  # daily | monthly
    n: int
    r: float | None
    pvalue: float | None
    why_none: str | None = None  # why r is None: too few common points, or which series did not move


def _correlate(a: str, b: str, fa: pl.DataFrame, fb: pl.DataFrame, key: str, frequency: str) -> Correlation:
    j = (fa.select(key, pl.col("log_return").alias("ra")).join(fb.select(key, pl.col("log_return").alias("rb")),
                                                              on=key, how="inner")
         .drop_nulls())
    n = j.height
    x, y = j["ra"].to_numpy(), j["rb"].to_numpy()
    if n < MIN_CORRELATION_POINTS:
        return Correlation(a, b, frequency, n, None, None, f"fewer than {MIN_CORRELATION_POINTS} common points")
    flat = [s for s, v in ((a, x), (b, y)) if np.ptp(v) == 0]
    if flat:
        return Correlation(a, b, frequency, n, None, None, " and ".join(flat) + " did not move")
    from scipy import stats  # imported here: the CLI starts faster for every other command

    res = stats.pearsonr(x, y)
    return Correlation(a, b, frequency, n, float(res.statistic), float(res.pvalue))


def correlations(dailies: dict[str, pl.DataFrame], min_valid_days: int = DEFAULT_MIN_VALID_DAYS
                 ) -> list[Correlation]:
    """Every pair of series, daily and monthly (None where a series is flat or the overlap < 3)."""
    names = list(dailies)
    d = {k: daily_returns(v) for k, v in dailies.items()}
    m = {k: settlement_returns(v, min_valid_days) for k, v in dailies.items()}
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            out.append(_correlate(a, b, d[a], d[b], "date", "daily"))
            out.append(_correlate(a, b, m[a], m[b], "month", "monthly"))
    return out


__all__ = ["DEFAULT_JUMP_THRESHOLD", "Correlation", "Drawdown", "VolPanel", "correlations", "daily_returns",
           "max_drawdown", "settlement_returns", "vol_panel"]
