"""``spotindex tokens`` and ``spotindex baskets``: the token indices seen from a user's side.

Thin faces over ``index.token_jobs``; importing this module registers the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from index import definitions as definitions_mod
from index import token_jobs
from index.cli import DEFAULT_DB, DbOpt, app, out, parse_day
from index.errors import SpotindexError
from index.store import Store

DayOpt = Annotated[str | None, typer.Option("--date", help="UTC day YYYY-MM-DD (default: the latest with prices).")]


def _money(x: float | None, places: int = 4) -> str:
    return "" if x is None else f"{x:.{places}f}"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:+.1f}%"


def _tier(t: int | None) -> str:
    return "base" if not t else (f">{t // 1000}k" if t % 1000 == 0 else f">{t}")


def _require_db(db: Path) -> Store:
    if not db.exists():
        raise SpotindexError(f"database {db} does not exist: run 'spotindex run' or 'spotindex scrape' first")
    return Store(db)


@app.command()
def tokens(
    model: Annotated[str | None, typer.Argument(help="A model, any spelling (gpt-4.1, meta-llama/Llama-3.3-70B...)")
                     ] = None,
    cheapest: Annotated[bool, typer.Option("--cheapest", help="Rank providers per model, cheapest first.")] = False,
    all_models: Annotated[bool, typer.Option("--all", help="With --cheapest: every model, not only the "
                                                           "models with series.")] = False,
    top: Annotated[int, typer.Option("--top", help="With --cheapest: providers shown per model.")] = 3,
    side: Annotated[str, typer.Option("--side", help="With --cheapest: input, output, cached_input or "
                                                     "blended.")] = "blended",
    day: DayOpt = None,
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Every provider's price for one model next to its index value, or (--cheapest) providers ranked."""
    store = _require_db(db)
    target = parse_day(day) if day else None
    if cheapest:
        if side not in ("input", "output", "cached_input", "blended"):
            raise SpotindexError(f"--side {side}: use input, output, cached_input or blended")
        ranked = token_jobs.cheapest(store, [model] if model else None, target, top, side, all_models=all_models)
        _print_cheapest(ranked, side)
        return
    if not model:
        raise SpotindexError("give a MODEL (spotindex tokens gpt-4.1) or --cheapest")
    view = token_jobs.model_view(store, model, target)
    _print_view(view)


