"""CLI for the synthetic market: ``spotindex simulate`` (a thin face over ``index.simulate``)."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated, Any

import typer

from index import simulate as simulate_mod
from index.cli import DEFAULT_DB, DbOpt, app, out, parse_day
from index.errors import SpotindexError
from index.store import Store


@app.command()
def simulate(
    venues: Annotated[int, typer.Option(help="Venues (one in ten is a marketplace).")] = 30,
    series: Annotated[int, typer.Option(help="GPU series SIM.S0..; each is a GPU model SIM-GPU-<s>.")] = 10,
    days: Annotated[int, typer.Option(help="Days of hourly quotes from --start.")] = 365,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same rows.")] = 7,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")] = "2025-01-01",
    market_listings: Annotated[int, typer.Option(help="Listings per series per hour on a marketplace.")]
    = simulate_mod.MARKET_LISTINGS,
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Write a seeded synthetic GPU market into the store (for testing a methodology change)."""
    if venues < 1 or series < 1 or days < 1:
        raise SpotindexError("--venues, --series and --days must be at least 1")
    first: date = parse_day(start)
    market = simulate_mod.Market(venues=venues, series=series, seed=seed, start=first,
                                 market_listings=market_listings)
    t0 = time.monotonic()

    def on_month(at: Any, generated: int, added: int) -> None:
        out.print(f"{at:%Y-%m}: {generated:,} rows generated, {added:,} added")

    totals = simulate_mod.simulate(Store(db), market, days, on_month=on_month)
    out.print(f"{totals['generated']:,} rows generated, {totals['added']:,} added to {db} "
              f"in {time.monotonic() - t0:.1f}s; series SIM.S0..SIM.S{series - 1}: "
              "index.simulate.benchmark_definitions() or README 'Synthetic market'")
