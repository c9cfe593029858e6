"""Token jobs: the store-facing side of the token indices (baskets, the per-model views).

The rules live in ``index.tokens`` (series selection), ``index.baskets`` (chain-linking) and
``index.token_analysis`` (comparisons, trend); this module reads what they need from the store
and writes what they produce, so the CLI, the scheduler and the tests share one path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from index import baskets, canonical, pipeline, token_analysis, tokens
from index.definitions import Definitions, IndexDefinition
from index.errors import SpotindexError
from index.store import Store


def member_values(store: Store, series: Sequence[str], last: date) -> pl.DataFrame:
    """Latest revision of every daily value of the given series up to ``last``."""
    if not series:
        return pl.DataFrame(schema=baskets.INPUT_SCHEMA)
    marks = ", ".join("?" for _ in series)
    df = store.frame(f"SELECT index_id AS series, date, value, p25, p75, n_quotes, status, inputs_hash "
                     f"FROM latest_index_values WHERE index_id IN ({marks}) AND date <= ? ORDER BY 1, 2",
                     [*series, last])
    return df.cast(dict(baskets.INPUT_SCHEMA))  # type: ignore[arg-type]


def compute_baskets(store: Store, days: Sequence[date], defs: Definitions, run_id: str) -> dict[str, int]:
    """Chain-linked basket levels for ``days`` from the members' stored daily values.

    The level is recomputed from each basket's first day (a pure function of the stored member
    values, so it can be audited), and the rows of the requested days are written as new
    revisions where they differ (none when nothing changed).
    """
    basket_defs = defs.baskets()
    if not basket_defs or not days:
        return {"basket_values_new": 0}
    members = baskets.members_table(basket_defs)
    last = max(days)
    values = member_values(store, members["series"].unique().sort().to_list(), last)
    levels = baskets.levels(members, values, last, defs.methodology)
    levels = levels.filter(pl.col("date").is_in(list(days)))
    empty_fx = pl.DataFrame()
    out = store.write_computation(run_id, empty_fx, empty_fx, levels)
    return {"basket_values_new": out["values_new"]}


def basket_values(store: Store, defs: Definitions, day: date) -> pl.DataFrame:
    """The basket series' values of ``day`` recomputed from the members' stored daily values
    (what ``compute_baskets`` writes; ``spotindex verify --db`` compares them with a report)."""
    basket_defs = defs.baskets()
    if not basket_defs:
        return pl.DataFrame()
    members = baskets.members_table(basket_defs)
    values = member_values(store, members["series"].unique().sort().to_list(), day)
    return baskets.levels(members, values, day, defs.methodology).filter(pl.col("date") == day)


def history(store: Store, index_id: str, last: date | None = None) -> pl.DataFrame:
    """One series' published history (latest revision per day)."""
    sql = "SELECT date, value, status FROM latest_index_values WHERE index_id = ?"
    params: list[Any] = [index_id]
    if last is not None:
        sql += " AND date <= ?"
        params.append(last)
    return store.frame(sql + " ORDER BY date", params)


# ---- views for `spotindex tokens` ------------------------------------------------------------

@dataclass
class ModelView:
    model: str
    day: date
    series: pl.DataFrame  # the model's published values that day (every side, segment, tier)
    providers: pl.DataFrame  # one row per provider row, with the reason it is left out (or none)
    quarantined: pl.DataFrame  # rows refused at the edge (free tier, variable price...)
    headline: float | None  # the blended headline value the deviations are measured against
    headline_kind: str  # "published <id>" or "indicative (no published series)"
    maker_venue: str | None


def resolve_model(store: Store, text: str) -> str:
    """A model as the user typed it -> the canonical id found in the store (any alias works)."""
    model = canonical.token_model(text)
    found = store.frame("SELECT count(*) AS n FROM token_prices WHERE model = ?", [model])["n"][0]
    if found:
        return model
    like = store.frame("SELECT DISTINCT model FROM token_prices WHERE model ILIKE ? ORDER BY 1 LIMIT 8",
                       [f"%{text.split('/')[-1]}%"])["model"].to_list()
    hint = f"; models with '{text.split('/')[-1]}' in the name: {', '.join(like)}" if like else ""
    raise SpotindexError(f"no token prices for model '{text}' (canonical id {model}) in {store.path}{hint}")


