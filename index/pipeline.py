"""From stored quotes to hourly fixings and daily values: pure polars, no I/O.

Methodology v0.1 (METHODOLOGY.md). Stages, each a function on lazy frames so that an
analyst can run any of them on any frame, and the methodology issue can replace one
stage without touching the others:

1. ``observations``  - quotes and token prices mapped to the series they feed (join with
   the definitions table), one price per row, with the eligibility window of its tier.
2. ``eligible``      - each observation attached to every hourly fixing whose window
   contains it; one row per offer per fixing (the latest observation of that offer).
3. ``venue_medians`` - one price per venue per fixing: the median of its eligible quotes.
4. ``fixings``       - the headline (median of venue medians) and its diagnostics.
5. ``daily``         - the day's value: the mean of its hourly fixings.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import polars as pl

from index.definitions import Definitions, gpu_join_table, token_join_table
from index.precedence import prefer_first_party

UTC_TIME = pl.Datetime("us", "UTC")
OBS_SCHEMA = pl.Schema({
    "index_id": pl.String(), "observed_at": UTC_TIME, "source": pl.String(), "venue": pl.String(),
    "offer_id": pl.String(), "price": pl.Float64(), "window_hours": pl.Float64(),
})
MIN_VENUES_NORMAL = 5
MIN_VENUES_LOW = 3
MIN_FIXINGS_NORMAL = 18
MIN_FIXINGS_LOW = 12


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def lookback(defs: Definitions) -> timedelta:
    """How far before a day's first fixing the inputs may lie (the longest window)."""
    longest = max([d.list_price_window_hours for d in defs.indices] + [d.window_hours for d in defs.indices] + [0])
    return timedelta(hours=longest)


