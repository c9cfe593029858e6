"""Token series: which provider prices make a model's price (METHODOLOGY.md, "Token indices"). Pure polars.

A token series is one model x one price side (input, output, cached input, blended
(3·input + output)/4) x one precision segment (full, low-bit) x one context tier. Its inputs
are chosen here, then the GPU machinery (``index.pipeline``: eligibility window, one price
per venue, the filters, the median, statuses) runs on them unchanged, a provider being a venue:

1. ``resolve_quantization`` - a row that does not state its quantization takes the one another
   source states for the same endpoint (same provider, model, tier and prices);
2. ``candidates``           - every row of every series with the reason it is left out, or none:
   a router reselling others' endpoints, no price for the side, a unit error (a price that many
   times off the other providers'), or the first-party rule (the maker sells the model: its own
   list price is the model's price and the resellers' are left out);
3. ``series_rows``          - one price per (series, source, provider, observation): a provider
   that renamed its model id, or lists several endpoints, still counts once per source;
4. ``compute_day``          - the day's fixings and values of every non-basket series: GPU series
   and token series together through ``pipeline.compute_day``.

Free (0) and variable (-1) prices never reach this module: validation quarantines them at the
edge with their reason, so a free tier is never a price of zero.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from index import canonical, pipeline
from index.definitions import Definitions, IndexDefinition, TokenRules
from index.schemas import TOKEN_PRICE_SCHEMA

VALID = ("NORMAL", "LOW_CONFIDENCE")
_TP_COLUMNS = {c: t for c, t in TOKEN_PRICE_SCHEMA.items() if c != "quarantine_reason"}
DEF_SCHEMA = pl.Schema({
    "index_id": pl.String(), "model": pl.String(), "side": pl.String(), "def_segment": pl.String(),
    "def_tier": pl.Int64(), "first_party": pl.String(), "maker_venue": pl.String(),
    "list_price_window_hours": pl.Float64(),
})
CANDIDATE_COLUMNS = ["index_id", "observed_at", "source", "provider", "model", "source_model_id", "quantization",
                     "segment", "context_tier", "usd_per_mtok_input", "usd_per_mtok_output",
                     "usd_per_mtok_cached_input", "price", "reason"]


def side_price(side: pl.Expr | str) -> pl.Expr:
    """The price of one side from a token_prices row; blended = (3·input + output)/4 (Artificial
    Analysis' convention), null unless both input and output are priced."""
    s = pl.lit(side) if isinstance(side, str) else side
    return (
        pl.when(s == "input").then(pl.col("usd_per_mtok_input"))
        .when(s == "output").then(pl.col("usd_per_mtok_output"))
        .when(s == "cached_input").then(pl.col("usd_per_mtok_cached_input"))
        .when(s == "blended").then((3 * pl.col("usd_per_mtok_input") + pl.col("usd_per_mtok_output")) / 4)
    )


def blended(inp: float, out: float) -> float:
    return (3 * inp + out) / 4


def maker_venue(model: str, rules: TokenRules) -> str | None:
    """The venue id of the company that makes ``model`` (maker from data/models.toml), if it is a venue."""
    info = canonical.token_models().get(model)
    maker = info.maker if info else model.split("/")[0]
    vid = rules.maker_venues.get(maker) or canonical.venue_id(maker)
    return vid if canonical.venue(vid) is not None else None


def with_tier(tp: pl.LazyFrame) -> pl.LazyFrame:
    """token_prices with ``context_tier`` (0 for the base tier) even from a frame that lacks it."""
    if "context_tier" not in tp.collect_schema().names():
        tp = tp.with_columns(context_tier=pl.lit(None, dtype=pl.Int64))
    return tp.with_columns(pl.col("context_tier").fill_null(0).cast(pl.Int64))


def resolve_quantization(tp: pl.LazyFrame, rules: TokenRules) -> pl.LazyFrame:
    """Add ``segment`` (full / low_bit) after filling an unstated quantization from another source.

    Aggregators state quantization per endpoint (OpenRouter), list-price files mostly do not
    (LiteLLM): an unstated row takes the quantization another source states for the same
    endpoint (provider, model, tier, input and output price), when they agree on its segment
    (fp8 from one and fp4 from another is low-bit either way: ``fp4|fp8``). A row that stays
    unstated is the provider's default serving precision: the full segment.
    """
    # prices compared to the micro-dollar: sources convert units with different float roundings
    tp = with_tier(tp).with_columns(_in=pl.col("usd_per_mtok_input").round(6),
                                    _out=pl.col("usd_per_mtok_output").round(6))
    keys = ["provider", "model", "context_tier", "_in", "_out"]
    low = [q.lower() for q in rules.low_bit]
    seg = (pl.when(pl.col("quantization").str.to_lowercase().is_in(low)).then(pl.lit("low_bit"))
           .otherwise(pl.lit("full")))
    stated = (
        tp.filter(pl.col("quantization").is_not_null()).with_columns(_seg=seg)
        .group_by(keys).agg(_q=pl.col("quantization").unique().sort().str.join("|"), _s=pl.col("_seg").unique())
        .filter(pl.col("_s").list.len() == 1)  # sources that disagree on the segment: nothing inherited
        .drop("_s")
    )
    return (
        tp.join(stated, on=keys, how="left", nulls_equal=False)
        .with_columns(quantization=pl.coalesce("quantization", "_q"))
        .drop("_q", "_in", "_out")
        .with_columns(segment=pl.when(pl.col("quantization").str.split("|").list.first().str.to_lowercase()
                                      .is_in(low)).then(pl.lit("low_bit")).otherwise(pl.lit("full")))
    )


def definitions_table(defs: list[IndexDefinition], rules: TokenRules) -> pl.DataFrame:
    rows = [{"index_id": d.id, "model": d.model, "side": d.price, "def_segment": d.segment,
             "def_tier": d.context_tier, "first_party": d.first_party,
             "maker_venue": maker_venue(d.model, rules) if d.model else None,
             "list_price_window_hours": d.list_price_window_hours} for d in defs if d.kind == "token"]
    return pl.DataFrame(rows, schema=DEF_SCHEMA)


def _fmt(expr: pl.Expr, digits: int = 4) -> pl.Expr:
    return expr.round(digits).cast(pl.String).fill_null("none")


def candidates(token_prices: pl.LazyFrame, defs: list[IndexDefinition], rules: TokenRules,
               day_start: datetime) -> pl.LazyFrame:
    """Every row that could feed each token series, with ``reason`` (null = it feeds the series).

    Rows of another segment or tier are not candidates of the series (they belong to another).
    ``day_start``: the first-party rule applies to a series on a day when the maker's own price
    is eligible for one of the day's fixings (observed within the list-price window before it).
    """
    table = definitions_table(defs, rules).lazy()
    routers = [canonical.venue_id(r) for r in rules.routers]
    rows = (
        resolve_quantization(token_prices, rules)
        .join(table, on="model", how="inner")
        .filter((pl.col("segment") == pl.col("def_segment")) & (pl.col("context_tier") == pl.col("def_tier")))
        .with_columns(price=side_price(pl.col("side")))
    )
    bad_price = pl.col("price").is_null() | ~pl.col("price").is_finite() | (pl.col("price") <= 0)
    rows = rows.with_columns(reason=(
        pl.when(pl.col("provider").is_in(routers)).then(pl.format(
            "router: {} resells other providers' endpoints (each counts at the provider that serves it)",
            "provider"))
        .when(bad_price).then(pl.format("no {} price in this row", "side"))
    ))
    # unit errors: a price many times off the median of the other providers' prices
    ok = rows.filter(pl.col("reason").is_null())
    prov = ok.group_by("index_id", "provider").agg(_pm=pl.col("price").median())
    ref = (
        prov.join(prov, on="index_id", suffix="_o")
        .filter(pl.col("provider") != pl.col("provider_o"))
        .group_by("index_id", "provider").agg(_ref=pl.col("_pm_o").median(), _n_other=pl.len())
    )
    ratio = pl.col("price") / pl.col("_ref")
    r = rules.unit_error_ratio
    unit_error = (pl.col("_n_other") >= 2) & ((ratio >= r) | (ratio <= 1 / r))
    rows = (
        rows.join(ref, on=["index_id", "provider"], how="left")
        .with_columns(reason=pl.when(pl.col("reason").is_null() & unit_error.fill_null(False)).then(pl.format(
            "unit error: {} is {}x the median {} of {} other providers (a price in cents, per 1K tokens or "
            "per token?), not USD per million tokens", _fmt(pl.col("price"), 6), _fmt(ratio, 3),
            _fmt(pl.col("_ref"), 6), pl.col("_n_other"))).otherwise(pl.col("reason")))
    )
    # the first-party rule, decided per series and day
    window = pl.duration(microseconds=(pl.col("list_price_window_hours") * 3.6e9).cast(pl.Int64))
    maker_row = (pl.col("reason").is_null() & (pl.col("first_party") == "auto")
                 & (pl.col("provider") == pl.col("maker_venue")) & (pl.col("observed_at") > pl.lit(day_start) - window))
    rows = (
        rows.with_columns(_fp=maker_row.any().over("index_id"))
        .with_columns(reason=pl.when(pl.col("reason").is_null() & pl.col("_fp")
                                     & (pl.col("provider") != pl.col("maker_venue"))).then(pl.format(
                                         "first-party rule: the maker ({}) sells {}; its own list price is the "
                                         "model price", "maker_venue", "model")).otherwise(pl.col("reason")))
    )
    return rows.select(CANDIDATE_COLUMNS)


def first_party_series(cands: pl.LazyFrame, defs: list[IndexDefinition], rules: TokenRules) -> list[str]:
    """Series priced by the first-party rule (their inputs are the maker's own rows only)."""
    table = definitions_table(defs, rules).lazy().select("index_id", "maker_venue")
    hit = (
        cands.filter(pl.col("reason").is_null()).join(table, on="index_id", how="inner")
        .group_by("index_id").agg(_all=(pl.col("provider") == pl.col("maker_venue")).all())
        .filter(pl.col("_all")).select("index_id").collect()
    )
    return sorted(hit["index_id"].to_list())


def series_rows(cands: pl.LazyFrame) -> pl.LazyFrame:
    """The rows the pipeline sees: one price per (series, source, provider, observation time).

    The series id stands in the ``model`` column and the side's price in every price column, so
    ``pipeline.observations`` reads it as a plain input price. A provider listing several ids
    for one model (regions, a renamed id beside the old one, tiers of service) counts once per
    source and observation (the median of its rows): a renamed model keeps its history, and an
    id the provider dropped stops counting at the source's next observation.
    """
    kept = (
        cands.filter(pl.col("reason").is_null())
        .group_by("index_id", "source", "provider", "observed_at")
        .agg(price=pl.col("price").median())
    )
    return kept.select(
        "observed_at", "source", "provider", pl.col("index_id").alias("model"),
        pl.lit(None, dtype=pl.String).alias("model_family"), pl.col("index_id").alias("source_model_id"),
        pl.col("price").alias("usd_per_mtok_input"), pl.col("price").alias("usd_per_mtok_output"),
        pl.col("price").alias("usd_per_mtok_cached_input"),
    ).with_columns([pl.lit(None, dtype=t).alias(c) for c, t in _TP_COLUMNS.items()
                    if c not in ("observed_at", "source", "provider", "model", "model_family", "source_model_id",
                                 "usd_per_mtok_input", "usd_per_mtok_output", "usd_per_mtok_cached_input")]
                   ).select([pl.col(c).cast(t) for c, t in _TP_COLUMNS.items()])


def _supports_venue_params() -> bool:
    return "min_venues_normal" in IndexDefinition.model_fields


def run_definitions(defs: Definitions, first_party: list[str]) -> Definitions:
    """What the pipeline computes: GPU series unchanged, each token series reading its own rows
    (``model`` = its id, price = the input column); baskets are computed from daily values."""
    fp = set(first_party)
    out: list[IndexDefinition] = []
    for d in defs.indices:
        if d.kind == "basket":
            continue
        if d.kind == "token":
            update: dict[str, Any] = {"model": d.id, "price": "input"}
            if d.id in fp and _supports_venue_params():
                update.update(min_venues_normal=1, min_venues_low=1)  # one authoritative list price
            d = d.model_copy(update=update)
        out.append(d)
    return defs.model_copy(update={"indices": out})


def first_party_status(fx: pl.DataFrame, values: pl.DataFrame, first_party: list[str]
                       ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A first-party series rests on one authoritative list price: a fixing with the maker's price
    is NORMAL (the 5/3-venue sufficiency thresholds are for cross-provider medians), and the day's
    status follows from its fixings by the usual 18/12 rule. Used only where the pipeline has no
    per-series venue thresholds."""
    if not first_party or fx.height == 0:
        return fx, values
    fp = pl.col("index_id").is_in(first_party)
    fx = fx.with_columns(status=pl.when(fp & pl.col("value").is_not_null() & (pl.col("n_venues") >= 1))
                         .then(pl.lit("NORMAL")).otherwise(pl.col("status")))
    counts = (fx.filter(fp).with_columns(date=pl.col("fixing_time").dt.date())
              .group_by("index_id", "date")
              .agg(_n=(pl.col("status") == "NORMAL").sum(), _v=pl.col("status").is_in(VALID).sum()))
    normal = getattr(pipeline, "MIN_FIXINGS_NORMAL", 18)
    low = getattr(pipeline, "MIN_FIXINGS_LOW", 12)
    values = (
        values.join(counts, on=["index_id", "date"], how="left")
        .with_columns(status=pl.when(pl.col("_n").is_null()).then(pl.col("status"))
                      .when(pl.col("_n") >= normal).then(pl.lit("NORMAL"))
                      .when(pl.col("_v") >= low).then(pl.lit("LOW_CONFIDENCE"))
                      .otherwise(pl.lit("CONTINGENCY")))
        .drop("_n", "_v")
    )
    return fx, values


def _prepare(token_prices: pl.LazyFrame, defs: Definitions, day: date
             ) -> tuple[pl.LazyFrame, Definitions, list[str]]:
    """The rows and definitions the pipeline runs on for ``day``, and the first-party series."""
    start, _ = pipeline.day_bounds(day)
    token_defs = defs.token()
    first_party: list[str] = []
    rows = pl.DataFrame(schema=_TP_COLUMNS).lazy()
    if token_defs:
        cands = candidates(token_prices, token_defs, defs.tokens, start).cache()
        first_party = first_party_series(cands, token_defs, defs.tokens)
        rows = series_rows(cands)
    return rows, run_definitions(defs, first_party), first_party


def compute_day(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions, day: date,
                *args: Any, **kwargs: Any) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``pipeline.compute_day`` with the token selection rules applied: same arguments, same result.

    Extra arguments (the prior state of a later pipeline) pass through unchanged. Basket series
    are not computed here (they are chain-linked from stored daily values: ``index.token_jobs``).
    """
    rows, run, first_party = _prepare(token_prices, defs, day)
    fx, venues, values = pipeline.compute_day(gpu_quotes, rows, run, day, *args, **kwargs)
    if not _supports_venue_params():
        fx, values = first_party_status(fx, values, first_party)
    return fx, venues, values


def run_day(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions, day: date,
            prior: pipeline.Prior | None = None, detail: bool = False) -> pipeline.DayResult:
    """``pipeline.run_day`` with the token selection rules applied (what ``compute_day`` computes,
    with every candidate quote when ``detail``): the recomputation behind verify and audit."""
    rows, run, first_party = _prepare(token_prices, defs, day)
    r = pipeline.run_day(gpu_quotes, rows, run, day, prior, detail=detail)
    if not _supports_venue_params():
        r.fixings, r.values = first_party_status(r.fixings, r.values, first_party)
    return r


def compute_range(gpu_quotes: pl.LazyFrame, token_prices: pl.LazyFrame, defs: Definitions, first: date,
                  end: date, prior: pipeline.Prior | None = None
                  ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``compute_day`` for each day of [first, end), chained with ``Prior.advance``: the same
    fixings, venues and values, bit for bit.

    Series are independent of each other, so they split by kind: the GPU series run in one
    ``pipeline.run_days`` pass over the range (each row read and expanded once, not once per day
    of the look-back), the token series day by day (the first-party rule chooses their rules per
    day). ``prior`` is the state before ``first``.
    """
    prior = prior or pipeline.Prior.empty()
    gpu_ids = [d.id for d in defs.indices if d.kind == "gpu"]
    other_ids = [d.id for d in defs.indices if d.kind != "gpu"]
    parts: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
    if gpu_ids:
        r = pipeline.run_days(gpu_quotes, token_prices, defs.select(gpu_ids), first, end, prior)
        parts.append((r.fixings, r.venues, r.values))
    if other_ids:
        others, back, state = defs.select(other_ids), pipeline.lookback(defs), prior
        day = first
        while day < end:
            lo, hi = pipeline.day_bounds(day)
            window = (pl.col("observed_at") >= lo - back) & (pl.col("observed_at") < hi)
            fx, venues, values = compute_day(gpu_quotes.filter(window), token_prices.filter(window), others, day,
                                             state)
            state = state.advance(fx, venues, values, others, day + timedelta(days=1))
            parts.append((fx, venues, values))
            day += timedelta(days=1)
    if not parts:
        return pl.DataFrame(), pl.DataFrame(), pl.DataFrame(schema=pipeline.VALUE_SCHEMA)
    fx, venues, values = (pl.concat([p[i] for p in parts], how="diagonal_relaxed") for i in range(3))
    return fx, venues, values
