"""From stored quotes to hourly fixings and daily values: methodology v1, pure polars, no I/O.

METHODOLOGY.md is the full text of the rules; each function below names the section it
implements. Stages, each a function on lazy frames (an analyst can run any of them on any
frame), and no Python runs per series, fixing or venue:

1. ``observations``     - quotes and token prices mapped to the series they feed (§3, §4.1).
2. ``gross_reference``  - each series' trailing 7-day reference: median of venue medians (§4.2).
3. ``eligible``         - each observation attached to the hourly fixings whose window holds it;
                          one row per offer per fixing, its latest observation (§4.1).
4. ``gross_filter``     - quotes outside [0.1x, 10x] of the reference dropped, reason kept (§4.2).
5. ``venue_table``      - one median per venue (§4.3).
6. ``venue_filter``     - venues beyond 3.0 scaled MADs excluded, readmitted within 1.5 (§4.4).
7. ``determine``        - the series' estimator over included venues, diagnostics, excluded
                          venues as JSON, status (§4.5, §4.6).
8. ``carry_fixings``    - CONTINGENCY fixings carry the last valid value, flagged (§4.6).
9. ``daily``            - the day's value from its fixings with the sufficiency rules (§5);
   ``pooled``           - or one determination over a pooled window (§5.3);
   ``carry_days``       - CONTINGENCY carries the last valid day for at most 3 days, then
                          SUSPENDED (§5.2).

State that crosses a day boundary (the last valid fixing and day, the venues excluded at the
last fixing of the previous day) is passed in explicitly as a ``Prior``: the functions stay
pure and a recomputation from the same rows and the same prior gives the same bits.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from index import estimators
from index.definitions import Definitions, IndexDefinition, gpu_join_table, token_join_table
from index.precedence import prefer_first_party

UTC_TIME = pl.Datetime("us", "UTC")
OBS_SCHEMA = pl.Schema({
    "index_id": pl.String(), "observed_at": UTC_TIME, "source": pl.String(), "venue": pl.String(),
    "offer_id": pl.String(), "price": pl.Float64(), "window_hours": pl.Float64(), "capacity": pl.Float64(),
})
# The gpu_quotes columns the pipeline reads (observations, eligibility, first-party rule).
GPU_INPUT_COLUMNS = ("observed_at", "source", "venue", "venue_class", "offer_id", "gpu_model", "gpu_count",
                     "price_usd_per_gpu_hour", "pricing_class", "available_units", "tier")
VALID_STATUSES = ("NORMAL", "LOW_CONFIDENCE")
MAD_SCALE = 1.4826  # makes the MAD a consistent estimator of the standard deviation for normal data
DIAGNOSTIC_TRIM = 0.25  # the published 25%/25% trimmed mean

# The rule fields of a definition that enter the params table and the inputs hash.
RULE_FIELDS = ("window", "window_hours", "list_price_window_hours", "pool_days", "min_observations", "gross_low",
               "gross_high", "gross_days", "venue_filter_k", "venue_filter_min_venues", "readmit_k", "mad_floor",
               "min_venues_normal", "min_venues_low", "min_fixings_normal", "min_fixings_low", "carry_days",
               "carry_fixing_hours")

PRIOR_FIXING_SCHEMA = pl.Schema({"index_id": pl.String(), "fixing_time": UTC_TIME, "value": pl.Float64()})
PRIOR_VENUE_SCHEMA = pl.Schema({"index_id": pl.String(), "venue": pl.String()})
PRIOR_DAY_SCHEMA = pl.Schema({"index_id": pl.String(), "date": pl.Date(), "value": pl.Float64()})
# The text keys that run_days joins and groups on. Inside a run they are Categorical (joins and
# group-bys on the physical integers, about twice as fast as on text over millions of rows);
# every frame it returns has them as String again. Categoricals sort and format as their text,
# so orders, JSON and inputs hashes are the same bits either way.
KEY_COLUMNS = ("index_id", "source", "venue", "offer_id")


def as_categorical(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with its key columns (those of KEY_COLUMNS it has) as Categorical."""
    names = frame.collect_schema().names()
    return frame.with_columns([pl.col(c).cast(pl.Categorical) for c in KEY_COLUMNS if c in names])


def as_strings(frame: pl.LazyFrame) -> pl.LazyFrame:
    """``frame`` with its key columns as String (what run_days returns)."""
    names = frame.collect_schema().names()
    return frame.with_columns([pl.col(c).cast(pl.String) for c in KEY_COLUMNS if c in names])


def _ids(defs: list[IndexDefinition], like: pl.LazyFrame) -> pl.LazyFrame:
    """The series ids of ``defs`` as a frame, typed like ``like``'s index_id (String or Categorical)."""
    return pl.LazyFrame({"index_id": [d.id for d in defs]}, schema={"index_id": pl.String}).with_columns(
        pl.col("index_id").cast(like.collect_schema()["index_id"]))


@dataclass(frozen=True)
class Prior:
    """What a day needs from the days before it (read from the store by the jobs).

    - ``last_valid_fixing``: per series, the last NORMAL/LOW_CONFIDENCE fixing before the day
      (index_id, fixing_time, value), for fixing carry-forward;
    - ``excluded_venues``: per series, the venues the venue filter excluded at the fixing one
      hour before the day's first (index_id, venue), for readmission hysteresis;
    - ``last_valid_day``: per series, the last NORMAL/LOW_CONFIDENCE daily value before the
      day (index_id, date, value), for daily carry-forward.
    """

    last_valid_fixing: pl.DataFrame
    excluded_venues: pl.DataFrame
    last_valid_day: pl.DataFrame

    @classmethod
    def empty(cls) -> Prior:
        return cls(pl.DataFrame(schema=PRIOR_FIXING_SCHEMA), pl.DataFrame(schema=PRIOR_VENUE_SCHEMA),
                   pl.DataFrame(schema=PRIOR_DAY_SCHEMA))

    def advance(self, fixings: pl.DataFrame, venues: pl.DataFrame, values: pl.DataFrame,
                defs: Definitions, next_day: date) -> Prior:
        """The prior state of ``next_day`` from this one and the day just computed (pure).

        What ``index.ledger.day_state`` would read back from the store once the day is
        written, so a backfill can run many days in memory and still carry forward and
        keep hysteresis exactly as the daily job does.
        """
        start, _ = day_bounds(next_day)
        fix_hours = max([d.carry_fixing_hours for d in defs.indices] + [0])
        back_days = max([d.carry_days for d in defs.indices] + [0])
        valid_fx = (fixings.filter(pl.col("status").is_in(VALID_STATUSES) & pl.col("value").is_not_null())
                    .select(list(PRIOR_FIXING_SCHEMA)).cast(PRIOR_FIXING_SCHEMA))
        last_fx = (pl.concat([self.last_valid_fixing, valid_fx])
                   .filter(pl.col("fixing_time") >= start - timedelta(hours=fix_hours))
                   .sort("fixing_time").group_by("index_id").last().select(list(PRIOR_FIXING_SCHEMA)))
        last_hour = start - timedelta(hours=1)
        excluded = (venues.filter((pl.col("fixing_time") == last_hour) & ~pl.col("included")
                                  & pl.col("exclusion_reason").str.contains("^(venue_filter|hysteresis):"))
                    .select(list(PRIOR_VENUE_SCHEMA)).unique()) if venues.height else self.excluded_venues.clear()
        valid_days = (values.filter(pl.col("status").is_in(VALID_STATUSES) & pl.col("value").is_not_null())
                      .select(list(PRIOR_DAY_SCHEMA)).cast(PRIOR_DAY_SCHEMA))
        last_day = (pl.concat([self.last_valid_day, valid_days])
                    .filter(pl.col("date") >= next_day - timedelta(days=back_days))
                    .sort("date").group_by("index_id").last().select(list(PRIOR_DAY_SCHEMA)))
        return Prior(last_fx, excluded.cast(PRIOR_VENUE_SCHEMA), last_day)


