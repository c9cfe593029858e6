"""A synthetic, seeded GPU market: quotes for testing a methodology change or measuring speed.

``spotindex simulate --venues 30 --series 10 --days 365 --seed 7 --db PATH`` writes about
50 million quote rows (the default size) into ``gpu_quotes``, month by month. The market:

- ``series`` GPU models ``SIM-GPU-<s>`` (on-demand), each with its own price level and a
  common log-price factor that mean-reverts hourly (Ornstein-Uhlenbeck) with rare jumps;
- ``venues`` venues ``sim-v<nn>``: the first ``max(1, venues // 10)`` are marketplaces
  (``venue_class`` marketplace, tier T2, ``MARKET_LISTINGS`` listings per series per hour,
  each listing with its own persistent premium), the rest clouds (neocloud, tier T3 list
  prices, ``CLOUD_LISTINGS`` offers per series they sell, a random subset of the series);
  each venue has its own price level and its own mean-reverting deviation;
- stale quotes: ``STALE_SHARE`` of rows repeat the price of ``STALE_LAG_HOURS`` earlier;
- duplicates: ``AGGREGATOR_SHARE`` of rows are re-reported by the source ``sim-aggregator``
  (same venue and offer, seconds later), and ``EXACT_DUP_SHARE`` of rows are sent twice
  (the store's primary key keeps one);
- ``OUTLIER_SHARE`` gross outliers (price x100 or /100) and ``BAD_SHARE`` bad rows (price 0,
  negative or NaN, or ``available_units`` 0) which the pipeline must drop.

Everything is a function of the seed and the month: numpy arrays, no per-row Python.
``benchmark_definitions`` returns series definitions that read this market
(``SIM.S<s>``); a user testing a methodology change edits them (or writes the same
``[[index]]`` entries in a copy of data/indices.toml) and recomputes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from index.definitions import Definitions, IndexDefinition
from index.schemas import GPU_QUOTE_SCHEMA

MARKET_LISTINGS = 160
CLOUD_LISTINGS = 4
STALE_SHARE = 0.03
STALE_LAG_HOURS = 6
AGGREGATOR_SHARE = 0.02
EXACT_DUP_SHARE = 0.002
OUTLIER_SHARE = 0.002
BAD_SHARE = 0.001
SOURCE = "sim"
AGGREGATOR = "sim-aggregator"
DATASET = "replay:simulate"
COLUMNS = [c for c in GPU_QUOTE_SCHEMA if c != "quarantine_reason"]


@dataclass(frozen=True)
class Market:
    """The static shape of the market (levels, listing counts, who sells what)."""

    venues: int = 30
    series: int = 10
    seed: int = 7
    start: date = date(2025, 1, 1)
    market_listings: int = MARKET_LISTINGS
    cloud_listings: int = CLOUD_LISTINGS

    @property
    def n_markets(self) -> int:
        return max(1, self.venues // 10)

    def layout(self) -> dict[str, np.ndarray]:
        """Per (venue, series) pair that trades: venue index, series index, listing count, level."""
        rng = np.random.default_rng([self.seed, 0])
        series_level = 1.0 + 0.6 * np.arange(self.series) + rng.uniform(0, 0.3, self.series)
        venue_level = np.exp(rng.normal(0.0, 0.08, self.venues))
        sells = rng.random((self.venues, self.series)) < 0.7
        sells[: self.n_markets] = True
        v, s = np.nonzero(sells)
        listings = np.where(v < self.n_markets, self.market_listings, self.cloud_listings)
        return {"venue": v, "series": s, "listings": listings,
                "level": series_level[s] * venue_level[v]}


def _ou(rng: np.random.Generator, n_paths: int, hours: int, theta: float, sigma: float, jump_p: float,
        jump_sd: float, x0: np.ndarray) -> np.ndarray:
    """Mean-reverting log deviations with jumps, shape (n_paths, hours); x0 is the state before hour 0."""
    out = np.empty((n_paths, hours))
    shocks = rng.normal(0.0, sigma, (n_paths, hours))
    shocks += (rng.random((n_paths, hours)) < jump_p) * rng.normal(0.0, jump_sd, (n_paths, hours))
    x = x0.copy()
    for h in range(hours):  # one vector step per hour (a few thousand steps a year), not per row
        x = (1.0 - theta) * x + shocks[:, h]
        out[:, h] = x
    return out


def months(start: date, days: int) -> Iterator[tuple[date, date]]:
    """Half-open [first, end) month pieces of [start, start + days)."""
    end = start + timedelta(days=days)
    first = start
    while first < end:
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        yield first, min(nxt, end)
        first = min(nxt, end)


def generate(market: Market, days: int) -> Iterator[pl.DataFrame]:
    """The market's quotes, one frame per calendar month (deterministic for a seed)."""
    lay = market.layout()
    n_pairs = lay["venue"].size
    total_hours = 24 * days
    rng = np.random.default_rng([market.seed, 1])
    # hourly paths for the whole range are small (pairs x hours); rows are made month by month
    common = _ou(rng, market.series, total_hours + STALE_LAG_HOURS, 0.02, 0.01, 0.002, 0.08,
                 np.zeros(market.series))
    own = _ou(rng, n_pairs, total_hours + STALE_LAG_HOURS, 0.05, 0.006, 0.001, 0.05, np.zeros(n_pairs))
    log_pair = common[lay["series"]] + own  # (pairs, hours), hour index shifted by STALE_LAG_HOURS
    offsets = np.concatenate([[0], np.cumsum(lay["listings"])])
    n_listings = int(offsets[-1])
    pair_of_listing = np.repeat(np.arange(n_pairs), lay["listings"])
    k_of_listing = np.arange(n_listings) - offsets[pair_of_listing]
    premium = np.random.default_rng([market.seed, 2]).normal(0.0, 0.04, n_listings)
    gpu_count = np.where(np.random.default_rng([market.seed, 3]).random(n_listings) < 0.3, 8, 1).astype(np.int32)
    venue_names = np.array([f"sim-v{v:02d}" for v in range(market.venues)])
    offer_ids = np.char.add(np.char.add(venue_names[lay["venue"][pair_of_listing]], "-o"),
                            k_of_listing.astype(str))
    origin = datetime(market.start.year, market.start.month, market.start.day, tzinfo=UTC)
    origin_us = int(origin.timestamp() * 1_000_000)
    for first, end in months(market.start, days):
        h0, h1 = (first - market.start).days * 24, (end - market.start).days * 24
        hours = h1 - h0
        mrng = np.random.default_rng([market.seed, 10, first.year, first.month])
        listing = np.tile(np.arange(n_listings), hours)
        hour = np.repeat(np.arange(h0, h1), n_listings)
        n = listing.size
        pair = pair_of_listing[listing]
        lag = np.where(mrng.random(n) < STALE_SHARE, STALE_LAG_HOURS, 0)
        log_price = log_pair[pair, hour + STALE_LAG_HOURS - lag] + premium[listing]
        price = lay["level"][pair] * np.exp(log_price + mrng.normal(0.0, 0.01, n))
        u = mrng.random(n)
        price = np.where(u < OUTLIER_SHARE / 2, price * 100.0, np.where(u < OUTLIER_SHARE, price / 100.0, price))
        bad = mrng.random(n)
        price = np.where(bad < BAD_SHARE / 3, 0.0, np.where(bad < 2 * BAD_SHARE / 3, -price,
                                                            np.where(bad < BAD_SHARE, np.nan, price)))
        units = mrng.integers(1, 9, n).astype(np.int32)
        units = np.where((bad >= BAD_SHARE) & (bad < 1.5 * BAD_SHARE), 0, units).astype(np.int32)
        observed_us = origin_us + hour.astype(np.int64) * 3_600_000_000 + mrng.integers(0, 3_600_000_000, n)
        is_market = lay["venue"][pair] < market.n_markets
        base = {
            "observed_at": observed_us, "listing": listing, "price": price, "units": units, "is_market": is_market,
        }
        agg = mrng.random(n) < AGGREGATOR_SHARE
        dup = mrng.random(n) < EXACT_DUP_SHARE
        parts = [_frame(base, None, SOURCE, 0)]
        parts.append(_frame(base, agg, AGGREGATOR, 7_000_000))
        parts.append(_frame(base, dup, SOURCE, 0))
        raw = pl.concat(parts)
        yield _finish(raw, lay, pair_of_listing, venue_names, offer_ids, gpu_count).sort("observed_at")


