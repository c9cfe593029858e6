"""The ``spotindex`` command line: a thin face over ``index.jobs`` (no rule lives here).

Every command takes ``--db``; errors a user can act on are printed as one line on stderr
with exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from index import jobs, oracle
from index.errors import SpotindexError, describe_os_error, disk_hint
from index.paths import default_db
from index.store import Store

app = typer.Typer(help="spotindex: reference indices for AI compute (GPU-hours and tokens).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# Wide enough for the tables when output goes to a pipe or a log (make run, CI).
out = Console() if sys.stdout.isatty() else Console(width=200)
err = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=160)

DbOpt = Annotated[Path, typer.Option("--db", help="DuckDB file.", show_default=True)]
ReplayOpt = Annotated[Path | None, typer.Option("--replay", help="Replay snapshot directory instead of the network.")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", "-s", help="Only these sources (repeatable).")]
KeyOpt = Annotated[Path | None, typer.Option("--key", help="Ed25519 private key to sign the report with "
                                             f"(default: ${oracle.KEY_ENV}; unsigned when neither is set).")]
DEFAULT_DB = default_db()


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SpotindexError(f"'{text}' is not a date: use YYYY-MM-DD") from None


def _scrape_table(result: jobs.ScrapeResult) -> Table:
    from index.scrape import summarise

    t = Table(title=f"scrape {result.run_id}")
    for col in ("source", "kind", "rounds", "ok", "partial", "failed", "skipped", "rows", "quarantined", "last error"):
        t.add_column(col, justify="right" if col in ("rounds", "ok", "partial", "failed", "skipped", "rows",
                                                      "quarantined") else "left")
    for s in summarise(result.outcomes):
        t.add_row(s["source"], s["kind"], str(s["rounds"]), str(s["ok"]), str(s["partial"]), str(s["failed"]),
                  str(s["skipped"]), str(s["rows"]), str(s["quarantined"]), (s["error"] or "")[:100])
    return t


def _fmt(x: float | None, places: int = 4) -> str:
    return "-" if x is None else f"{x:.{places}f}"


def _values_table(values, title: str) -> Table:  # type: ignore[no-untyped-def]
    """Values with their status and diagnostics (one row per series and day)."""
    t = Table(title=title)
    for col, just in (("index", "left"), ("date", "left"), ("value", "right"), ("status", "left"),
                      ("venues", "right"), ("quotes", "right"), ("fixings", "right"), ("p25–p75", "right"),
                      ("conf", "right"), ("trim. mean", "right"), ("min–max", "right"), ("top", "right"),
                      ("excl", "right"), ("rev", "right")):
        t.add_column(col, justify=just, no_wrap=col in ("index", "date"))  # type: ignore[arg-type]
    for r in values.iter_rows(named=True):
        status = r["status"]
        if r.get("carried_from") is not None:
            status += f" (from {r['carried_from']})"
        band = f"{_fmt(r['p25'])}–{_fmt(r['p75'])}" if r["p25"] is not None else "-"
        span = f"{_fmt(r.get('min'))}–{_fmt(r.get('max'))}" if r.get("min") is not None else "-"
        fixings = ("-" if r.get("n_fixings") is None
                   else f"{r.get('n_normal') or 0}/{r.get('n_valid') or 0}/{r['n_fixings']}")
        share = r.get("largest_venue_share")
        try:
            n_excl = len(json.loads(r.get("excluded") or "[]"))
        except ValueError:
            n_excl = 0
        t.add_row(r["index_id"], str(r["date"]), _fmt(r["value"]), status, str(r["n_venues"]), str(r["n_quotes"]),
                  fixings, band, _fmt(r["conf"]), _fmt(r.get("trimmed_mean")), span,
                  "-" if share is None else f"{share:.0%}", str(n_excl), str(r["revision"]))
    t.caption = ("fixings = NORMAL/valid/total hourly fixings; top = the largest venue's share of the quotes "
                 "used; excl = venues excluded at some fixing (spotindex audit SERIES DATE says why)")
    return t


def _scrape(db: Path, replay: Path | None, source: list[str] | None) -> jobs.ScrapeResult:
    store = Store(db)
    result = jobs.run_scrape(store, replay, source)
    out.print(_scrape_table(result))
    t = result.totals
    out.print(f"new rows: {t['gpu_new']} GPU quotes, {t['token_new']} token prices; "
              f"{t['quarantined']} new quarantined; {t['raw_new']} new raw responses")
    return result


@app.command()
def sources() -> None:
    """List source plugins: kind, API key needed, venues covered, last checked against a real response."""
    import sources as registry

    t = Table(title="sources")
    for col in ("name", "kind", "key", "venues", "parser checked", "description"):
        t.add_column(col)
    for s in registry.all_sources().values():
        key = "-" if not s.key_env else (f"{s.key_env} (optional)" if s.key_optional else s.key_env)
        t.add_row(s.name, s.kind, key, ", ".join(s.venues), s.parser_checked or "never (docs only)", s.description)
    out.print(t)


@app.command()
def scrape(db: DbOpt = DEFAULT_DB, replay: ReplayOpt = None, source: SourceOpt = None) -> None:
    """Fetch every enabled source (or --replay a snapshot) and load the rows into the store."""
    result = _scrape(db, replay, source)
    if not result.any_ok:
        raise SpotindexError("no source succeeded: nothing was loaded (see the table above)")


@app.command()
def compute(
    db: DbOpt = DEFAULT_DB,
    day: Annotated[str | None, typer.Option("--date", help="UTC day YYYY-MM-DD (default: every observed day).")] = None,
    series: Annotated[list[str] | None, typer.Option("--series", help="Only these series (repeatable).")] = None,
) -> None:
    """Compute hourly fixings and daily values from stored quotes."""
    store = Store(db)
    days = [parse_day(day)] if day else store.observed_dates()
    if not days:
        raise SpotindexError(f"no quotes in {db}: run 'spotindex scrape' first")
    totals = jobs.compute_days(store, days, series)
    out.print(f"computed {totals['days']} day(s): {totals['fixings_new']} new fixing rows, "
              f"{totals['values_new']} new daily values ({totals['revised']} revisions of published values); "
              f"{totals['kept']} published values kept, {totals['errors_new']} new errors-log entries")


@app.command()
def publish(
    db: DbOpt = DEFAULT_DB,
    day: Annotated[str | None, typer.Option("--date", help="UTC day to publish (default: latest computed).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Publication directory.")] = Path("publish"),
    key: KeyOpt = None,
) -> None:
    """Write the day's oracle report (indices.json, indices.csv, indices.json.sig) to OUT/DATE/."""
    store = Store(db)
    target = parse_day(day) if day else _latest_day(store)
    path, report = jobs.publish_day(store, target, out_dir, oracle.signing_key_path(key))
    signed = f"signed by key {report['key_id']}" if report["key_id"] else "UNSIGNED (no --key, no $" + \
        oracle.KEY_ENV + ")"
    out.print(f"published {len(report['indices'])} values for {target} to {path}, {signed} "
              f"(page: {path / 'index.html'})")