@dataclass
class DayResult:
    """Everything one day's computation produced (``compute_day`` returns the first three).

    ``quotes`` and ``venues`` hold every candidate with the reason it was dropped, which is
    what ``spotindex audit`` prints. Pooled series appear in ``pooled_quotes`` and
    ``pooled_venues`` (keyed by date, not fixing time) and have no hourly fixings.
    """

    fixings: pl.DataFrame
    venues: pl.DataFrame
    values: pl.DataFrame
    quotes: pl.DataFrame
    pooled_quotes: pl.DataFrame
    pooled_venues: pl.DataFrame


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def lookback(defs: Definitions) -> timedelta:
    """How far before a day's first fixing the inputs may lie (longest window, reference, pool)."""
    hours = [0.0]
    for d in defs.indices:
        hours += [d.window_hours, d.list_price_window_hours, 24.0 * d.gross_days, 24.0 * (d.pool_days - 1)]
    return timedelta(hours=max(hours))


def params_table(defs: Definitions) -> pl.DataFrame:
    """One row per series with its rule parameters (joined onto frames: per-series rules stay vectorised)."""
    rows = []
    for d in defs.indices:
        rules = {f: getattr(d, f) for f in RULE_FIELDS}
        rows.append({"index_id": d.id, "unit": d.unit, "estimator": d.estimator,
                     "rules": json.dumps({**rules, "estimator": d.estimator, "params": d.params}, sort_keys=True),
                     **{f: getattr(d, f) for f in RULE_FIELDS if f != "window"}})
    schema = {"index_id": pl.String, "unit": pl.String, "estimator": pl.String, "rules": pl.String,
              **{f: pl.Float64 for f in RULE_FIELDS if f != "window"}}
    return pl.DataFrame(rows, schema=schema)


# ---- 1. observations ---------------------------------------------------------------------------

