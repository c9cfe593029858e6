"""Headline estimators: how a series turns its included venues and quotes into one number.

An estimator is a small pure function registered under a name; a series names it in
``data/indices.toml`` (``estimator = "..."``, ``params = {...}``), so another published
index's rules can be written in the file and recomputed from the same stored inputs.

Each function receives two lazy frames, already cleaned by the methodology (gross filter,
venue filter), and the group keys (``[index_id, fixing_time]`` for hourly fixings,
``[index_id, date]`` for a pooled window):

- ``venues``: one row per included venue: keys, ``venue``, ``venue_median``, ``n_quotes``,
  ``capacity`` (GPUs offered: sum of gpu_count x available units, 1 when unknown);
- ``quotes``: one row per included quote: keys, ``venue``, ``price``, ``capacity``;

and returns one row per group: keys + ``value``. Everything is polars expressions over
whole frames: no Python runs per group. ``tests/index/test_estimators.py`` checks each one
against a plain numpy/scipy implementation on random data.

To add one: write ``def my_rule(venues, quotes, keys, params) -> pl.LazyFrame`` and
decorate it with ``@register("my_rule", param=default, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

EstimatorFn = Callable[[pl.LazyFrame, pl.LazyFrame, list[str], dict[str, Any]], pl.LazyFrame]

# Relative tolerance when deciding that a cumulative weight sits exactly on one half.
HALF_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Estimator:
    name: str
    fn: EstimatorFn
    defaults: dict[str, Any] = field(default_factory=dict)
    doc: str = ""


ESTIMATORS: dict[str, Estimator] = {}


def register(name: str, **defaults: Any) -> Callable[[EstimatorFn], EstimatorFn]:
    """Register ``fn`` under ``name`` with its parameters' defaults (the only accepted keys)."""

    def deco(fn: EstimatorFn) -> EstimatorFn:
        ESTIMATORS[name] = Estimator(name, fn, dict(defaults), (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return deco


def resolve(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The estimator's parameters with defaults filled in; ValueError names what is wrong."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator '{name}'; known: {', '.join(sorted(ESTIMATORS))}")
    est = ESTIMATORS[name]
    unknown = sorted(set(params) - set(est.defaults))
    if unknown:
        raise ValueError(f"estimator '{name}' has no parameter {', '.join(unknown)}; "
                         f"it takes: {', '.join(sorted(est.defaults)) or 'none'}")
    out = {**est.defaults, **params}
    _check(name, out)
    return out


def _check(name: str, p: dict[str, Any]) -> None:
    if "fraction" in p and not 0 <= float(p["fraction"]) < 0.5:
        raise ValueError(f"estimator '{name}': fraction must be in [0, 0.5)")
    if "trim" in p and not 0 <= float(p["trim"]) < 0.5:
        raise ValueError(f"estimator '{name}': trim must be in [0, 0.5)")
    if "k" in p and not float(p["k"]) > 0:
        raise ValueError(f"estimator '{name}': k must be > 0")
    if "cap" in p and not 0 < float(p["cap"]) <= 1:
        raise ValueError(f"estimator '{name}': cap must be in (0, 1]")
    if "tiers" in p:
        tiers, weights = list(p["tiers"]), list(p["tier_weights"])
        if tiers != sorted(tiers) or len(weights) != len(tiers) + 1 or any(w <= 0 for w in weights):
            raise ValueError(f"estimator '{name}': tiers must be increasing and tier_weights must hold "
                             "len(tiers) + 1 positive weights")
    if "weights" in p and (not isinstance(p["weights"], dict)
                           or any(float(w) < 0 for w in p["weights"].values()) or float(p["default_weight"]) < 0):
        raise ValueError(f"estimator '{name}': weights must be a table venue = weight >= 0")


def apply(name: str, venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str],
          params: dict[str, Any]) -> pl.LazyFrame:
    out = ESTIMATORS[name].fn(venues, quotes, keys, resolve(name, params))
    return out.select(*keys, pl.col("value").cast(pl.Float64))


# ---- building blocks (expressions and frame helpers, reused by the diagnostics) --------------

def trimmed_mean_expr(col: str, fraction: float) -> pl.Expr:
    """Mean after cutting floor(fraction x n) values from each end (scipy.stats.trim_mean).

    Values are sorted before summing, so the same inputs give the same bits in any order.
    """
    n = pl.len().cast(pl.Int64)
    cut = (pl.lit(float(fraction)) * n.cast(pl.Float64)).floor().cast(pl.Int64)
    return ordered_mean(pl.col(col).sort().slice(cut, n - 2 * cut))


def ordered_mean(values: pl.Expr) -> pl.Expr:
    """The mean of ``values`` summed strictly in their order (a running sum), then divided.

    ``Expr.mean`` may add in blocks whose layout depends on how the rows were grouped, so the
    same sorted numbers can give a different last bit in a one-day run and in a month run; a
    published number must not depend on that. Null when there are no values.
    """
    n = values.count()
    return pl.when(n > 0).then(values.cum_sum().last() / n.cast(pl.Float64))


def weighted_median(frame: pl.LazyFrame, keys: list[str], value: str, weight: str) -> pl.LazyFrame:
    """Weighted median per group: the smallest value whose cumulative weight reaches half the
    total; when the cumulative weight sits exactly on one half, the mean of that value and the
    next. With equal weights this is the ordinary median. Zero weights are ignored."""
    ordered = frame.filter(pl.col(weight) > 0).with_columns(
        _frac=pl.col(weight).cum_sum().over(keys, order_by=value) / pl.col(weight).sum().over(keys)
    )
    lo = pl.col(value).filter(pl.col("_frac") >= 0.5 - HALF_TOLERANCE).min()
    hi = pl.col(value).filter(pl.col("_frac") > 0.5 + HALF_TOLERANCE).min()
    return ordered.group_by(keys).agg(value=0.5 * (lo + hi.fill_null(lo)))


def capped_weights(frame: pl.LazyFrame, keys: list[str], weight: str, cap: float) -> pl.LazyFrame:
    """Normalise ``weight`` per group so that no row exceeds ``cap``, the excess shared out in
    proportion among the others (water-filling). Sorted by weight, with the k largest capped,
    row r's weight would be (1 - r cap) w_r / S_r (S_r = sum of weights from r down); k is the
    first rank where that is within the cap. With fewer than 1/cap rows, weights are equal."""
    cap = float(cap)
    tol = 1e-12
    ranked = frame.with_columns(
        _r=(pl.col(weight).rank("ordinal", descending=True).over(keys) - 1).cast(pl.Int64),
        _n=pl.len().over(keys).cast(pl.Int64),
    ).with_columns(
        _s=pl.col(weight).sum().over(keys) - pl.col(weight).cum_sum().over(keys, order_by="_r") + pl.col(weight),
    ).with_columns(
        _ok=(1 - pl.col("_r") * cap) * pl.col(weight) <= (cap + tol) * pl.col("_s"),
    ).with_columns(
        _k=pl.col("_r").filter(pl.col("_ok")).min().over(keys),
    ).with_columns(
        _sk=pl.col("_s").filter(pl.col("_r") == pl.col("_k")).first().over(keys),
    )
    capped = (
        pl.when(pl.col("_n").cast(pl.Float64) * cap < 1 - tol).then(1.0 / pl.col("_n").cast(pl.Float64))
        .when(pl.col("_r") < pl.col("_k")).then(pl.lit(cap))
        .otherwise((1 - pl.col("_k") * cap) * pl.col(weight) / pl.col("_sk"))
    )
    return ranked.with_columns(capped.alias(weight)).drop("_r", "_n", "_s", "_ok", "_k", "_sk")


# ---- the estimators ----------------------------------------------------------------------------

@register("median_of_venue_medians")
def median_of_venue_medians(venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str],
                            params: dict[str, Any]) -> pl.LazyFrame:
    """Median of the venue medians, every venue weighted equally (the default)."""
    return venues.group_by(keys).agg(value=pl.col("venue_median").median())


@register("capacity_weighted_median", tiers=[8, 64, 512], tier_weights=[1.0, 2.0, 3.0, 4.0], cap=0.25)
def capacity_weighted_median(venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str],
                             params: dict[str, Any]) -> pl.LazyFrame:
    """Weighted median of venue medians, weight by capacity tier, no venue above ``cap``.

    A venue's capacity (GPUs offered) falls in a tier: below tiers[0] -> tier_weights[0],
    [tiers[0], tiers[1]) -> tier_weights[1], ...; tiers, not raw counts, so a venue cannot
    buy weight by splitting listings. Weights are then capped per venue (water-filling).
    """
    tier = sum(((pl.col("capacity") >= t).cast(pl.Int64) for t in params["tiers"]), pl.lit(0, dtype=pl.Int64))
    w = pl.lit(None, dtype=pl.Float64)
    for i, tw in reversed(list(enumerate(params["tier_weights"]))):
        w = pl.when(tier == i).then(pl.lit(float(tw))).otherwise(w)
    weighted = capped_weights(venues.with_columns(_w=w), keys, "_w", params["cap"])
    return weighted_median(weighted, keys, "venue_median", "_w")