def observations(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions) -> pl.LazyFrame:
    """Every stored row that feeds a defined series, as (index_id, observed_at, venue, offer, price)."""
    parts = []
    gpu_defs = defs.gpu()
    if gpu_defs:
        table = gpu_join_table(gpu_defs).lazy()
        parts.append(
            gpu_quotes.join(table, on=["gpu_model", "pricing_class", "venue_class"], how="inner")
            .select(
                "index_id", "observed_at", "source", "venue", "offer_id",
                pl.col("price_usd_per_gpu_hour").alias("price"),
                # list prices (tier T3) stay valid longer than executable listings
                pl.when(pl.col("tier") == "T3").then(pl.col("list_price_window_hours"))
                .otherwise(pl.col("window_hours")).alias("window_hours"),
            )
        )
    token_defs = defs.token()
    if token_defs:
        table = token_join_table(token_defs).lazy()
        price = (
            pl.when(pl.col("price_side") == "input").then(pl.col("usd_per_mtok_input"))
            .when(pl.col("price_side") == "output").then(pl.col("usd_per_mtok_output"))
            .when(pl.col("price_side") == "cached_input").then(pl.col("usd_per_mtok_cached_input"))
            .otherwise((3 * pl.col("usd_per_mtok_input") + pl.col("usd_per_mtok_output")) / 4)
        )
        parts.append(
            token_prices.join(table, on="model", how="inner")
            .select(
                "index_id", "observed_at", "source", pl.col("provider").alias("venue"),
                pl.concat_str([pl.col("provider"), pl.col("source_model_id")], separator="|").alias("offer_id"),
                price.alias("price"), pl.col("list_price_window_hours").alias("window_hours"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=OBS_SCHEMA).lazy()
    return pl.concat([p.cast(OBS_SCHEMA) for p in parts]).filter(
        pl.col("price").is_not_null() & pl.col("price").is_finite() & (pl.col("price") > 0)
    )


def eligible(obs: pl.LazyFrame, start: datetime, end: datetime) -> pl.LazyFrame:
    """Attach each observation to the fixings in [start, end) whose window holds it.

    An observation at time t is eligible for fixing h when h - window < t <= h. Each offer
    counts once per fixing, with its latest eligible observation; where a venue's own API has
    quotes at a fixing, other sources' reports of that venue are dropped (index.precedence).
    """
    first_fix = (
        pl.when(pl.col("observed_at") == pl.col("observed_at").dt.truncate("1h"))
        .then(pl.col("observed_at"))
        .otherwise(pl.col("observed_at").dt.truncate("1h") + pl.duration(hours=1))
    )
    window_end = pl.col("observed_at") + pl.duration(microseconds=(pl.col("window_hours") * 3.6e9).cast(pl.Int64))
    keys = ["index_id", "fixing_time", "source", "offer_id"]
    return (
        obs.with_columns(
            fixing_time=pl.datetime_ranges(first_fix, window_end, interval="1h", closed="left", time_zone="UTC")
        )
        .explode("fixing_time")
        .filter(pl.col("fixing_time").is_not_null())
        .filter((pl.col("fixing_time") >= start) & (pl.col("fixing_time") < end))
        .filter(pl.col("observed_at") == pl.col("observed_at").max().over(keys))
        .unique(subset=keys, keep="first", maintain_order=False)
        .pipe(prefer_first_party)  # a venue's own API wins over aggregators' reports of it
    )


def venue_medians(elig: pl.LazyFrame) -> pl.LazyFrame:
    """One price per venue per fixing: a venue with 5,000 listings counts once."""
    return elig.group_by("index_id", "fixing_time", "venue").agg(
        venue_median=pl.col("price").median(),
        n_quotes=pl.len().cast(pl.Int32),
    )


def _inputs_hash(elig: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """sha256 of the sorted input rows (source|offer|observed_at|price) of each group."""
    line = pl.format("{}|{}|{}|{}", "source", "offer_id", pl.col("observed_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ"),
                     pl.col("price").round(12))
    return (
        elig.group_by(by)
        .agg(line.sort().str.join("\n").alias("_lines"))
        .with_columns(
            inputs_hash=pl.col("_lines").map_elements(lambda s: hashlib.sha256(s.encode()).hexdigest(),
                                                      return_dtype=pl.String)
        )
        .drop("_lines")
    )


def status_from_venues(n_venues: pl.Expr) -> pl.Expr:
    return (
        pl.when(n_venues >= MIN_VENUES_NORMAL).then(pl.lit("NORMAL"))
        .when(n_venues >= MIN_VENUES_LOW).then(pl.lit("LOW_CONFIDENCE"))
        .otherwise(pl.lit("CONTINGENCY"))
    )


def fixings(elig: pl.LazyFrame, version: str) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Hourly fixings and the venue table behind them (every venue included in v0.1)."""
    vm = venue_medians(elig)
    fx = (
        vm.group_by("index_id", "fixing_time")
        .agg(
            value=pl.col("venue_median").median(),
            p25=pl.col("venue_median").quantile(0.25, "linear"),
            p75=pl.col("venue_median").quantile(0.75, "linear"),
            min=pl.col("venue_median").min(),
            max=pl.col("venue_median").max(),
            n_venues=pl.len().cast(pl.Int32),
            n_quotes=pl.col("n_quotes").sum().cast(pl.Int32),
            largest_venue_share=(pl.col("n_quotes").max() / pl.col("n_quotes").sum()),
        )
        .with_columns(
            conf=pl.max_horizontal(pl.col("value") - pl.col("p25"), pl.col("p75") - pl.col("value")),
            trimmed_mean=pl.lit(None, dtype=pl.Float64),
            excluded=pl.lit("[]"),
            status=status_from_venues(pl.col("n_venues")),
            methodology_version=pl.lit(version),
        )
        .join(_inputs_hash(elig, ["index_id", "fixing_time"]), on=["index_id", "fixing_time"], how="left")
    )
    venues = vm.with_columns(included=pl.lit(True), exclusion_reason=pl.lit(None, dtype=pl.String))
    return fx, venues


def daily(fx: pl.LazyFrame, elig: pl.LazyFrame, units: dict[str, str], version: str) -> pl.LazyFrame:
    """The day's value per series: mean of its hourly fixings, with sufficiency status."""
    day_elig = elig.with_columns(date=pl.col("fixing_time").dt.date())
    counts = day_elig.group_by("index_id", "date").agg(
        n_venues=pl.col("venue").n_unique().cast(pl.Int32),
        n_quotes=pl.struct("source", "offer_id", "observed_at").n_unique().cast(pl.Int32),
    )
    hashes = (
        fx.with_columns(date=pl.col("fixing_time").dt.date())
        .group_by("index_id", "date")
        .agg(pl.col("inputs_hash").sort().str.join(",").alias("_h"))
        .with_columns(inputs_hash=pl.col("_h").map_elements(lambda s: hashlib.sha256(s.encode()).hexdigest(),
                                                            return_dtype=pl.String))
        .drop("_h")
    )
    unit_table = pl.DataFrame({"index_id": list(units), "unit": list(units.values())}, schema={
        "index_id": pl.String, "unit": pl.String}).lazy()
    return (
        fx.with_columns(date=pl.col("fixing_time").dt.date())
        .group_by("index_id", "date")
        .agg(
            # sorted before summing: the same inputs give the same bits whatever the row order
            value=pl.col("value").sort().mean(),
            p25=pl.col("p25").sort().mean(),
            p75=pl.col("p75").sort().mean(),
            conf=pl.col("conf").sort().mean(),
            n_fixings=pl.len().cast(pl.Int32),
            n_normal=(pl.col("status") == "NORMAL").sum(),
            n_valid=(pl.col("status") != "CONTINGENCY").sum(),
        )
        .join(counts, on=["index_id", "date"], how="left")
        .join(hashes, on=["index_id", "date"], how="left")
        .join(unit_table, on="index_id", how="left")
        .with_columns(
            status=pl.when(pl.col("n_normal") >= MIN_FIXINGS_NORMAL).then(pl.lit("NORMAL"))
            .when(pl.col("n_valid") >= MIN_FIXINGS_LOW).then(pl.lit("LOW_CONFIDENCE"))
            .otherwise(pl.lit("CONTINGENCY")),
            methodology_version=pl.lit(version),
        )
        .drop("n_normal", "n_valid")
    )


def compute_day(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions, day: date
                ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Fixings, venue medians and daily values for one UTC day (frames, collected)."""
    start, end = day_bounds(day)
    elig = eligible(observations(gpu_quotes, token_prices, defs), start, end).cache()
    fx, venues = fixings(elig, defs.methodology)
    units = {d.id: d.unit for d in defs.indices}
    dv = daily(fx, elig, units, defs.methodology)
    fx_df, venues_df, dv_df = pl.collect_all([fx, venues, dv])
    return (fx_df.sort("index_id", "fixing_time"), venues_df.sort("index_id", "fixing_time", "venue"),
            dv_df.sort("index_id", "date"))
