"""The jobs the CLI, the scheduler and the tests share: scrape, compute, publish.

Each job wires pure pieces (sources, pipeline) to the edges (store, files). Keeping them
here means no rule lives only in a command-line face.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl

import sources as source_registry
from index import (
    analyst,
    artefacts,
    ledger,
    oracle,
    pipeline,
    plausibility,
    publish,
    replay,
    revisions,
    scrape,
    settlement,
    token_jobs,
    tokens,
)
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
    outcomes = screen_outcomes(store, outcomes)
    totals = store.write_scrape(run_id, started, dataset, outcomes)
    return ScrapeResult(run_id, outcomes, totals)


def last_accepted(store: Store, outcomes: Sequence[scrape.SourceOutcome]) -> dict[str, pl.DataFrame]:
    """Each source's stored rows at its latest observation in the ``REFERENCE_DAYS`` before the
    earliest of ``outcomes``: the reference of the per-source plausibility check."""
    if not outcomes or not store.path.exists():
        return {}
    before = min(o.observed_at for o in outcomes)
    since = before - timedelta(days=plausibility.REFERENCE_DAYS)
    found: dict[str, pl.DataFrame] = {}
    for kind, table in (("gpu", "gpu_quotes"), ("token", "token_prices")):
        names = sorted({o.source for o in outcomes if o.kind == kind})
        if not names:
            continue
        marks = ", ".join("?" for _ in names)
        rows = store.frame(
            f"SELECT q.* FROM {table} q JOIN (SELECT source, max(observed_at) AS t FROM {table} "
            f"WHERE source IN ({marks}) AND observed_at < ? AND observed_at >= ? GROUP BY source) l "
            f"ON q.source = l.source AND q.observed_at = l.t", [*names, before, since])
        found.update({name: part for (name,), part in rows.partition_by("source", as_dict=True).items()})
    return found


def screen_outcomes(store: Store, outcomes: Sequence[scrape.SourceOutcome]) -> list[scrape.SourceOutcome]:
    """The per-source plausibility check before storing (index.plausibility, METHODOLOGY.md §3.3)."""
    return scrape.screen(outcomes, last_accepted(store, outcomes))


def record_snapshot(directory: Path, names: Sequence[str] | None = None,
                    client_factory: Callable[[], httpx.AsyncClient] = scrape.live_client
                    ) -> list[scrape.SourceOutcome]:
    """Fetch the chosen sources live and write what they answered as a replay snapshot."""
    outcomes = scrape.scrape_live(select_sources(names), client_factory)
    writer = replay.SnapshotWriter(directory, note=f"recorded live by spotindex record at "
                                                   f"{datetime.now(UTC).isoformat()}")
    for o in outcomes:
        writer.add_all(o.observed_at, o.raw)
    writer.save()
    return outcomes


DAYS_PER_LOAD = 7  # compute_days reads the quotes of up to this many consecutive days at once


def compute_days(store: Store, days: Sequence[date], series: Sequence[str] | None = None,
                 defs: definitions_mod.Definitions | None = None, now: datetime | None = None,
                 until: datetime | None = None) -> dict[str, Any]:
    """Recompute fixings and daily values for the given UTC days from stored rows.

    Days run in date order, each with the prior state the store holds for it (so carry-forward
    and hysteresis follow on from the day before). What may be written follows the revision
    policy (``index.revisions``): a published value is revised only before T+1 09:00 UTC and
    by more than max(0.5%, $0.01); otherwise it stands and the difference is logged.

    ``until`` (the hourly job): store only fixings at or before it and no daily value, so a
    fixing is written once its hour has passed and a day's value only once the day is over.
    """
    defs = (defs or definitions_mod.load()).select(list(series) if series else None)
    now = now or datetime.now(UTC)
    run_id = scrape.new_run_id("compute")
    totals = {"days": 0, "fixings_new": 0, "values_new": 0, "revised": 0, "kept": 0, "errors_new": 0}
    ordered = sorted(set(days))
    back = pipeline.lookback(defs)
    for i in range(0, len(ordered), DAYS_PER_LOAD):
        chunk = ordered[i:i + DAYS_PER_LOAD]
        first, end = pipeline.day_bounds(chunk[0])[0] - back, pipeline.day_bounds(chunk[-1])[1]
        dense = (chunk[-1] - chunk[0]).days < 2 * DAYS_PER_LOAD  # else each day reads its own window
        gpu = store.gpu_quotes(first, end, columns=pipeline.GPU_INPUT_COLUMNS).collect() if dense else None
        tok = store.token_prices(first, end).collect() if dense else None
        for day in chunk:
            start, stop = pipeline.day_bounds(day)
            window = (pl.col("observed_at") >= start - back) & (pl.col("observed_at") < stop)
            g = (gpu.lazy().filter(window) if gpu is not None
                 else store.gpu_quotes(start - back, stop, columns=pipeline.GPU_INPUT_COLUMNS))
            t = tok.lazy().filter(window) if tok is not None else store.token_prices(start - back, stop)
            state = ledger.day_state(store, defs, day)
            # tokens.compute_day = pipeline.compute_day with the token series' selection rules applied
            fx, venues, values = tokens.compute_day(g, t, defs, day, state.prior)
            decision = revisions.decide(values, state.stored, state.published, now)
            fx_w, venues_w, values_w, errors = revisions.apply(decision, fx, venues, values)
            if until is not None:  # the hourly job: the hours that have passed, no daily value yet
                fx_w, venues_w = (f.filter(pl.col("fixing_time") <= until) for f in (fx_w, venues_w))
                values_w, errors = values_w.clear(), errors.clear()
            out = store.write_computation(run_id, fx_w, venues_w, values_w, errors=errors)
            totals["days"] += 1
            totals["fixings_new"] += out["fixings_new"]
            totals["values_new"] += out["values_new"]
            totals["errors_new"] += out["errors_new"]
            totals["revised"] += decision.filter(pl.col("reason").str.starts_with("revision")).height
            totals["kept"] += decision.filter(pl.col("action") == "keep").height
    if until is None:  # token baskets: chain-linked from the members' daily values just written
        totals["values_new"] += token_jobs.compute_baskets(store, ordered, defs, run_id)["basket_values_new"]
    return totals


def compute_one(store: Store, defs: definitions_mod.Definitions, day: date, detail: bool = False
                ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One day recomputed from the stored rows and the prior state the store holds."""
    r = run_one(store, defs, day, detail)
    return r.fixings, r.venues, r.values


