"""What token-index users ask next to the level: who quotes what, who is cheapest, how fast prices fall.

Pure functions on frames from ``index.tokens.candidates`` and on value histories.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

DAYS_PER_YEAR = 365.25
MIN_POINTS = 3  # a line through two points has no confidence interval


def latest_rows(cands: pl.DataFrame) -> pl.DataFrame:
    """Each provider row's latest observation (per source, provider, id, segment and tier)."""
    keys = ["index_id", "source", "provider", "source_model_id", "segment", "context_tier"]
    return cands.filter(pl.col("observed_at") == pl.col("observed_at").max().over(keys))


def provider_table(cands: pl.DataFrame) -> pl.DataFrame:
    """One row per provider price (sources reporting the same price merged), latest observation."""
    prices = ["usd_per_mtok_input", "usd_per_mtok_output", "usd_per_mtok_cached_input"]
    rows = latest_rows(cands).with_columns(pl.col(c).round(6) for c in prices).with_columns(
        blended=((3 * pl.col("usd_per_mtok_input") + pl.col("usd_per_mtok_output")) / 4).round(6))
    keys = ["provider", "segment", "context_tier", "quantization", "usd_per_mtok_input", "usd_per_mtok_output",
            "usd_per_mtok_cached_input", "blended", "reason"]
    return (
        rows.group_by(keys, maintain_order=True)
        .agg(sources=pl.col("source").unique().sort().str.join(","), ids=pl.col("source_model_id").n_unique())
        .with_columns(included=pl.col("reason").is_null())
        .sort(["context_tier", "segment", "included", "blended"], descending=[False, False, True, False],
              nulls_last=True)
    )


def indicative_value(providers: pl.DataFrame, segment: str = "full", tier: int = 0) -> float | None:
    """Median across providers of each provider's median blended price (included rows only):
    what the series would read if it were published."""
    inc = providers.filter(pl.col("included") & (pl.col("segment") == segment) & (pl.col("context_tier") == tier)
                           & pl.col("blended").is_not_null())
    if inc.height == 0:
        return None
    per = inc.group_by("provider").agg(pl.col("blended").median())
    return float(per["blended"].median())  # type: ignore[arg-type]


def with_deviation(providers: pl.DataFrame, headline: float | None) -> pl.DataFrame:
    """Each provider's blended price relative to the index value (+0.25 = 25% above)."""
    if headline is None or headline <= 0:
        return providers.with_columns(deviation=pl.lit(None, dtype=pl.Float64))
    return providers.with_columns(deviation=pl.col("blended") / headline - 1)


def rank_providers(cands: pl.DataFrame, top: int = 3) -> pl.DataFrame:
    """Per model and segment: providers from cheapest, with the price relative to the median provider."""
    inc = latest_rows(cands).filter(pl.col("reason").is_null())
    per = inc.group_by("model", "segment", "provider").agg(price=pl.col("price").median(),
                                                           sources=pl.col("source").unique().sort().str.join(","))
    return (
        per.with_columns(
            rank=pl.col("price").rank("min").over("model", "segment").cast(pl.Int32),
            n_providers=pl.len().over("model", "segment").cast(pl.Int32),
            vs_median=pl.col("price") / pl.col("price").median().over("model", "segment") - 1,
        )
        .filter(pl.col("rank") <= top)
        .sort(["model", "segment", "rank", "provider"])
        .select("model", "segment", "rank", "provider", "price", "vs_median", "n_providers", "sources")
    )


@dataclass(frozen=True)
class Trend:
    """Log-linear fit of a price history: ln(p) = a + b·t, t in years."""

    slope: float  # b, per year
    stderr: float
    n: int
    days: int
    decline: float  # 1 - exp(b): the share of the price lost per year (0.9 = falls 90% a year)
    decline_low: float  # confidence interval of the decline (level ``confidence``)
    decline_high: float
    confidence: float

    @property
    def factor_per_year(self) -> float:
        """How many times cheaper a year later (10 = an order of magnitude a year)."""
        return math.exp(-self.slope)


def annualised_decline(dates: Sequence[date], values: Sequence[float], confidence: float = 0.95) -> Trend | None:
    """Annualised price decline by a log-linear least-squares fit (scipy.stats.linregress), with a
    two-sided ``confidence`` interval from the t distribution on n - 2 degrees of freedom.

    None with fewer than 3 positive values or a history shorter than two distinct days.
    """
    pts = [(d, v) for d, v in zip(dates, values, strict=True) if v is not None and v > 0]
    if len(pts) < MIN_POINTS:
        return None
    d0 = min(d for d, _ in pts)
    t = np.array([(d - d0).days / DAYS_PER_YEAR for d, _ in pts])
    if np.ptp(t) == 0:
        return None
    from scipy import stats  # here, not at the top: scipy.stats costs 0.6 s at the start of every CLI command

    y = np.log(np.array([v for _, v in pts]))
    fit = stats.linregress(t, y)
    q = stats.t.ppf(0.5 + confidence / 2, len(pts) - 2)
    lo, hi = fit.slope - q * fit.stderr, fit.slope + q * fit.stderr
    return Trend(float(fit.slope), float(fit.stderr), len(pts), int(round(np.ptp(t) * DAYS_PER_YEAR)),
                 1 - math.exp(fit.slope), 1 - math.exp(hi), 1 - math.exp(lo), confidence)
