"""CLI for history: ``import`` past prices, ``backfill`` a range of days, print a series' ``history``.

Thin faces over ``index.importers``, ``index.backfill`` and ``index.history``.
"""

from __future__ import annotations

import io
import re
import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from index import backfill as backfill_mod
from index import definitions as definitions_mod
from index import history as history_mod
from index import store_history
from index.cli import DEFAULT_DB, DbOpt, app, err, out, parse_day
from index.errors import SpotindexError
from index.importers import FORMATS, ImportOptions, load_venue_map, run_import
from index.importers.common import batch_rows_default
from index.store import Store


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    """``a=b,c=d`` (repeatable) -> {a: b, c: d}."""
    out_: dict[str, str] = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise SpotindexError(f"{flag} '{part}': expected COLUMN=VALUE")
            out_[key.strip()] = value.strip()
    return out_


def _duration(text: str) -> timedelta:
    m = re.fullmatch(r"\s*(\d+)\s*([dh])\s*", text)
    if not m:
        raise SpotindexError(f"--every '{text}': use a number of days or hours, e.g. 1d or 12h")
    step = timedelta(days=int(m[1])) if m[2] == "d" else timedelta(hours=int(m[1]))
    if not timedelta(hours=1) <= step < timedelta(days=7):
        raise SpotindexError(f"--every {text}: the step must be between 1h and less than 7 days (the list-price "
                             "window), or a price would drop out of the fixings between two samples")
    return step