def _frame(base: dict[str, np.ndarray], mask: np.ndarray | None, source: str, shift_us: int) -> pl.DataFrame:
    cols: dict[str, Any] = {k: (v if mask is None else v[mask]) for k, v in base.items()}
    cols["observed_at"] = cols["observed_at"] + shift_us
    return pl.DataFrame(cols).with_columns(source=pl.lit(source))


def _finish(raw: pl.DataFrame, lay: dict[str, np.ndarray], pair_of_listing: np.ndarray, venue_names: np.ndarray,
            offer_ids: np.ndarray, gpu_count: np.ndarray) -> pl.DataFrame:
    """Per-listing attributes gathered by index from small lookup series (no per-row strings made in numpy)."""
    pair = pair_of_listing
    lookup = pl.DataFrame({
        "venue": pl.Series(venue_names[lay["venue"][pair]].tolist(), dtype=pl.String),
        "offer_id": pl.Series(offer_ids.tolist(), dtype=pl.String),
        "gpu_model": pl.Series([f"SIM-GPU-{s}" for s in lay["series"][pair]], dtype=pl.String),
        "gpu_count": pl.Series(gpu_count, dtype=pl.Int32),
    })
    idx = raw["listing"].cast(pl.UInt32)
    market = raw["is_market"]
    price = raw["price"]
    count = lookup["gpu_count"].gather(idx)
    return pl.DataFrame({
        "observed_at": raw["observed_at"].cast(pl.Datetime("us", "UTC")),
        "source": raw["source"],
        "venue": lookup["venue"].gather(idx),
        "venue_class": pl.Series(["neocloud", "marketplace"], dtype=pl.String).gather(market.cast(pl.UInt32)),
        "offer_id": lookup["offer_id"].gather(idx),
        "gpu_model": lookup["gpu_model"].gather(idx),
        "gpu_count": count,
        "price_usd_per_hour": price * count,
        "price_usd_per_gpu_hour": price,
        "available_units": raw["units"],
        "tier": pl.Series(["T3", "T2"], dtype=pl.String).gather(market.cast(pl.UInt32)),
    }).with_columns(
        pricing_class=pl.lit("on_demand"), region=pl.lit(None, dtype=pl.String), price_basis=pl.lit("compute"),
        currency=pl.lit("USD"), dataset=pl.lit(DATASET), raw_sha256=pl.lit(None, dtype=pl.String),
    ).with_columns([pl.col(c).cast(GPU_QUOTE_SCHEMA[c]) for c in COLUMNS]).select(COLUMNS)