@register("weighted_median", weights={}, default_weight=0.0)
def explicit_weighted_median(venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str],
                             params: dict[str, Any]) -> pl.LazyFrame:
    """Weighted median of venue medians with explicit weights per venue (others: default_weight)."""
    table = pl.LazyFrame({"venue": list(params["weights"]), "_w": [float(v) for v in params["weights"].values()]},
                         schema={"venue": pl.String, "_w": pl.Float64})
    table = table.with_columns(pl.col("venue").cast(venues.collect_schema()["venue"]))  # String or Categorical
    weighted = venues.join(table, on="venue", how="left").with_columns(
        pl.col("_w").fill_null(float(params["default_weight"])))
    return weighted_median(weighted, keys, "venue_median", "_w")


@register("trimmed_mean", fraction=0.25)
def trimmed_mean(venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str],
                 params: dict[str, Any]) -> pl.LazyFrame:
    """Mean of the venue medians after cutting floor(fraction x n) from each end."""
    return venues.group_by(keys).agg(value=trimmed_mean_expr("venue_median", params["fraction"]))


@register("sigma_clipped_median", k=3.0, trim=0.1)
def sigma_clipped_median(venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str],
                         params: dict[str, Any]) -> pl.LazyFrame:
    """Median of the quotes within k sample standard deviations of their trimmed mean.

    Works on quotes, not venue medians (a listing-level rule, as some published GPU indices
    use; pair it with ``window = "pooled"`` for a per-day rule). With one quote the standard
    deviation is undefined and nothing is clipped; if nothing survives, the median of all.
    """
    k = float(params["k"])
    stats = quotes.group_by(keys).agg(_tm=trimmed_mean_expr("price", params["trim"]), _sd=pl.col("price").std(ddof=1),
                                      _all=pl.col("price").median())
    kept = pl.col("_sd").is_null() | ((pl.col("price") - pl.col("_tm")).abs() <= k * pl.col("_sd"))
    clipped = quotes.join(stats, on=keys, how="inner").group_by(keys).agg(
        _clip=pl.col("price").filter(kept).median(), _all=pl.col("_all").first())
    return clipped.select(*keys, value=pl.coalesce("_clip", "_all"))