def _latest_day(store: Store) -> date:
    values = jobs.latest_values(store)
    if values.height == 0:
        raise SpotindexError("no computed values yet: run 'spotindex compute' first")
    return max(values["date"].to_list())


@app.command()
def run(
    db: DbOpt = DEFAULT_DB,
    replay: ReplayOpt = None,
    source: SourceOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Publication directory.")] = Path("publish"),
    key: KeyOpt = None,
) -> None:
    """The daily job: scrape, compute the days scraped, publish the latest, print its indices."""
    result = _scrape(db, replay, source)
    if not result.any_ok:
        raise SpotindexError("no source succeeded: nothing to compute (see the table above)")
    store = Store(db)
    days = result.dates()
    jobs.compute_days(store, days)
    day = days[-1]
    path, report = jobs.publish_day(store, day, out_dir, oracle.signing_key_path(key))
    out.print(_values_table(jobs.latest_values(store, day), f"spotindex — indices for {day}"))
    signed = f"signed by key {report['key_id']}" if report["key_id"] else "unsigned"
    out.print(f"report: {path / 'indices.json'} ({signed})")
    out.print(f"page:   {path / 'index.html'} (open it in a browser; {out_dir / 'latest'} is the newest day)")


@app.command()
def show(
    db: DbOpt = DEFAULT_DB,
    day: Annotated[str | None, typer.Option("--date", help="UTC day (default: each series' latest).")] = None,
) -> None:
    """Print the latest values with their status and diagnostics."""
    store = Store(db)
    values = jobs.latest_values(store, parse_day(day) if day else None)
    if values.height == 0:
        raise SpotindexError(f"no computed values in {db}: run 'spotindex run' first")
    out.print(_values_table(values, "spotindex — latest values"))


@app.command()
def record(
    directory: Annotated[Path, typer.Argument(help="Snapshot directory to write.")],
    source: SourceOpt = None,
) -> None:
    """Record live responses of the enabled sources as a replay snapshot (secrets redacted)."""
    outcomes = jobs.record_snapshot(directory, source)
    for o in outcomes:
        status = o.status if not o.error else f"{o.status}: {o.error}"
        out.print(f"{o.source}: {len(o.raw)} responses ({status})")
    out.print(f"snapshot written: {directory / 'manifest.json'}")
    if not any(o.raw for o in outcomes):
        raise SpotindexError("no source answered: the snapshot is empty")


def main() -> None:
    """Console entry point: errors a user can act on are one line on stderr and exit 1."""
    try:
        app()
    except SpotindexError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except OSError as exc:  # disk full, read-only or missing directory outside the publication writer
        err.print(f"[red]error:[/red] {describe_os_error(exc)}: {disk_hint(exc)}", highlight=False, soft_wrap=True)
        sys.exit(1)


from index import cli_hedge, cli_history, cli_oracle, cli_perf, cli_service, cli_tokens  # noqa: E402,F401,I001  registers commands