def run_one(store: Store, defs: definitions_mod.Definitions, day: date, detail: bool = False) -> pipeline.DayResult:
    start, end = pipeline.day_bounds(day)
    first = start - pipeline.lookback(defs)
    prior = ledger.load_prior(store, defs, day)
    # tokens.run_day = pipeline.run_day with the token series' selection rules applied (as compute_days)
    return tokens.run_day(store.gpu_quotes(first, end), store.token_prices(first, end), defs, day, prior,
                          detail=detail)


def latest_values(store: Store, day: date | None = None) -> pl.DataFrame:
    """Latest revision of each series' value for ``day`` (or each series' latest day)."""
    if day is not None:
        return store.frame("SELECT * FROM latest_index_values WHERE date = ? ORDER BY index_id", [day])
    return store.frame("SELECT * FROM latest_index_values QUALIFY row_number() OVER "
                       "(PARTITION BY index_id ORDER BY date DESC) = 1 ORDER BY index_id")


def publish_day(store: Store, day: date, out_dir: Path, key_path: Path | None = None,
                now: datetime | None = None, refresh_analyst: bool = True,
                defs: definitions_mod.Definitions | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the day's oracle report (signed when a key is given) with its CSV, Parquet and HTML
    page, record the publication, then switch ``latest/`` and refresh the analyst snapshot.

    One round per published series: round ids are monotonic per series, and each entry names
    the previous round's publish time. Series with ``publish = false`` stay out of the report.
    """
    private = oracle.load_private_key(key_path) if key_path is not None else None  # a bad key fails first
    defs = defs or definitions_mod.load()
    publishable = [d.id for d in defs.indices if d.publish]
    values = latest_values(store, day).filter(pl.col("index_id").is_in(publishable))
    if values.height == 0:
        raise SpotindexError(f"no computed values for {day}: run 'spotindex compute --date {day}' first")
    published_at = now or datetime.now(UTC)
    last = {r["index_id"]: (r["round_id"], r["publish_time"]) for r in ledger.last_rounds(store).iter_rows(named=True)}
    rounds = {i: (last[i][0] + 1, last[i][1]) if i in last else (1, None) for i in values["index_id"]}
    report = publish.build_report(day, values, defs.version, defs.methodology, published_at, rounds,
                                  oracle.key_id(private.public_key()) if private else None)
    body = publish.canonical_json(report)
    extra = {"indices.json" + oracle.SIGNATURE_SUFFIX: oracle.sign(body, private)} if private else {}
    files = artefacts.day_files(store, day, report, values, extra)  # Parquet, HTML page, methodology copy
    path = publish.write_day(out_dir, report, files)
    digest = hashlib.sha256(body).hexdigest()
    ledger.record_publication(store, day, str(out_dir), digest, report["indices"], published_at)
    artefacts.switch_latest(out_dir, day)  # last, so latest/ never shows a half-written day
    if refresh_analyst:
        analyst.refresh(store.path)
    return path, report


# ---- checking a report -----------------------------------------------------------------------

COMPARED = ("value", "status", "n_venues", "n_quotes", "p25", "p75", "conf", "inputs_hash", "methodology_version")


def verify_report(report_path: Path, public_key: Path, signature: Path | None = None) -> dict[str, Any]:
    """Check a report's signature; returns the parsed report. Raises VerificationError."""
    body = report_path.read_bytes()
    sig_path = signature or report_path.with_name(report_path.name + oracle.SIGNATURE_SUFFIX)
    if not sig_path.exists():
        raise oracle.VerificationError(f"no signature file {sig_path}: the report is unsigned")
    pub = oracle.load_public_key(public_key)
    oracle.verify(body, sig_path.read_bytes(), pub, str(report_path))
    try:
        report = json.loads(body)
    except ValueError:
        raise oracle.VerificationError(f"{report_path} is signed but is not JSON") from None
    if publish.canonical_json(report) != body:
        raise oracle.VerificationError(f"{report_path} is signed but is not canonical JSON")
    if report.get("key_id") not in (None, oracle.key_id(pub)):
        raise oracle.VerificationError(f"{report_path} names key {report['key_id']} but {public_key} is key "
                                       f"{oracle.key_id(pub)}")
    return report


def recompute_report(store: Store, report: dict[str, Any]) -> pl.DataFrame:
    """Recompute every value in ``report`` from the stored rows; one row per (series, field)
    that does not match, empty when all match."""
    day = date.fromisoformat(report["date"])
    all_defs = definitions_mod.load()
    known = all_defs.by_id()
    ids = [e["id"] for e in report["indices"]]
    problems: list[dict[str, Any]] = [{"id": i, "field": "series", "reported": i, "recomputed": "not defined"}
                                      for i in ids if i not in known]
    defs = all_defs.select([i for i in ids if i in known])
    if defs.indices:
        values = compute_one(store, defs, day)[2]
        if defs.baskets():  # chain-linked from the members' stored daily values, as compute_days does
            values = pl.concat([values, token_jobs.basket_values(store, defs, day)], how="diagonal_relaxed")
        fresh = {e["id"]: e for e in publish.report_entries(values.with_columns(revision=pl.lit(None)))}
        for e in report["indices"]:
            mine = fresh.get(e["id"])
            if mine is None:
                continue
            problems += [{"id": e["id"], "field": f, "reported": e.get(f), "recomputed": mine.get(f)}
                         for f in COMPARED if e.get(f) != mine.get(f)]
    schema = {"id": pl.String, "field": pl.String, "reported": pl.String, "recomputed": pl.String}
    return pl.DataFrame([{k: None if v is None else str(v) for k, v in p.items()} for p in problems], schema=schema)


# ---- audit and settlement --------------------------------------------------------------------

def audit_day(store: Store, series: str, day: date) -> tuple[pipeline.DayResult, pl.DataFrame]:
    """Recompute one series' day with every candidate quote kept (and the stored value)."""
    defs = definitions_mod.load().select([series])
    result = run_one(store, defs, day, detail=True)
    stored = store.frame("SELECT * FROM latest_index_values WHERE index_id = ? AND date = ?", [series, day])
    return result, stored


def settle_contract(store: Store, contract_id: str, publish_it: bool = False, now: datetime | None = None,
                    contracts_path: Path | None = None) -> tuple[settlement.Settlement, dict[str, Any] | None]:
    """Settle a contract from the stored daily values; with ``publish_it``, store it (immutable).

    Returns the computed settlement and the stored one (if it was published before or now).
    """
    contracts = settlement.load_contracts(contracts_path)
    if contract_id not in contracts:
        raise SpotindexError(f"unknown contract {contract_id}; known: {', '.join(contracts) or 'none'}")
    contract = contracts[contract_id]
    now = now or datetime.now(UTC)
    daily = ledger.month_values(store, contract.series, contract.first_day(), contract.last_day())
    version = definitions_mod.load().methodology
    result = settlement.settle(contract, daily, now, version)
    stored = ledger.get_settlement(store, contract_id)
    if publish_it and stored is None:
        if not result.final:
            when = f"{contract.final_at():%Y-%m-%d %H:%M}"
            raise SpotindexError(f"contract {contract_id} cannot be published before {when} UTC "
                                 "(the last day's revision deadline)")
        ledger.insert_settlement(store, {
            "contract_id": contract.id, "series": contract.series, "month": contract.month, "value": result.value,
            "n_days": result.n_days, "status": result.status, "methodology_version": version,
            "inputs_hash": result.inputs_hash, "settled_at": now,
            "detail": json.dumps({"note": result.note, "n_valid": result.n_valid, "contract": contract.model_dump(),
                                  "days": [{**r, "date": r["date"].isoformat(),
                                            "carried_from": r["carried_from"].isoformat() if r["carried_from"]
                                            else None} for r in result.days.iter_rows(named=True)]})})
        stored = ledger.get_settlement(store, contract_id)
    return result, stored
