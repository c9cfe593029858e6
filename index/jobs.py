"""The jobs the CLI, the scheduler and the tests share: scrape, compute, publish.

Each job wires pure pieces (sources, pipeline) to the edges (store, files). Keeping them
here means no rule lives only in a command-line face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

import sources as source_registry
from index import analyst, artefacts, pipeline, publish, replay, scrape
from index import definitions as definitions_mod
from index.errors import SpotindexError
from index.store import Store
from sources.base import Source


@dataclass
class ScrapeResult:
    run_id: str
    outcomes: list[scrape.SourceOutcome]
    totals: dict[str, int]

    @property
    def any_ok(self) -> bool:
        return any(o.status in ("ok", "partial") for o in self.outcomes)

    def dates(self) -> list[date]:
        return sorted({o.observed_at.date() for o in self.outcomes if o.status in ("ok", "partial")})


def select_sources(names: Sequence[str] | None) -> list[Source]:
    registry = source_registry.all_sources()
    if not names:
        return [s for s in registry.values() if s.enabled_by_default]
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise SpotindexError(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(registry)}")
    return [registry[n] for n in names]


def run_scrape(store: Store, replay_dir: Path | None = None, names: Sequence[str] | None = None) -> ScrapeResult:
    """Scrape live or from a snapshot and store everything in one transaction."""
    chosen = select_sources(names)
    started = datetime.now(UTC)
    if replay_dir is not None:
        snap = replay.load(replay_dir)
        outcomes = [o for rnd in scrape.scrape_replay(chosen, snap) for o in rnd]
        dataset = snap.label
    else:
        outcomes = scrape.scrape_live(chosen)
        dataset = "live"
    run_id = scrape.new_run_id("scrape")
    totals = store.write_scrape(run_id, started, dataset, outcomes)
    return ScrapeResult(run_id, outcomes, totals)


def compute_days(store: Store, days: Sequence[date], series: Sequence[str] | None = None,
                 defs: definitions_mod.Definitions | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Recompute fixings and daily values for the given UTC days from stored rows.

    ``until`` (the hourly job): store only fixings at or before it and no daily value, so a
    fixing is written once its hour has passed and a day's value only once the day is over.
    """
    defs = (defs or definitions_mod.load()).select(list(series) if series else None)
    run_id = scrape.new_run_id("compute")
    totals = {"days": 0, "fixings_new": 0, "values_new": 0}
    for day in days:
        start, end = pipeline.day_bounds(day)
        first = start - pipeline.lookback(defs)
        fx, venues, values = pipeline.compute_day(store.gpu_quotes(first, end), store.token_prices(first, end),
                                                  defs, day)
        if until is not None:
            fx, venues = (f.filter(pl.col("fixing_time") <= until) for f in (fx, venues))
            values = values.clear()
        out = store.write_computation(run_id, fx, venues, values)
        totals["days"] += 1
        totals["fixings_new"] += out["fixings_new"]
        totals["values_new"] += out["values_new"]
    return totals


def latest_values(store: Store, day: date | None = None) -> pl.DataFrame:
    """Latest revision of each series' value for ``day`` (or each series' latest day)."""
    if day is not None:
        return store.frame("SELECT * FROM latest_index_values WHERE date = ? ORDER BY index_id", [day])
    return store.frame("SELECT * FROM latest_index_values QUALIFY row_number() OVER "
                       "(PARTITION BY index_id ORDER BY date DESC) = 1 ORDER BY index_id")


def publish_day(store: Store, day: date, out_dir: Path, refresh_analyst: bool = True) -> tuple[Path, dict[str, Any]]:
    """Write the day's files, record the publication, switch ``latest/``, refresh the analyst snapshot."""
    values = latest_values(store, day)
    if values.height == 0:
        raise SpotindexError(f"no computed values for {day}: run 'spotindex compute --date {day}' first")
    defs = definitions_mod.load()
    report = publish.build_report(day, values, defs.version, defs.methodology)
    files = artefacts.day_files(store, day, report, values)  # Parquet, HTML page, methodology copy
    path = publish.write_day(out_dir, report, files)
    digest = publish.hashlib.sha256(publish.canonical_json(report)).hexdigest()
    store.record_publication(day, str(out_dir), digest,
                             [{"index_id": e["id"], "revision": e["revision"]} for e in report["indices"]])
    artefacts.switch_latest(out_dir, day)  # last, so latest/ never shows a half-written day
    if refresh_analyst:
        analyst.refresh(store.path)
    return path, report