def observations(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions) -> pl.LazyFrame:
    """Every stored row that feeds a defined series, as (index_id, observed_at, venue, offer, price).

    A price that is null, NaN, infinite or not positive cannot be an input and is dropped
    here (validation quarantines such rows at the edge; this is the second line). An offer
    with ``available_units == 0`` is not available and is dropped; null means the source
    does not say.
    """
    parts = []
    gpu_defs = defs.gpu()
    if gpu_defs:
        table = gpu_join_table(gpu_defs).lazy()
        units = pl.col("available_units").cast(pl.Float64)
        parts.append(
            gpu_quotes.filter(pl.col("available_units").is_null() | (pl.col("available_units") > 0))
            .join(table, on=["gpu_model", "pricing_class", "venue_class"], how="inner")
            .select(
                "index_id", "observed_at", "source", "venue", "offer_id",
                pl.col("price_usd_per_gpu_hour").alias("price"),
                # list prices (tier T3) stay valid longer than executable listings
                pl.when(pl.col("tier") == "T3").then(pl.col("list_price_window_hours"))
                .otherwise(pl.col("window_hours")).alias("window_hours"),
                (pl.col("gpu_count").cast(pl.Float64).fill_null(1.0) * units.fill_null(1.0)).alias("capacity"),
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
                pl.lit(1.0).alias("capacity"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=OBS_SCHEMA).lazy()
    return pl.concat([p.cast(OBS_SCHEMA) for p in parts]).filter(
        pl.col("price").is_not_null() & pl.col("price").is_finite() & (pl.col("price") > 0)
    )


# ---- 2. gross filter reference -----------------------------------------------------------------

def gross_references(obs: pl.LazyFrame, params: pl.LazyFrame, first: date, end: date, max_days: int
                     ) -> pl.LazyFrame:
    """Per series and day in [first, end): the median across venues of each venue's median price
    over the ``gross_days`` UTC days before the day (every fixing of the day uses the same
    reference). Columns: index_id, date, gross_reference.

    Each venue's prices are gathered once per UTC day (a list), and a day's window is the
    concatenation of the lists of the days before it, so a month of references costs one pass
    over the rows, not one per day of the look-back.
    """
    lo, hi = day_bounds(first - timedelta(days=max_days))[0], day_bounds(end - timedelta(days=1))[0]
    vkeys = ["index_id", "venue"]
    per_day = (obs.filter((pl.col("observed_at") >= lo) & (pl.col("observed_at") < hi))
               .with_columns(date=pl.col("observed_at").dt.date())
               .group_by(*vkeys, "date").agg(_p=pl.col("price")))
    dates = pl.LazyFrame({"date": pl.date_range(first - timedelta(days=max_days), end - timedelta(days=1),
                                                eager=True)})
    empty = pl.lit([], dtype=pl.List(pl.Float64))
    window = pl.concat_list([
        pl.when(pl.lit(k) <= pl.col("gross_days"))
        .then(pl.col("_p").shift(k).over(vkeys, order_by="date").fill_null(empty)).otherwise(empty)
        for k in range(1, max_days + 1)]) if max_days > 0 else empty
    return (
        per_day.select(vkeys).unique().join(dates, how="cross")
        .join(per_day, on=[*vkeys, "date"], how="left")
        .join(params.select("index_id", "gross_days"), on="index_id", how="inner")
        .with_columns(_m=window.list.median())
        .filter(pl.col("date") >= first)
        .group_by("index_id", "date").agg(gross_reference=pl.col("_m").median())
    )


def max_gross_days(defs: Definitions) -> int:
    return max([int(d.gross_days) for d in defs.indices] + [0])


# ---- 3. eligibility ----------------------------------------------------------------------------

def eligible(obs: pl.LazyFrame, start: datetime, end: datetime) -> pl.LazyFrame:
    """Attach each observation to the fixings in [start, end) it is the offer's price for.

    An offer's price at fixing h is its latest observation at or before h, if that observation
    is within the series' window (h - window < t <= h); an older observation of the same offer
    is stale. So an observation at t feeds the fixings h with t <= h < t + window and h before
    the offer's next observation: each row is expanded once, only over the hours it is the
    latest (two observations of one offer at the same instant: the higher price, so the result
    never depends on row order). Where a venue's own API has quotes at a fixing, other sources'
    reports of that venue are dropped (index.precedence: first-party wins, never counted twice).
    """
    # the first whole UTC hour at or after t, on the microsecond count (UTC: no calendar needed)
    hour_us = 3_600_000_000
    first_fix = ((pl.col("observed_at").cast(pl.Int64) + (hour_us - 1)) // hour_us * hour_us).cast(UTC_TIME)
    window_end = pl.col("observed_at") + pl.duration(microseconds=(pl.col("window_hours") * 3.6e9).cast(pl.Int64))
    offer = ["index_id", "source", "offer_id"]
    nxt = pl.col("observed_at").shift(-1).over(offer, order_by=["observed_at", "price"])
    return (
        # rows older than the longest window before start can neither feed a fixing nor be the
        # next observation of one that does
        obs.filter((pl.col("observed_at") < end)
                   & (pl.col("observed_at") + pl.duration(microseconds=(pl.col("window_hours").max() * 3.6e9)
                                                         .cast(pl.Int64)) > start))
        .with_columns(_ff=pl.max_horizontal(first_fix, pl.lit(start).cast(UTC_TIME)),
                      _stop=pl.min_horizontal(window_end, nxt.fill_null(window_end), pl.lit(end).cast(UTC_TIME)))
        .filter(pl.col("_ff") < pl.col("_stop"))
        # hours from _ff to _stop (most rows feed one fixing: the offer is seen again within the hour)
        .with_columns(_k=pl.int_ranges(0, ((pl.col("_stop") - pl.col("_ff")).dt.total_microseconds() + 3_599_999_999)
                                       // 3_600_000_000, dtype=pl.Int64))
        .explode("_k")
        .with_columns(fixing_time=pl.col("_ff") + pl.duration(hours=pl.col("_k")))
        .drop("_ff", "_stop", "_k")
        .pipe(prefer_first_party)  # a venue's own API wins over aggregators' reports of it
    )


# ---- 4. gross filter ---------------------------------------------------------------------------

def _num(expr: pl.Expr, digits: int = 4) -> pl.Expr:
    return expr.round(digits).cast(pl.String).fill_null("none")


def gross_filter(quotes: pl.LazyFrame, reference: pl.LazyFrame, params: pl.LazyFrame, reasons: bool = True
                 ) -> pl.LazyFrame:
    """Mark quotes outside [gross_low x, gross_high x] of the reference (``gross_ok``, and with
    ``reasons`` the text ``gross_reason``: only the audit's detail shows it, and formatting it
    over millions of rows is a tenth of a month's recompute).

    ``reference`` is per series and day (``gross_references``); a quote's day is its group's
    ``date`` (pooled windows) or its fixing's UTC date. Without a reference (no history in the
    trailing window) nothing is dropped.
    """
    day = pl.col("date") if "date" in quotes.collect_schema().names() else pl.col("fixing_time").dt.date()
    ref = pl.col("gross_reference")
    price = pl.col("price")
    ok = ref.is_null() | ((price >= pl.col("gross_low") * ref) & (price <= pl.col("gross_high") * ref))
    return (
        quotes.with_columns(_d=day).join(reference.rename({"date": "_d"}), on=["index_id", "_d"], how="left")
        .drop("_d")
        .join(params.select("index_id", "gross_low", "gross_high", "gross_days"), on="index_id", how="left")
        .with_columns(gross_ok=ok)
        .with_columns([pl.when(~pl.col("gross_ok")).then(pl.format(
            "gross_filter: price {} outside [{}x, {}x] of the {}-day reference {}", _num(pl.col("price")),
            _num(pl.col("gross_low")), _num(pl.col("gross_high")), pl.col("gross_days").cast(pl.Int64),
            _num(ref))).alias("gross_reason")] if reasons else [])
        .drop("gross_low", "gross_high", "gross_days")
    )


# ---- 5. one median per venue -------------------------------------------------------------------

def venue_table(quotes: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """One price per venue per group: the median of its quotes that passed the gross filter.

    A venue with 5,000 listings counts once; a venue with one quote counts once too. A venue
    whose every quote failed the gross filter has a null median (and is excluded).
    """
    ok = pl.col("gross_ok")
    return quotes.group_by(*keys, "venue").agg(
        venue_median=pl.col("price").filter(ok).median(),
        n_quotes=ok.sum().cast(pl.Int32),
        n_dropped=(~ok).sum().cast(pl.Int32),
        capacity=pl.col("capacity").filter(ok).sum(),
        gross_reference=pl.col("gross_reference").first(),
    )


# ---- 6. venue filter with readmission hysteresis -----------------------------------------------

def venue_filter(venues: pl.LazyFrame, keys: list[str], params: pl.LazyFrame,
                 prior_excluded: pl.LazyFrame | None = None, first_fixing: datetime | None = None) -> pl.LazyFrame:
    """Exclude venues more than ``venue_filter_k`` scaled MADs from the cross-venue median.

    scale = max(1.4826 x MAD, mad_floor x |median|): when more than half the venues quote the
    same price the MAD is 0 and the floor keeps ordinary dispersion in. Hysteresis (hourly
    fixings, ``prior_excluded`` given): a venue the filter excluded at the previous fixing
    (the fixing one hour earlier, where it also had a price) is readmitted only when within
    ``readmit_k`` scaled MADs. Between the two limits a venue keeps its previous state, so the
    state is the last decisive verdict (> k: out, <= readmit: in) within the venue's unbroken
    run of hourly fixings: a forward fill, no loop. With fewer than ``venue_filter_min_venues``
    venue prices (default 5) nobody is excluded: a MAD of three or four numbers cannot tell a
    liar from a price move (two venues that cut first would expel the one that has not), and
    the median already bounds what one venue can do.
    """
    vm = pl.col("venue_median")
    dev = (vm - pl.col("center")).abs()
    frame = (
        venues.join(params.select("index_id", "venue_filter_k", "venue_filter_min_venues", "readmit_k", "mad_floor",
                                  "gross_low", "gross_high", "gross_days"), on="index_id", how="left")
        .with_columns(center=vm.median().over(keys), _n_priced=vm.count().over(keys))
        .with_columns(mad=dev.median().over(keys))
        .with_columns(scale=pl.max_horizontal(MAD_SCALE * pl.col("mad"), pl.col("mad_floor") * pl.col("center").abs()))
        .with_columns(distance=pl.when(pl.col("scale") > 0).then(dev / pl.col("scale"))
                      .when(dev == 0).then(0.0).otherwise(float("inf")))
        .with_columns(decisive=pl.when(vm.is_null()).then(False)
                      .when(pl.col("_n_priced") < pl.col("venue_filter_min_venues")).then(False)
                      .when(pl.col("distance") > pl.col("venue_filter_k")).then(True)
                      .when(pl.col("distance") <= pl.col("readmit_k")).then(False)
                      .otherwise(pl.lit(None, dtype=pl.Boolean)))
    )
    if prior_excluded is None or first_fixing is None:
        frame = frame.with_columns(state=pl.col("decisive").fill_null(False), prev_state=pl.lit(False))
    else:
        seed = prior_excluded.select(
            "index_id", "venue", fixing_time=pl.lit(first_fixing - timedelta(hours=1)).cast(UTC_TIME),
            decisive=pl.lit(True), _seed=pl.lit(True))
        vkeys = ["index_id", "venue"]
        frame = (
            pl.concat([frame.with_columns(_seed=pl.lit(False)), seed], how="diagonal_relaxed")
            .with_columns(_gap=(pl.col("fixing_time").diff().over(vkeys, order_by="fixing_time")
                                != pl.duration(hours=1)).fill_null(True))
            .with_columns(_run=pl.col("_gap").cast(pl.Int32).cum_sum().over(vkeys, order_by="fixing_time"))
            .with_columns(state=pl.col("decisive").forward_fill().over([*vkeys, "_run"], order_by="fixing_time")
                          .fill_null(False))
            .with_columns(prev_state=pl.col("state").shift(1).over([*vkeys, "_run"], order_by="fixing_time")
                          .fill_null(False))
            .filter(~pl.col("_seed"))
            .drop("_seed", "_gap", "_run")
        )
    reason = (
        pl.when(vm.is_null()).then(pl.format(
            "gross_filter: all {} quotes outside [{}x, {}x] of the {}-day reference {}", pl.col("n_dropped"),
            _num(pl.col("gross_low")), _num(pl.col("gross_high")), pl.col("gross_days").cast(pl.Int64),
            _num(pl.col("gross_reference"))))
        .when(pl.col("state") & pl.col("decisive").fill_null(False)).then(pl.format(
            "venue_filter: {} scaled MADs from the cross-venue median {} (limit {})", _num(pl.col("distance"), 2),
            _num(pl.col("center")), _num(pl.col("venue_filter_k"), 2)))
        .when(pl.col("state")).then(pl.format(
            "hysteresis: excluded at the previous fixing and {} scaled MADs from the cross-venue median {} "
            "(readmitted within {})", _num(pl.col("distance"), 2), _num(pl.col("center")),
            _num(pl.col("readmit_k"), 2)))
    )
    return frame.with_columns(
        included=vm.is_not_null() & ~pl.col("state"),
        exclusion_reason=reason,
    ).drop("venue_filter_k", "venue_filter_min_venues", "_n_priced", "readmit_k", "mad_floor", "gross_low",
           "gross_high", "gross_days", "mad", "decisive", "state")


# ---- 7. determination: estimator, diagnostics, exclusions, status ------------------------------

def _estimate(venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str], defs: list[IndexDefinition]
              ) -> pl.LazyFrame:
    """Apply each series' estimator; series sharing an estimator and parameters share one call."""
    groups: dict[str, list[IndexDefinition]] = {}
    for d in defs:
        groups.setdefault(d.estimator_key(), []).append(d)
    parts = []
    for members in groups.values():
        ids = [d.id for d in members]
        first = members[0]
        parts.append(estimators.apply(first.estimator, venues.filter(pl.col("index_id").is_in(ids)),
                                      quotes.filter(pl.col("index_id").is_in(ids)), keys, first.params))
    if not parts:
        return venues.select(*keys).head(0).with_columns(value=pl.lit(None, dtype=pl.Float64))
    return pl.concat(parts)


def determine(quotes: pl.LazyFrame, venues: pl.LazyFrame, keys: list[str], defs: list[IndexDefinition],
              params: pl.LazyFrame) -> pl.LazyFrame:
    """Headline value, diagnostics and the excluded venues of each group that has any quote.

    Diagnostics are over the included venue medians: p25, p50, p75 (linear interpolation),
    conf = max(p50 - p25, p75 - p50), the 25% trimmed mean, min, max, n_venues, n_quotes and
    the largest venue's share of the included listings.
    """
    inc = venues.filter(pl.col("included"))
    inc_quotes = quotes.filter(pl.col("gross_ok")).join(inc.select(*keys, "venue"), on=[*keys, "venue"], how="semi")
    diag = inc.group_by(keys).agg(
        p50=pl.col("venue_median").median(),
        p25=pl.col("venue_median").quantile(0.25, "linear"),
        p75=pl.col("venue_median").quantile(0.75, "linear"),
        trimmed_mean=estimators.trimmed_mean_expr("venue_median", DIAGNOSTIC_TRIM),
        min=pl.col("venue_median").min(),
        max=pl.col("venue_median").max(),
        n_venues=pl.len().cast(pl.Int32),
        n_quotes=pl.col("n_quotes").sum().cast(pl.Int32),
        largest_venue_share=pl.col("n_quotes").max().cast(pl.Float64) / pl.col("n_quotes").sum().cast(pl.Float64),
    ).with_columns(conf=pl.max_horizontal(pl.col("p50") - pl.col("p25"), pl.col("p75") - pl.col("p50")))
    note = pl.when(~pl.col("included")).then(pl.col("exclusion_reason")).otherwise(pl.format(
        "gross_filter: {} of {} quotes dropped, venue kept", pl.col("n_dropped"),
        pl.col("n_dropped") + pl.col("n_quotes")))
    entry = pl.struct(
        pl.col("venue"), pl.col("included"), pl.col("venue_median"), pl.col("n_quotes"), pl.col("n_dropped"),
        note.alias("reason")).struct.json_encode()
    excluded = (
        venues.filter(~pl.col("included") | (pl.col("n_dropped") > 0))
        .group_by(keys).agg(_e=entry.sort_by(pl.col("venue")).str.join(","))
        .select(*keys, excluded=pl.format("[{}]", pl.col("_e")))
    )
    centre = venues.group_by(keys).agg(center=pl.col("center").first(), scale=pl.col("scale").first())
    return (
        centre.join(diag, on=keys, how="left")
        .join(_estimate(inc, inc_quotes, keys, defs), on=keys, how="left")
        .join(excluded, on=keys, how="left")
        .join(params.select("index_id", "min_venues_normal", "min_venues_low"), on="index_id", how="left")
        .with_columns(
            pl.col("n_venues").fill_null(0), pl.col("n_quotes").fill_null(0), pl.col("excluded").fill_null("[]"))
        .with_columns(status=status_from_venues(pl.col("n_venues"), pl.col("value")))
        .drop("p50", "min_venues_normal", "min_venues_low")
    )


def status_from_venues(n_venues: pl.Expr, value: pl.Expr) -> pl.Expr:
    """NORMAL with >= min_venues_normal (5), LOW_CONFIDENCE with >= min_venues_low (3), else CONTINGENCY."""
    return (
        pl.when(value.is_null()).then(pl.lit("CONTINGENCY"))
        .when(n_venues >= pl.col("min_venues_normal")).then(pl.lit("NORMAL"))
        .when(n_venues >= pl.col("min_venues_low")).then(pl.lit("LOW_CONFIDENCE"))
        .otherwise(pl.lit("CONTINGENCY"))
    )


# ---- inputs hash ---------------------------------------------------------------------------------

def _bits(expr: pl.Expr) -> pl.Expr:
    """A float as its IEEE-754 bit pattern (an unsigned integer, in decimal): exact at any magnitude,
    no float formatting in a hash."""
    return expr.cast(pl.Float64).reinterpret(signed=False).cast(pl.String).fill_null("none")


def _hexdigests(texts: pl.Series) -> pl.Series:
    """SHA-256 of each text (UTF-8), on two threads: hashlib releases the GIL on long inputs, and
    a month of fixings hashes a few hundred megabytes of input lines."""
    data = texts.cast(pl.Binary).to_list()
    with ThreadPoolExecutor(max_workers=2) as pool:
        return pl.Series(list(pool.map(lambda b: hashlib.sha256(b).hexdigest(), data, chunksize=64)),
                         dtype=pl.String)


def _sha256(expr: pl.Expr) -> pl.Expr:
    return expr.map_batches(_hexdigests, return_dtype=pl.String)


def _hexdigests_of_pairs(pairs: pl.Series) -> pl.Series:
    """SHA-256 of ``head + "\n" + body`` for each (head, body) struct, fed in two parts: the
    same digest as of the joined text, without building a month's input lines twice."""
    heads = pairs.struct.field("head").cast(pl.Binary).to_list()
    bodies = pairs.struct.field("body").cast(pl.Binary).to_list()

    def digest(i: int) -> str:
        h = hashlib.sha256(heads[i])
        h.update(b"\n")
        h.update(bodies[i])
        return h.hexdigest()

    with ThreadPoolExecutor(max_workers=2) as pool:
        return pl.Series(list(pool.map(digest, range(len(heads)), chunksize=64)), dtype=pl.String)


def _sha256_joined(head: pl.Expr, body: pl.Expr) -> pl.Expr:
    """``_sha256(concat_str([head, body], separator="\n"))`` with neither part null."""
    return pl.struct(head.alias("head"), body.alias("body")).map_batches(_hexdigests_of_pairs,
                                                                         return_dtype=pl.String)


def _input_lines(quotes: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """The sorted input rows of each group: source|offer_id|observed_at|price (IEEE-754 bits)."""
    # formatted as the naive UTC wall time: the same text, without a time-zone conversion per row
    # (4.27M values, a month's lines: 0.60-1.00 s -> 0.53-0.75 s)
    line = pl.format("{}|{}|{}|{}", "source", "offer_id",
                     pl.col("observed_at").cast(pl.Datetime("us")).dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ"),
                     _bits(pl.col("price")))
    # formatted as a column first, then sorted and joined per group: formatting inside the
    # aggregation costs about twice as much (measured on a month: 1.7 s against 1.1 s)
    return (quotes.select(*keys, _line=line)
            .group_by(keys).agg(_lines=pl.col("_line").sort().str.join("\n")))


# ---- 8. the hourly grid and carry-forward ------------------------------------------------------

def fixing_grid(defs: list[IndexDefinition], start: datetime, days: int = 1, like: pl.LazyFrame | None = None
                ) -> pl.LazyFrame:
    """Every hourly series x the 24 fixing times of each day: a fixing exists even without data
    (index_id typed like ``like``'s, String without it)."""
    times = [start + timedelta(hours=h) for h in range(24 * days)]
    ids = pl.LazyFrame({"index_id": [d.id for d in defs]}, schema={"index_id": pl.String})
    return (ids if like is None else _ids(defs, like)).join(
        pl.LazyFrame({"fixing_time": times}, schema={"fixing_time": UTC_TIME}), how="cross")


def carry_fixings(fx: pl.LazyFrame, prior: pl.DataFrame) -> pl.LazyFrame:
    """A CONTINGENCY fixing carries the last valid fixing's value (within carry_fixing_hours),
    flagged by ``carried_from``; never interpolated. Its thin-data diagnostics are withheld
    (n_venues and n_quotes stay, to show why)."""
    seed = prior.lazy().select(pl.col("index_id"), pl.col("fixing_time").cast(UTC_TIME), pl.col("value"),
                               _valid=pl.lit(True), _seed=pl.lit(True))
    valid = pl.col("status").is_in(VALID_STATUSES)
    frame = (
        pl.concat([fx.with_columns(_valid=valid, _seed=pl.lit(False)), seed], how="diagonal_relaxed")
        .with_columns(
            _lv=pl.when(pl.col("_valid")).then(pl.col("value")).forward_fill().over("index_id", order_by="fixing_time"),
            _lt=pl.when(pl.col("_valid")).then(pl.col("fixing_time")).forward_fill()
            .over("index_id", order_by="fixing_time"),
        )
        .filter(~pl.col("_seed"))
    )
    horizon = pl.duration(hours=pl.col("carry_fixing_hours").cast(pl.Int64))
    can_carry = pl.col("_lt").is_not_null() & (pl.col("fixing_time") - pl.col("_lt") <= horizon)
    withheld = ("p25", "p75", "conf", "trimmed_mean", "min", "max", "largest_venue_share")
    return frame.with_columns(
        value=pl.when(pl.col("_valid")).then(pl.col("value")).when(can_carry).then(pl.col("_lv")),
        carried_from=pl.when(~pl.col("_valid") & can_carry).then(pl.col("_lt")),
        **{c: pl.when(pl.col("_valid")).then(pl.col(c)) for c in withheld},
    ).drop("_valid", "_seed", "_lv", "_lt")


def carry_days(values: pl.LazyFrame, prior: pl.DataFrame) -> pl.LazyFrame:
    """Daily carry-forward: an insufficient day carries the last valid day's value for at most
    ``carry_days`` days (CONTINGENCY, ``carried_from`` = that day); after that, or with nothing
    to carry, SUSPENDED with no value. Never interpolated. ``values`` holds one row per series
    and ``date`` (several days at once: the last valid day is a forward fill from ``prior``)."""
    seed = prior.lazy().select("index_id", pl.col("date").cast(pl.Date), pl.col("value"), _valid=pl.lit(True),
                               _seed=pl.lit(True))
    valid = pl.col("status").is_in(VALID_STATUSES)
    last = pl.when(pl.col("_valid"))
    frame = (
        pl.concat([values.with_columns(_valid=valid, _seed=pl.lit(False)), seed], how="diagonal_relaxed")
        .with_columns(_ld=last.then(pl.col("date")).forward_fill().shift(1).over("index_id", order_by="date"),
                      _lv=last.then(pl.col("value")).forward_fill().shift(1).over("index_id", order_by="date"))
        .filter(~pl.col("_seed"))
    )
    age = (pl.col("date") - pl.col("_ld")).dt.total_days()
    can_carry = pl.col("_ld").is_not_null() & (age >= 1) & (age <= pl.col("carry_days").cast(pl.Int64))
    withheld = ("p25", "p75", "conf", "trimmed_mean", "min", "max", "largest_venue_share")
    return frame.with_columns(
        value=pl.when(valid).then(pl.col("value")).when(can_carry).then(pl.col("_lv")),
        carried_from=pl.when(~valid & can_carry).then(pl.col("_ld")),
        status=pl.when(valid).then(pl.col("status")).when(can_carry).then(pl.lit("CONTINGENCY"))
        .otherwise(pl.lit("SUSPENDED")),
        **{c: pl.when(valid).then(pl.col(c)) for c in withheld},
    ).drop("_ld", "_lv", "_valid", "_seed")


# ---- 9. daily values -----------------------------------------------------------------------------

FIXING_COLUMNS = ["index_id", "fixing_time", "value", "p25", "p75", "conf", "trimmed_mean", "min", "max", "n_venues",
                  "n_quotes", "largest_venue_share", "excluded", "status", "methodology_version", "inputs_hash",
                  "carried_from", "estimator", "gross_reference", "center", "scale"]
VENUE_COLUMNS = ["index_id", "fixing_time", "venue", "venue_median", "n_quotes", "n_dropped", "distance", "included",
                 "exclusion_reason"]
VALUE_COLUMNS = ["index_id", "date", "value", "unit", "p25", "p75", "conf", "trimmed_mean", "min", "max", "n_fixings",
                 "n_normal", "n_valid", "n_venues", "n_quotes", "largest_venue_share", "excluded", "status",
                 "methodology_version", "inputs_hash", "carried_from", "estimator", "value_window"]
VALUE_SCHEMA = {
    "index_id": pl.String, "date": pl.Date, "value": pl.Float64, "unit": pl.String, "p25": pl.Float64,
    "p75": pl.Float64, "conf": pl.Float64, "trimmed_mean": pl.Float64, "min": pl.Float64, "max": pl.Float64,
    "n_fixings": pl.Int32, "n_normal": pl.Int32, "n_valid": pl.Int32, "n_venues": pl.Int32, "n_quotes": pl.Int32,
    "largest_venue_share": pl.Float64, "excluded": pl.String, "status": pl.String, "methodology_version": pl.String,
    "inputs_hash": pl.String, "carried_from": pl.Date, "estimator": pl.String, "value_window": pl.String,
}


def _usage_frames(quotes: pl.LazyFrame, venues: pl.LazyFrame, fx: pl.LazyFrame, keys: list[str]
                  ) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The quotes that fed an included venue, and the venues, each with the UTC ``date`` of its
    fixing and ``_valid`` (the fixing is NORMAL or LOW_CONFIDENCE): joined once, counted twice."""
    valid = fx.select(*keys, _valid=pl.col("status").is_in(VALID_STATUSES))
    day = pl.col("fixing_time").dt.date().alias("date")
    inc = venues.filter(pl.col("included")).select(*keys, "venue")
    # one observation feeding several fixings of the day counts once (``_obs``: its row number)
    obs_key = ["_obs"] if "_obs" in quotes.collect_schema().names() else ["source", "offer_id", "observed_at"]
    used = (quotes.filter(pl.col("gross_ok")).select(*keys, "venue", *obs_key)
            .join(inc, on=[*keys, "venue"], how="semi")
            .join(valid, on=keys, how="left").with_columns(day).drop("fixing_time"))
    flagged = (venues.select(*keys, "venue", "included", "exclusion_reason")
               .join(valid, on=keys, how="left").with_columns(day))
    return used.cache(), flagged.cache()


def _day_usage(used: pl.LazyFrame, venues: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Per series and day, over its valid fixings (suffix ``_used``) and over all its fixings
    (``_seen``): distinct venues and quotes used, the largest venue's share of them, and the
    venues excluded at some fixing (how often and why). Inputs from ``_usage_frames``.

    One grouping of the quotes serves both: an observation counts as seen once, and as used
    once if any valid fixing of the day used it.
    """
    obs_key = [c for c in used.collect_schema().names() if c not in ("index_id", "venue", "_valid", "date")]
    per_venue = (used.group_by("index_id", "date", "venue", *obs_key).agg(_v=pl.col("_valid").any())
                 .group_by("index_id", "date", "venue").agg(_n_seen=pl.len(), _n_used=pl.col("_v").sum()))
    code = pl.col("exclusion_reason").str.split(":").list.first()

    def summary(rows: pl.LazyFrame, n: str, flagged: pl.LazyFrame, suffix: str) -> pl.LazyFrame:
        counts = rows.group_by("index_id", "date").agg(
            n_venues=pl.len().cast(pl.Int32), n_quotes=pl.col(n).sum().cast(pl.Int32),
            largest_venue_share=pl.col(n).max().cast(pl.Float64) / pl.col(n).sum().cast(pl.Float64))
        excl = (
            flagged.filter(~pl.col("included"))
            .group_by("index_id", "date", "venue", code.alias("reason")).agg(fixings=pl.len().cast(pl.Int32))
            .group_by("index_id", "date").agg(
                _e=pl.struct("venue", "reason", "fixings").struct.json_encode().sort_by(["venue", "reason"])
                .str.join(","))
            .select("index_id", "date", excluded=pl.format("[{}]", pl.col("_e")))
        )
        out = counts.join(excl, on=["index_id", "date"], how="full", coalesce=True)
        return out.rename({c: c + suffix for c in ("n_venues", "n_quotes", "largest_venue_share", "excluded")})

    return (summary(per_venue.filter(pl.col("_n_used") > 0), "_n_used", venues.filter(pl.col("_valid")), "_used"),
            summary(per_venue, "_n_seen", venues, "_seen"))


def daily(fx: pl.LazyFrame, venues: pl.LazyFrame, quotes: pl.LazyFrame, defs: list[IndexDefinition],
          params: pl.LazyFrame, day: date, prior: Prior, version: str, end: date | None = None) -> pl.LazyFrame:
    """Each day's value per hourly series from its fixings (METHODOLOGY §5), for the days
    [day, end) (``end`` = the next day when omitted).

    value = mean of the day's valid (NORMAL or LOW_CONFIDENCE) fixings. NORMAL when at least
    min_fixings_normal (18) fixings are NORMAL; LOW_CONFIDENCE when at least min_fixings_low (12)
    are valid; otherwise carried (``carry_days``). Missing fixings (a day with 23, or 0) count
    as not valid. Every defined series gets a row, with or without fixings.
    """
    keys = ["index_id", "fixing_time"]
    valid = pl.col("status").is_in(VALID_STATUSES)
    end = end or day + timedelta(days=1)
    ids = _ids(defs, params).join(
        pl.LazyFrame({"date": pl.date_range(day, end - timedelta(days=1), eager=True)}), how="cross")
    agg = fx.group_by("index_id", pl.col("fixing_time").dt.date().alias("date")).agg(
        # sorted before summing: the same inputs give the same bits whatever the row order
        value=estimators.ordered_mean(pl.col("value").filter(valid).sort()),
        p25=estimators.ordered_mean(pl.col("p25").filter(valid).sort()),
        p75=estimators.ordered_mean(pl.col("p75").filter(valid).sort()),
        conf=estimators.ordered_mean(pl.col("conf").filter(valid).sort()),
        trimmed_mean=estimators.ordered_mean(pl.col("trimmed_mean").filter(valid).sort()),
        min=pl.col("min").filter(valid).min(),
        max=pl.col("max").filter(valid).max(),
        n_fixings=pl.len().cast(pl.Int32),
        n_normal=(pl.col("status") == "NORMAL").sum().cast(pl.Int32),
        n_valid=valid.sum().cast(pl.Int32),
        _hashes=pl.format("{}={}", pl.col("fixing_time").dt.to_string("%H:%M"), pl.col("inputs_hash"))
        .sort().str.join(","),
    )
    inc_quotes, flagged = _usage_frames(quotes, venues, fx, keys)
    used, seen = _day_usage(inc_quotes, flagged)
    candidate = (
        ids.join(agg, on=["index_id", "date"], how="left").join(used, on=["index_id", "date"], how="left")
        .join(seen, on=["index_id", "date"], how="left")
        .join(params, on="index_id", how="left")
        .with_columns(
            pl.col("n_fixings").fill_null(0), pl.col("n_normal").fill_null(0), pl.col("n_valid").fill_null(0),
            pl.col("_hashes").fill_null(""), largest_venue_share=pl.col("largest_venue_share_used"),
        )
        .with_columns(status=pl.when(pl.col("value").is_null()).then(pl.lit("CONTINGENCY"))
                      .when(pl.col("n_normal") >= pl.col("min_fixings_normal")).then(pl.lit("NORMAL"))
                      .when(pl.col("n_valid") >= pl.col("min_fixings_low")).then(pl.lit("LOW_CONFIDENCE"))
                      .otherwise(pl.lit("CONTINGENCY")))
    )
    # a valid day counts what its valid fixings used; a CONTINGENCY or SUSPENDED day what was seen
    is_valid = pl.col("status").is_in(VALID_STATUSES)
    counted = carry_days(candidate, prior.last_valid_day).with_columns(
        **{c: pl.when(is_valid).then(pl.col(c + "_used")).otherwise(pl.col(c + "_seen")).fill_null(fill)
           for c, fill in (("n_venues", 0), ("n_quotes", 0), ("excluded", "[]"))})
    return _finish_days(counted, version, "hourly")


def _finish_days(values: pl.LazyFrame, version: str, window: str) -> pl.LazyFrame:
    header = pl.format("series={};date={};methodology={};rules={};carried={}@{}", pl.col("index_id"),
                       pl.col("date").dt.to_string("%Y-%m-%d"), pl.lit(version), pl.col("rules"),
                       pl.col("carried_from").cast(pl.String).fill_null("none"),
                       _bits(pl.when(pl.col("carried_from").is_not_null()).then(pl.col("value"))))
    return values.with_columns(
        methodology_version=pl.lit(version), value_window=pl.lit(window),
        inputs_hash=_sha256(pl.concat_str([header, pl.col("_hashes")], separator="\n")),
    ).select([pl.col(c).cast(VALUE_SCHEMA[c]) for c in VALUE_COLUMNS])


def pooled(obs: pl.LazyFrame, defs: list[IndexDefinition], params: pl.LazyFrame, reference: pl.LazyFrame,
           day: date, prior: Prior, version: str, end: date | None = None
           ) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """One determination per series and day over the observations of the trailing ``pool_days``
    days (every observation counts, an offer seen hourly counts hourly), for the days [day, end)
    (``end`` = the next day when omitted). A day counts when it has at least
    ``min_observations`` quotes after the filters and enough venues; otherwise the day
    carry-forward applies. The venue filter has no hysteresis here (each day is judged
    afresh). Returns (values, quotes, venues)."""
    end = end or day + timedelta(days=1)
    keys = ["index_id", "date"]
    ids = [d.id for d in defs]
    max_pool = max([int(d.pool_days) for d in defs] + [1])
    lo, hi = day_bounds(day - timedelta(days=max_pool - 1))[0], day_bounds(end)[0]
    # an observation of UTC day o is in the pools of the days o .. o + pool_days - 1
    pool = (
        obs.filter(pl.col("index_id").is_in(ids) & (pl.col("observed_at") >= lo) & (pl.col("observed_at") < hi))
        .join(params.select("index_id", "pool_days"), on="index_id", how="inner")
        .with_columns(date=pl.date_ranges(pl.col("observed_at").dt.date(), pl.col("observed_at").dt.date()
                                          + pl.duration(days=pl.col("pool_days").cast(pl.Int64) - 1)))
        .drop("pool_days")
        .explode("date")
        .filter((pl.col("date") >= day) & (pl.col("date") < end))
    )
    quotes = gross_filter(pool, reference, params)
    venues = venue_filter(venue_table(quotes, keys), keys, params)
    det = determine(quotes, venues, keys, defs, params)
    lines = _input_lines(quotes, keys)
    frame = (
        _ids(defs, params)
        .join(pl.LazyFrame({"date": pl.date_range(day, end - timedelta(days=1), eager=True)}), how="cross")
        .join(det, on=keys, how="left")
        .join(lines, on=keys, how="left")
        .join(reference, on=keys, how="left")
        .join(params, on="index_id", how="left")
        .with_columns(pl.col("n_venues").fill_null(0), pl.col("n_quotes").fill_null(0),
                      pl.col("excluded").fill_null("[]"), pl.col("_lines").fill_null(""))
        .with_columns(status=pl.when(pl.col("n_quotes") < pl.col("min_observations")).then(pl.lit("CONTINGENCY"))
                      .otherwise(pl.col("status").fill_null("CONTINGENCY")),
                      n_fixings=pl.lit(None, dtype=pl.Int32), n_normal=pl.lit(None, dtype=pl.Int32),
                      n_valid=pl.lit(None, dtype=pl.Int32),
                      _hashes=pl.format("reference={}\n{}", _bits(pl.col("gross_reference")), pl.col("_lines")))
    )
    values = _finish_days(carry_days(frame, prior.last_valid_day), version, "pooled")
    return values, quotes, venues


# ---- the whole day, or many ------------------------------------------------------------------------

def run_day(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions, day: date,
            prior: Prior | None = None, detail: bool = False) -> DayResult:
    """Compute one UTC day: hourly fixings, their venues, daily values (and, with ``detail``,
    every candidate quote with the reason it was dropped)."""
    return run_days(gpu_quotes, token_prices, defs, day, day + timedelta(days=1), prior, detail)


def run_days(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions, first: date, end: date,
             prior: Prior | None = None, detail: bool = False) -> DayResult:
    """Compute the UTC days [first, end) in one pass: what ``run_day`` gives day after day with
    ``Prior.advance`` between them, bit for bit (the day-to-day state, carry-forward and
    hysteresis, is a forward fill over the range; ``tests/index/test_pipeline_range.py``).

    ``prior`` is the state before ``first``; the rows must cover [first - lookback(defs), end).
    A backfill or a benchmark runs a month at a time: each row is read, mapped to its series and
    expanded into the fixings it feeds once, instead of once per day of the look-back.
    """
    if end <= first:
        raise ValueError(f"empty range [{first}, {end})")
    prior = prior or Prior.empty()
    start, stop = day_bounds(first)[0], day_bounds(end)[0]
    n_days = (end - first).days
    version = defs.methodology
    params = as_categorical(params_table(defs).lazy())
    obs = as_categorical(observations(gpu_quotes, token_prices, defs)).cache()
    prior = Prior(prior.last_valid_fixing.with_columns(pl.col("index_id").cast(pl.Categorical)),
                  prior.excluded_venues.with_columns(pl.col("index_id", "venue").cast(pl.Categorical)),
                  prior.last_valid_day.with_columns(pl.col("index_id").cast(pl.Categorical)))
    reference = gross_references(obs, params, first, end, max_gross_days(defs)).cache()
    hourly_defs, pooled_defs = defs.hourly(), defs.pooled()
    keys = ["index_id", "fixing_time"]

    hourly_ids = [d.id for d in hourly_defs]
    quotes = gross_filter(eligible(obs.filter(pl.col("index_id").is_in(hourly_ids)).with_row_index("_obs"),
                                   start, stop), reference, params, reasons=detail).cache()
    venues = venue_filter(venue_table(quotes, keys), keys, params, prior.excluded_venues.lazy(), start).cache()
    det = determine(quotes, venues, keys, hourly_defs, params)
    prev_excl = venues.filter(pl.col("prev_state")).group_by(keys).agg(
        _prev=pl.col("venue").sort().str.join(","))
    grid = (
        fixing_grid(hourly_defs, start, n_days, like=params)
        .join(det, on=keys, how="left")
        .join(_input_lines(quotes, keys), on=keys, how="left")
        .join(prev_excl, on=keys, how="left")
        .with_columns(date=pl.col("fixing_time").dt.date())
        .join(reference, on=["index_id", "date"], how="left")
        .drop("date")
        .join(params, on="index_id", how="left")
        .with_columns(pl.col("n_venues").fill_null(0), pl.col("n_quotes").fill_null(0),
                      pl.col("excluded").fill_null("[]"), status=pl.col("status").fill_null("CONTINGENCY"))
    )
    fx = carry_fixings(grid, prior.last_valid_fixing)
    header = pl.format("series={};fixing={};methodology={};rules={};reference={};prev_excluded={};carried={}@{}",
                       pl.col("index_id"), pl.col("fixing_time").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
                       pl.lit(version), pl.col("rules"), _bits(pl.col("gross_reference")),
                       pl.col("_prev").fill_null(""),
                       pl.col("carried_from").dt.to_string("%Y-%m-%dT%H:%M:%SZ").fill_null("none"),
                       _bits(pl.when(pl.col("carried_from").is_not_null()).then(pl.col("value"))))
    fx = fx.with_columns(
        inputs_hash=_sha256_joined(header, pl.col("_lines").fill_null("")),
        methodology_version=pl.lit(version),
    ).select(FIXING_COLUMNS).cache()
    dv = daily(fx, venues, quotes, hourly_defs, params, first, prior, version, end)
    venues_out = venues.select(VENUE_COLUMNS)
    frames: list[pl.LazyFrame] = [fx, venues_out, dv]
    if pooled_defs:
        pv, pq, pvn = pooled(obs, pooled_defs, params, reference, first, prior, version, end)
        frames[2] = pl.concat([dv, pv])
        frames += [pq, pvn]
    if detail:
        frames.append(quotes.drop("_obs"))
    frames = [as_strings(f) for f in frames]
    out = pl.collect_all(frames)
    fx_df, venues_df, values_df = out[0], out[1], out[2]
    pooled_q = out[3] if pooled_defs else pl.DataFrame()
    pooled_v = out[4] if pooled_defs else pl.DataFrame()
    quotes_df = out[-1] if detail else pl.DataFrame()
    return DayResult(fx_df.sort("index_id", "fixing_time"), venues_df.sort("index_id", "fixing_time", "venue"),
                     values_df.sort("index_id", "date"), quotes_df, pooled_q, pooled_v)


def compute_day(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions, day: date,
                prior: Prior | None = None) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Fixings, venue medians and daily values for one UTC day (frames, collected).

    ``prior`` carries the state from earlier days (``Prior.empty()`` when omitted: no carry,
    no hysteresis seed); ``index.jobs.compute_days`` reads it from the store.
    """
    r = run_day(gpu_quotes, token_prices, defs, day, prior)
    return r.fixings, r.venues, r.values