def _print_view(view: token_jobs.ModelView) -> None:
    out.print(f"[bold]{view.model}[/bold] on {view.day}")
    if view.maker_venue:
        p = view.providers
        quotes = p.filter(pl.col("provider") == view.maker_venue).height > 0
        applied = p.filter(pl.col("included") & (pl.col("provider") == view.maker_venue)).height > 0
        out.print(f"maker's venue: {view.maker_venue} - " + (
            "it sells the model: the model price is its list price (first-party rule)" if applied else
            "its quote is left out (see below): cross-provider median" if quotes else
            "it does not quote the model: cross-provider median"))
    else:
        out.print("the maker sells no API of its own here: cross-provider median")
    if view.series.height:
        t = Table(title="series")
        for col, just in (("index", "left"), ("value", "right"), ("unit", "left"), ("status", "left"),
                          ("venues", "right"), ("p25–p75", "right")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for r in view.series.iter_rows(named=True):
            band = f"{r['p25']:.4f}–{r['p75']:.4f}" if r["p25"] is not None else ""
            t.add_row(r["index_id"], _money(r["value"]), r["unit"] or "", r["status"], str(r["n_venues"]), band)
        out.print(t)
    headline = f"{view.headline:.4f} USD/Mtok" if view.headline is not None else "none"
    out.print(f"blended headline: {headline} ({view.headline_kind})")
    t = Table(title=f"providers ({view.providers.height} prices)")
    for col in ("provider", "sources", "quant", "segment", "tier", "input", "output", "cached", "blended",
                "vs index", "in the index?"):
        t.add_column(col, justify="right" if col in ("input", "output", "cached", "blended", "vs index") else "left")
    for r in view.providers.iter_rows(named=True):
        note = "yes" if r["included"] else f"no: {r['reason']}"
        t.add_row(r["provider"], r["sources"], r["quantization"] or "", r["segment"], _tier(r["context_tier"]),
                  _money(r["usd_per_mtok_input"]), _money(r["usd_per_mtok_output"]),
                  _money(r["usd_per_mtok_cached_input"]), _money(r["blended"]), _pct(r["deviation"]), note)
    out.print(t)
    headline_rows = view.providers.filter(pl.col("included") & (pl.col("segment") == "full")
                                          & (pl.col("context_tier") == 0))
    if headline_rows.height == 0:
        out.print("[yellow]no provider left after the filters[/yellow]: the headline series has no value on "
                  f"{view.day} (each provider's reason is above); it is never filled with a guess.")
    if view.quarantined.height:
        q = Table(title="refused at the edge (never an index input)")
        for col in ("provider", "source", "id", "reason"):
            q.add_column(col)
        for r in view.quarantined.iter_rows(named=True):
            q.add_row(r["provider"], r["source"], r["source_model_id"], r["reason"])
        out.print(q)


def _print_cheapest(ranked: pl.DataFrame, side: str) -> None:
    if ranked.height == 0:
        raise SpotindexError("no provider prices for these models")
    t = Table(title=f"cheapest providers ({side}, USD per million tokens)")
    for col in ("model", "segment", "rank", "provider", "price", "vs median", "providers", "sources"):
        t.add_column(col, justify="right" if col in ("rank", "price", "vs median", "providers") else "left")
    for r in ranked.iter_rows(named=True):
        t.add_row(r["model"], r["segment"], str(r["rank"]), r["provider"], _money(r["price"]), _pct(r["vs_median"]),
                  str(r["n_providers"]), r["sources"])
    out.print(t)


@app.command()
def baskets(
    basket: Annotated[str | None, typer.Argument(help="A basket (FRONTIER) or basket series id: list its members.")
                      ] = None,
    day: DayOpt = None,
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Token baskets: level, status and annualised price decline with its 95% interval."""
    store = _require_db(db)
    defs = definitions_mod.load()
    target = parse_day(day) if day else None
    if basket:
        members = token_jobs.basket_members(store, defs, basket, target)
        t = Table(title=f"members of {basket}")
        for col in ("series", "model", "weight", "value", "status", "providers", "from", "until"):
            t.add_column(col, justify="right" if col in ("weight", "value", "providers") else "left")
        short = []
        for r in members.iter_rows(named=True):
            need = r["min_providers"]
            flag = f" (< {need})" if need is not None and r["providers"] < need else ""
            if flag:
                short.append(r["model"])
            t.add_row(r["series"], r["model"], f"{r['share'] * 100:.1f}%", _money(r["value"]), r["status"] or "none",
                      f"{r['providers']}{flag}", str(r["start"] or ""), str(r["end"] or ""))
        out.print(t)
        if short:
            out.print(f"[yellow]below the basket's composition rule[/yellow] (served by at least "
                      f"{members['min_providers'][0]} providers): {', '.join(short)}: review data/baskets.toml")
        return
    summary = token_jobs.basket_summary(store, defs, target)
    t = Table(title="token baskets (USD per million tokens, chain-linked)")
    for col in ("basket", "date", "level", "status", "members", "days", "decline p.a.", "95% interval"):
        t.add_column(col, justify="right" if col in ("level", "members", "days", "decline p.a.") else "left")
    for r in summary.iter_rows(named=True):
        trend = _pct(r["decline"]) if r["decline"] is not None else f"n/a ({r['days']} valid days, needs 3)"
        band = (f"{_pct(r['decline_low'])} … {_pct(r['decline_high'])}" if r["decline"] is not None else "")
        t.add_row(r["index_id"], str(r["date"] or ""), _money(r["value"]), r["status"] or "", str(r["members"]),
                  str(r["days"]), trend, band)
    out.print(t)
    out.print("decline p.a.: share of the price lost per year by a log-linear fit of the published levels "
              "(+90% = an order of magnitude cheaper in a year).")