def latest_token_day(store: Store) -> date:
    d = store.frame("SELECT max(CAST(observed_at AS DATE)) AS d FROM token_prices")["d"][0]
    if d is None:
        raise SpotindexError(f"no token prices in {store.path}: run 'spotindex run' or 'spotindex scrape' first")
    return d  # type: ignore[no-any-return]


def _view_defs(model: str, defs: Definitions) -> list[IndexDefinition]:
    """The model's defined series, plus ad-hoc ones so every segment and tier seen is shown."""
    mine = [d for d in defs.token() if d.model == model]
    base = defs.token()[0] if defs.token() else None
    extra: list[IndexDefinition] = []
    if base is not None:
        for segment in ("full", "low_bit"):
            if not any(d.segment == segment and d.price == "blended" and d.context_tier == 0 for d in mine):
                extra.append(base.model_copy(update={
                    "id": baskets.token_series_id(model, "blended", segment), "model": model, "price": "blended",
                    "segment": segment, "context_tier": 0, "first_party": "auto"}))
    return mine + extra


def model_view(store: Store, text: str, day: date | None = None, defs: Definitions | None = None) -> ModelView:
    from index import definitions as definitions_mod

    defs = defs or definitions_mod.load()
    model = resolve_model(store, text)
    day = day or latest_token_day(store)
    start, end = pipeline.day_bounds(day)
    window = timedelta(hours=max([d.list_price_window_hours for d in defs.token()] + [168.0]))
    tp = store.token_prices(start - window, end)
    vdefs = _view_defs(model, defs)
    # tiers the store has for this model get an ad-hoc series each, so no row goes unexplained
    tiers = tokens.with_tier(tp.filter(pl.col("model") == model)).select("context_tier").unique().collect()
    for tier in tiers["context_tier"].to_list():
        if tier and not any(d.context_tier == tier for d in vdefs) and vdefs:
            vdefs.append(vdefs[0].model_copy(update={
                "id": baskets.token_series_id(model, "blended", "full", tier), "price": "blended", "segment": "full",
                "context_tier": tier}))
    shown = [d for d in vdefs if d.price == "blended"]  # one row per provider price, judged as the blend
    cands = tokens.candidates(tp.filter(pl.col("model") == model), shown, defs.tokens, start).collect()
    providers = token_analysis.provider_table(cands)
    ids = [d.id for d in defs.token() if d.model == model]
    series = pl.DataFrame()
    if ids:
        marks = ", ".join("?" for _ in ids)
        series = store.frame(f"SELECT index_id, value, unit, status, n_venues, p25, p75 FROM latest_index_values "
                             f"WHERE date = ? AND index_id IN ({marks}) ORDER BY index_id", [day, *ids])
    headline_id = next((d.id for d in defs.token() if d.model == model and d.price == "blended"
                        and d.segment == "full" and d.context_tier == 0), None)
    headline, kind = None, "indicative (no published series)"
    if headline_id and series.height and headline_id in series["index_id"].to_list():
        headline = series.filter(pl.col("index_id") == headline_id)["value"][0]
        kind = f"published {headline_id}"
    if headline is None:
        headline = token_analysis.indicative_value(providers, "full", 0)
        if headline_id:
            kind = f"indicative ({headline_id} has no value on {day})"
    providers = token_analysis.with_deviation(providers, headline)
    q = quarantined(store, model, start - window, end)
    return ModelView(model, day, series, providers, q, headline, kind, tokens.maker_venue(model, defs.tokens))


def quarantined(store: Store, model: str, start: Any, end: Any) -> pl.DataFrame:
    """Token rows refused at the edge for this model (latest per provider and id), with the reason."""
    q = store.frame("SELECT observed_at, source, record_key, reason FROM quarantine WHERE kind = 'token' "
                    "AND observed_at >= ? AND observed_at < ? ORDER BY observed_at", [start, end])
    if q.height == 0:
        return q
    q = q.with_columns(
        provider=pl.col("record_key").str.split("|").list.first(),
        source_model_id=pl.col("record_key").str.split("|").list.slice(1).list.join("|"),
    )
    ids = q["source_model_id"].unique().to_list()
    mapping = pl.DataFrame({"source_model_id": ids, "model": [canonical.token_model(i) for i in ids]})
    return (
        q.join(mapping, on="source_model_id", how="left").filter(pl.col("model") == model)
        .sort("observed_at").unique(subset=["source", "provider", "source_model_id", "reason"], keep="last")
        .select("source", "provider", "source_model_id", "reason").sort("provider", "source")
    )