@app.command("import")
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help=f"One of: {', '.join(FORMATS)}.")],
    path: Annotated[Path, typer.Argument(help="CSV or Parquet file.")],
    db: DbOpt = DEFAULT_DB,
    source: Annotated[str | None, typer.Option("--source", help="Source name on the rows (default: by format).")]
    = None,
    venue_map: Annotated[Path | None, typer.Option("--venue-map", help="CSV raw,venue[,venue_class] or TOML.")]
    = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset name (rows get import:NAME; default: "
                                                                  "the file name without suffix).")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="OURS=THEIRS column mapping (repeatable, or "
                                                                "comma-separated).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="COLUMN=VALUE constant (repeatable).")] = None,
    ignore_unknown: Annotated[bool, typer.Option("--ignore-unknown-columns", help="Skip columns we do not know "
                                                                                  "instead of refusing the file.")]
    = False,
    shape: Annotated[str | None, typer.Option("--shape", help="intervals: force a ledger shape (litellm, openrouter, "
                                                              "llm-prices, llmrates, normalised).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="intervals: where open intervals end (default: the "
                                                              "ledger's latest date).")] = None,
    every: Annotated[str, typer.Option("--every", help="intervals: sampling step inside an interval.")] = "1d",
    price: Annotated[str, typer.Option("--price", help="provider-summary: avg or min per provider.")] = "avg",
) -> None:
    """Load a file of past prices (quotes, intervals, provider-summary) into the store, tagged import:NAME."""
    if fmt not in FORMATS:
        raise SpotindexError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")
    opts = ImportOptions(
        source=source, dataset=dataset, venue_map=load_venue_map(venue_map), maps=_pairs(map_, "--map"),
        sets=_pairs(set_, "--set"), ignore_unknown=ignore_unknown, batch_rows=batch_rows_default(),
        until=datetime.combine(parse_day(until), datetime.min.time(), UTC) if until else None,
        every=_duration(every), shape=shape, price=price)
    r = run_import(Store(db), fmt, path, opts)
    t = Table(title=f"import {path.name} ({fmt}) as {r.dataset}")
    for col, just in (("rows read", "right"), ("kind", "left"), ("source", "left"), ("rows loaded", "right"),
                      ("new", "right"), ("already stored", "right"), ("quarantined", "right"), ("observed", "left")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    span = f"{r.first_observed:%Y-%m-%d} .. {r.last_observed:%Y-%m-%d}" if r.first_observed and r.last_observed else ""
    t.add_row(str(r.rows_read), r.kind or "", r.source or "", str(r.rows_loaded), str(r.rows_new),
              str(r.rows_loaded - r.rows_new), str(r.quarantined), span)
    out.print(t)
    for reason, n in r.skipped.items():
        out.print(f"skipped {n}: {reason}")
    if "intervals" in r.notes:
        out.print(f"{r.notes['intervals']} intervals expanded to {r.rows_loaded} observations "
                  f"(every {every}, open intervals until {r.notes['until']:%Y-%m-%d %H:%M}Z)")
    if "tier" in r.notes:
        out.print(f"tier {r.notes['tier']} (eligibility window of the snapshots, METHODOLOGY 'Historical imports')")
    if r.notes.get("unknown_gpu_models"):
        out.print(f"GPU models not in data/gpu_models.toml (stored as unknown:…): {r.notes['unknown_gpu_models']}")
    if r.reasons:
        out.print(f"quarantined {r.quarantined} row(s) ({r.quarantine_new} new in the quarantine table):")
        for item in sorted(r.reasons.values(), key=lambda x: -x.count):
            out.print(f"  {item.count:>7}  {item.message(path)}", highlight=False, soft_wrap=True)
    if r.rows_loaded == 0 and r.quarantined:
        raise SpotindexError(f"{path}: no row could be loaded ({r.quarantined} quarantined, reasons above)")


@app.command()
def backfill(
    from_: Annotated[str, typer.Option("--from", help="First UTC day (YYYY-MM-DD), included.")],
    to: Annotated[str, typer.Option("--to", help="End day, excluded: the range is [from, to).")],
    db: DbOpt = DEFAULT_DB,
    series: Annotated[list[str] | None, typer.Option("--series", help="Only these series (repeatable).")] = None,
    methodology: Annotated[str | None, typer.Option("--methodology", help="Methodology version to compute under "
                                                                          "(must be this release's).")] = None,
    restart: Annotated[bool, typer.Option("--restart", help="Ignore the progress of an interrupted run.")] = False,
) -> None:
    """Recompute fixings and daily values over [from, to): resumable; published values are never overwritten."""
    start, end = parse_day(from_), parse_day(to)
    store = Store(db)
    columns = (TextColumn("[bold]backfill[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("series×days"), TimeElapsedColumn(), TimeRemainingColumn())
    # the bar opens once the range and series are checked, so a refused backfill prints only its error
    stack = ExitStack()
    bar: dict[str, Any] = {}

    def on_start(total: int, done: int) -> None:
        progress = stack.enter_context(Progress(*columns, console=err, transient=False))
        bar["progress"], bar["task"] = progress, progress.add_task(
            f"{start} → {end}" + (f" (resumed: {done} done)" if done else ""), total=total, completed=done)

    def on_day(day: date, n: int) -> None:
        bar["progress"].update(bar["task"], advance=n, description=f"{day}")

    with stack:
        r = backfill_mod.run_backfill(store, start, end, series, methodology, restart=restart,
                                      on_start=on_start, on_day=on_day)
    resumed = f", {r.days_resumed} day(s) already done by an interrupted run" if r.days_resumed else ""
    out.print(f"backfilled {len(r.series)} series × {r.days_total} day(s) [{start}, {end}) in {r.elapsed_s:.1f}s"
              f"{resumed}: {r.values_new} new daily values, {r.fixings_new} new fixings (reason 'backfill', "
              f"run {r.run_id})", soft_wrap=True)
    if r.values_published_kept:
        out.print(f"{r.values_published_kept} published value(s) kept as published; {r.recomputed_new} recomputed "
                  "value(s) stored apart (spotindex history SERIES --revisions shows them)")
    if r.revisions_allowed:
        out.print(f"{r.revisions_allowed} published value(s) revised within the revision window")
    if r.days_without_values:
        out.print(f"{len(r.days_without_values)} day(s) without any value (no stored rows for these series): "
                  f"first {r.days_without_values[0]}, last {r.days_without_values[-1]}")


@app.command()
def history(
    series: Annotated[str, typer.Argument(help="Series id, e.g. GPU.H100-SXM.OD.NEO.")],
    db: DbOpt = DEFAULT_DB,
    from_: Annotated[str | None, typer.Option("--from", help="First day, included.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="End day, excluded.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or parquet.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")]
    = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Also draw the series to FILE.png or FILE.svg.")]
    = None,
    revisions: Annotated[bool, typer.Option("--revisions", help="Every revision of each value with its reason.")]
    = False,
    methodology: Annotated[str | None, typer.Option("--methodology", help="Values recomputed under this methodology "
                                                                          "version (kept apart when published "
                                                                          "values exist).")] = None,
) -> None:
    """Print a series' daily values over [from, to); --revisions shows every revision and its reason."""
    if fmt not in history_mod.FORMATS:
        raise SpotindexError(f"unknown --format '{fmt}': use one of {', '.join(history_mod.FORMATS)}")
    store = Store(db)
    start, end = (parse_day(from_) if from_ else None), (parse_day(to) if to else None)
    df = store_history.history(store, series, start, end, revisions, methodology)
    if df.height == 0:
        known = store_history.series_with_values(store)
        defined = definitions_mod.load().by_id()
        if series not in defined and series not in known:
            raise SpotindexError(f"unknown series '{series}'; series with values: {', '.join(known) or 'none'}")
        span = f" in [{start or '…'}, {end or '…'})"
        raise SpotindexError(f"no values for {series}{span}" + (f" under methodology {methodology}" if methodology
                                                                else "") + ": run 'spotindex backfill' first")
    shaped = history_mod.shape(df, revisions)
    unit = df["unit"].drop_nulls()[0] if "unit" in df.columns and df["unit"].drop_nulls().len() else None
    if chart is not None:
        latest = store_history.history(store, series, start, end, False, methodology) if revisions else df
        history_mod.chart(latest, chart, f"{series} ({unit or ''})", unit)
        err.print(f"chart written: {chart}")
    if fmt == "table":
        text = _table(shaped, series, revisions)
        if output:
            output.write_text(text)
        else:
            out.print(text, highlight=False, soft_wrap=True)
        return
    data = history_mod.render(shaped, fmt)
    if output:
        output.write_bytes(data)
        err.print(f"{shaped.height} row(s) written to {output}")
    elif fmt == "parquet" and sys.stdout.isatty():
        raise SpotindexError("parquet is binary: use --output FILE or redirect stdout to a file")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def _table(df, series: str, revisions: bool) -> str:  # type: ignore[no-untyped-def]
    from rich.console import Console

    t = Table(title=f"{series} — {'every revision' if revisions else 'daily values'}")
    cols = (["date", "rev", "value", "status", "reason", "methodology", "stored in", "published"] if revisions
            else ["date", "value", "unit", "status", "venues", "quotes", "fixings", "p25–p75", "rev", "reason"])
    for c in cols:
        t.add_column(c, justify="right" if c in ("value", "venues", "quotes", "fixings", "rev") else "left")
    for r in df.iter_rows(named=True):
        value = "" if r["value"] is None else f"{r['value']:.6g}"
        if revisions:
            pub = f"{r['published_at']:%Y-%m-%d %H:%M}" if r.get("published_at") else ""
            t.add_row(str(r["date"]), str(r["revision"]), value, r["status"] or "", r["reason"] or "",
                      r["methodology_version"] or "", r.get("stored_in") or "", pub)
        else:
            band = f"{r['p25']:.4g}–{r['p75']:.4g}" if r.get("p25") is not None else ""
            t.add_row(str(r["date"]), value, r.get("unit") or "", r["status"] or "", str(r["n_venues"]),
                      str(r["n_quotes"]), str(r["n_fixings"]), band, str(r["revision"]), r["reason"] or "")
    buf = io.StringIO()
    Console(file=buf, width=160, color_system=None).print(t)
    return buf.getvalue()