def benchmark_definitions(series: int = 10, hysteresis: bool = False) -> Definitions:
    """Series ``SIM.S<s>`` over the simulated market with the default v1 rules, except that list
    prices (the clouds' T3 rows) use the 2-hour window too and, unless ``hysteresis``, a venue
    is readmitted at the exclusion limit (readmit_k = venue_filter_k: no hysteresis band)."""
    fields: dict[str, Any] = {"kind": "gpu", "unit": "USD/GPU-hour", "pricing_classes": ["on_demand"],
                              "venue_classes": ["neocloud", "marketplace"], "window_hours": 2,
                              "list_price_window_hours": 2, "estimator": "median_of_venue_medians",
                              "readmit_k": 1.5 if hysteresis else 3.0}
    indices = [IndexDefinition(id=f"SIM.S{s}", gpu_models=[f"SIM-GPU-{s}"], **fields) for s in range(series)]
    return Definitions(version="sim", methodology="1.0.0", indices=indices)


def simulate(store: Any, market: Market, days: int, bulk: bool = True,
             on_month: Any = None) -> dict[str, int]:
    """Write the market into ``store`` month by month; returns rows generated and rows added.

    ``bulk`` uses ``Store.bulk_insert_gpu_quotes`` (deduplicate, then append); otherwise the
    ordinary ``insert_frame`` path. Running it twice adds nothing.
    """
    generated = added = 0
    for frame in generate(market, days):
        with store.write() as con:
            n = (store.bulk_insert_gpu_quotes(con, frame) if bulk
                 else store.insert_frame(con, "gpu_quotes", frame))
        generated += frame.height
        added += n
        if on_month is not None:
            on_month(frame["observed_at"].min(), frame.height, n)
    return {"generated": generated, "added": added}