def cheapest(store: Store, models: Sequence[str] | None = None, day: date | None = None, top: int = 3,
             side: str = "blended", defs: Definitions | None = None, all_models: bool = False) -> pl.DataFrame:
    """Providers ranked by price per model (full precision and low-bit ranked apart)."""
    from index import definitions as definitions_mod

    defs = defs or definitions_mod.load()
    day = day or latest_token_day(store)
    start, end = pipeline.day_bounds(day)
    tp = store.token_prices(start - timedelta(hours=168), end)
    if models:
        wanted = [resolve_model(store, m) for m in models]
    elif all_models:
        wanted = tp.select("model").unique().collect()["model"].sort().to_list()
    else:
        wanted = sorted({d.model for d in defs.token() if d.model})
    base = defs.token()[0] if defs.token() else None
    if base is None:
        raise SpotindexError("no token series are defined (data/indices.toml)")
    vdefs = [base.model_copy(update={"id": baskets.token_series_id(m, side, seg), "model": m, "price": side,
                                     "segment": seg, "context_tier": 0, "first_party": "never"})
             for m in wanted for seg in ("full", "low_bit")]
    cands = tokens.candidates(tp.filter(pl.col("model").is_in(wanted)), vdefs, defs.tokens, start).collect()
    return token_analysis.rank_providers(cands, top)


def basket_summary(store: Store, defs: Definitions, day: date | None = None) -> pl.DataFrame:
    """Each basket series: its level on the day, status, members priced, and the annualised trend."""
    rows = []
    for d in defs.baskets():
        h = history(store, d.id, day)
        valid = h.filter(pl.col("status").is_in(list(tokens.VALID)) & pl.col("value").is_not_null())
        last = h.tail(1)
        trend = token_analysis.annualised_decline(valid["date"].to_list(), valid["value"].to_list())
        rows.append({
            "index_id": d.id, "date": last["date"][0] if last.height else None,
            "value": last["value"][0] if last.height else None,
            "status": last["status"][0] if last.height else None,
            "members": len(d.members), "days": valid.height,
            "decline": trend.decline if trend else None, "decline_low": trend.decline_low if trend else None,
            "decline_high": trend.decline_high if trend else None,
        })
    return pl.DataFrame(rows, schema={"index_id": pl.String, "date": pl.Date, "value": pl.Float64,
                                      "status": pl.String, "members": pl.Int32, "days": pl.Int32,
                                      "decline": pl.Float64, "decline_low": pl.Float64,
                                      "decline_high": pl.Float64})


def basket_members(store: Store, defs: Definitions, basket_id: str, day: date | None = None) -> pl.DataFrame:
    """The members of one basket series on a day, with weight, price and status."""
    known = {d.id: d for d in defs.baskets()}
    d = known.get(basket_id) or known.get(f"TOK.BASKET.{basket_id.upper()}.BLEND")
    if d is None:
        raise SpotindexError(f"unknown basket '{basket_id}'; known: {', '.join(known)}")
    day = day or latest_token_day(store)
    members = baskets.members_table([d]).filter(
        (pl.col("start").is_null() | (pl.col("start") <= day)) & (pl.col("end").is_null() | (pl.col("end") > day)))
    values = member_values(store, members["series"].to_list(), day).filter(pl.col("date") == day)
    total = members["weight"].sum()
    start, end = pipeline.day_bounds(day)
    routers = [canonical.venue_id(r) for r in defs.tokens.routers]
    served = (
        store.token_prices(start - timedelta(hours=168), end)
        .filter(~pl.col("provider").is_in(routers))
        .group_by("model").agg(providers=pl.col("provider").n_unique().cast(pl.Int32)).collect()
    )
    return (
        members.join(pl.DataFrame({"series": [m["series"] for m in d.members],
                                   "model": [m["model"] for m in d.members]}).unique("series"), on="series",
                     how="left")
        .join(values.select("series", "value", "status"), on="series", how="left")
        .join(served, on="model", how="left")
        .with_columns(share=pl.col("weight") / total, providers=pl.col("providers").fill_null(0),
                      min_providers=pl.lit(d.min_providers, dtype=pl.Int32))
        .select("series", "model", "share", "value", "status", "providers", "min_providers", "start", "end")
    )
