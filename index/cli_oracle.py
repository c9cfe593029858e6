"""CLI commands of the oracle and the methodology: keygen, verify, audit, settle.

Registered on ``index.cli.app`` by importing this module (the last line of index/cli.py).
Thin faces: the work is in ``index.jobs``, ``index.oracle``, ``index.settlement``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from index import jobs, oracle
from index.cli import DEFAULT_DB, DbOpt, _fmt, app, out, parse_day
from index.errors import SpotindexError
from index.store import Store


@app.command()
def keygen(
    prefix: Annotated[Path, typer.Option("--out", help="Writes PREFIX.key (private, mode 0600) and PREFIX.pub.")
                      ] = Path("keys/spotindex"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key pair.")] = False,
) -> None:
    """Make an Ed25519 key pair for signing reports (private key file mode 0600)."""
    key_path, pub_path = oracle.keygen(prefix, force=force)
    kid = oracle.key_id(oracle.load_private_key(key_path).public_key())
    out.print(f"private key: {key_path} (mode 0600, keep it secret)\npublic key:  {pub_path} (give it to consumers)\n"
              f"key id: {kid}\nsign with: spotindex publish --key {key_path}  (or export {oracle.KEY_ENV}={key_path})")


def _report_path(path: Path) -> Path:
    return path / "indices.json" if path.is_dir() else path


@app.command()
def verify(
    report: Annotated[Path, typer.Argument(help="indices.json (or its day directory).")],
    key: Annotated[Path, typer.Option("--key", help="The publisher's public key (PEM).")],
    sig: Annotated[Path | None, typer.Option("--sig", help="Signature file (default: REPORT.sig).")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Also recompute every value from this database.")] = None,
) -> None:
    """Check a report's signature and, with --db, recompute every value from the stored rows."""
    path = _report_path(report)
    if not path.exists():
        raise SpotindexError(f"report {path} does not exist")
    parsed = jobs.verify_report(path, key, sig)
    out.print(f"signature OK: {path} was signed by key {oracle.key_id(oracle.load_public_key(key))} "
              f"({len(parsed['indices'])} values for {parsed['date']}, published {parsed['publish_time']})")
    if db is None:
        return
    problems = jobs.recompute_report(Store(db), parsed)
    if problems.height == 0:
        out.print(f"database check OK: all {len(parsed['indices'])} values recomputed from {db} match the report")
        return
    t = Table(title=f"values in {path} that do not match a recomputation from {db}")
    for col in problems.columns:
        t.add_column(col)
    for r in problems.iter_rows():
        t.add_row(*[("-" if v is None else str(v)) for v in r])
    out.print(t)
    n_series = problems["id"].n_unique()
    raise SpotindexError(f"{n_series} of {len(parsed['indices'])} values do not match the database (see the table)")


def _codes(excluded: str | None) -> str:
    try:
        entries = json.loads(excluded or "[]")
    except ValueError:
        return ""
    return ", ".join(f"{e['venue']}" for e in entries if not e.get("included", False))


@app.command()
def audit(
    series: Annotated[str, typer.Argument(help="Series id, e.g. GPU.H100-SXM.OD.NEO.")],
    day: Annotated[str, typer.Argument(help="UTC day YYYY-MM-DD.")],
    db: DbOpt = DEFAULT_DB,
    fixing: Annotated[str | None, typer.Option("--fixing", help="Hour HH (UTC) to detail; default: the first "
                                               "fixing with an exclusion, else the last with data.")] = None,
    quotes: Annotated[int, typer.Option("--quotes", help="How many quotes of that fixing to list.")] = 25,
) -> None:
    """Explain one value: the quotes used, the venue medians, what was excluded and why."""
    target = parse_day(day)
    result, stored = jobs.audit_day(Store(db), series, target)
    fresh = result.values.filter(pl.col("index_id") == series)
    if fresh.height == 0:
        raise SpotindexError(f"nothing computed for {series} on {target}")
    v = fresh.row(0, named=True)
    out.print(f"[bold]{series} on {target}[/bold] — methodology {v['methodology_version']}, estimator "
              f"{v['estimator']}, window {v['value_window']}")
    if stored.height:
        s = stored.row(0, named=True)
        same = (s["inputs_hash"] == v["inputs_hash"] and s["status"] == v["status"])
        out.print(f"stored:     {_fmt(s['value'], 6)} {s['unit']}  {s['status']}  revision {s['revision']}  "
                  f"inputs {s['inputs_hash'][:16]}…")
        out.print(f"recomputed: {_fmt(v['value'], 6)} {v['unit']}  {v['status']}  inputs {v['inputs_hash'][:16]}…  "
                  f"{'(matches the stored value)' if same else '[red](DIFFERS from the stored value)[/red]'}")
    else:
        out.print(f"not stored yet; recomputed: {_fmt(v['value'], 6)} {v['unit']} {v['status']}")
    if v["carried_from"] is not None:
        out.print(f"carried from {v['carried_from']} (the day had too few valid fixings)")
    if v["value_window"] == "pooled":
        venues, qs, keys = result.pooled_venues, result.pooled_quotes, "date"
        out.print(f"pooled window: {v['n_quotes']} observations from {v['n_venues']} venues")
    else:
        venues, qs, keys = result.venues, result.quotes, "fixing_time"
        fx = result.fixings.filter(pl.col("index_id") == series)
        out.print(f"fixings: {v['n_normal']} NORMAL, {v['n_valid']} valid of {v['n_fixings']} "
                  "(sufficiency rules: METHODOLOGY.md §5)")
        t = Table(title="hourly fixings")
        for col in ("time", "value", "status", "venues", "quotes", "p25–p75", "excluded venues"):
            t.add_column(col)
        for r in fx.iter_rows(named=True):
            status = r["status"] + (f" (carried from {r['carried_from']:%H:%M %d %b})" if r["carried_from"] else "")
            band = f"{_fmt(r['p25'])}–{_fmt(r['p75'])}" if r["p25"] is not None else "-"
            t.add_row(f"{r['fixing_time']:%H:%M}", _fmt(r["value"]), status, str(r["n_venues"]), str(r["n_quotes"]),
                      band, _codes(r["excluded"]))
        out.print(t)
    venues = venues.filter(pl.col("index_id") == series)
    qs = qs.filter(pl.col("index_id") == series) if qs.height else qs
    if venues.height == 0:
        out.print("no quotes reached this series on this day")
        return
    summary = venues.group_by("venue").agg(
        present=pl.len(), included=pl.col("included").sum(), median_lo=pl.col("venue_median").min(),
        median_hi=pl.col("venue_median").max(), quotes=pl.col("n_quotes").max(), dropped=pl.col("n_dropped").sum(),
        reasons=pl.col("exclusion_reason").drop_nulls().str.split(":").list.first().unique().sort().str.join(", "),
    ).sort("venue")
    t = Table(title="venues over the day" if keys == "fixing_time" else "venues in the pool")
    for col in ("venue", "fixings present" if keys == "fixing_time" else "present", "included",
                "venue median (min–max)", "max quotes", "quotes dropped", "exclusions"):
        t.add_column(col)
    for r in summary.iter_rows(named=True):
        t.add_row(r["venue"], str(r["present"]), str(r["included"]), f"{_fmt(r['median_lo'])}–{_fmt(r['median_hi'])}",
                  str(r["quotes"]), str(r["dropped"]), r["reasons"] or "")
    out.print(t)
    if keys == "fixing_time":
        if fixing is not None:
            head = fixing.split(":")[0]
            if not head.isdigit() or not 0 <= int(head) < 24:
                raise SpotindexError(f"--fixing '{fixing}' is not an hour 0-23")
            hour = int(head)
            chosen = venues.filter(pl.col("fixing_time").dt.hour() == hour)
        else:
            with_excl = venues.filter(~pl.col("included") | (pl.col("n_dropped") > 0))
            pick = with_excl["fixing_time"].min() if with_excl.height else venues["fixing_time"].max()
            chosen = venues.filter(pl.col("fixing_time") == pick)
        if chosen.height == 0:
            out.print(f"no venue had a quote at fixing {fixing}")
            return
        when = chosen["fixing_time"][0]
        chosen_q = qs.filter(pl.col("fixing_time") == when)
        label = f"fixing {when:%Y-%m-%d %H:%M} UTC"
    else:
        chosen, chosen_q, label = venues, qs, f"pool for {target}"
    t = Table(title=f"venue medians at {label}")
    for col in ("venue", "median", "quotes", "dropped", "scaled MADs", "included", "reason"):
        t.add_column(col)
    for r in chosen.sort("venue").iter_rows(named=True):
        t.add_row(r["venue"], _fmt(r["venue_median"]), str(r["n_quotes"]), str(r["n_dropped"]),
                  _fmt(r["distance"], 2), "yes" if r["included"] else "NO", r["exclusion_reason"] or "")
    out.print(t)
    inc = set(chosen.filter(pl.col("included"))["venue"].to_list())
    t = Table(title=f"quotes at {label} ({min(quotes, chosen_q.height)} of {chosen_q.height}, by venue and price)")
    for col in ("venue", "source", "offer", "observed", "price", "used", "why not"):
        t.add_column(col)
    for r in chosen_q.sort("venue", "price").head(quotes).iter_rows(named=True):
        used = r["gross_ok"] and r["venue"] in inc
        why = r["gross_reason"] or ("" if used else "venue excluded")
        t.add_row(r["venue"], r["source"], str(r["offer_id"])[:28], f"{r['observed_at']:%m-%d %H:%M}",
                  _fmt(r["price"]), "yes" if used else "no", why)
    out.print(t)


@app.command()
def settle(
    contract: Annotated[str, typer.Argument(help="Contract id from data/contracts.toml.")],
    db: DbOpt = DEFAULT_DB,
    publish_it: Annotated[bool, typer.Option("--publish", help="Store the settlement (final, immutable).")] = False,
    contracts: Annotated[Path | None, typer.Option("--contracts", help="Contracts file (default "
                                                   "data/contracts.toml).")] = None,
) -> None:
    """Print a contract's settlement value with the daily values used and their statuses."""
    result, stored = jobs.settle_contract(Store(db), contract, publish_it, datetime.now(UTC), contracts)
    c = result.contract
    out.print(f"[bold]{c.id}[/bold]: {c.series}, {c.month}, rule {c.rule}, minimum {c.min_valid_days} valid days, "
              f"fallback {c.fallback}")
    t = Table(title="daily values")
    for col in ("date", "value", "status", "revision", "used"):
        t.add_column(col)
    for r in result.days.iter_rows(named=True):
        status = r["status"] + (f" (from {r['carried_from']})" if r["carried_from"] else "")
        t.add_row(str(r["date"]), _fmt(r["value"], 6), status, "-" if r["revision"] is None else str(r["revision"]),
                  "yes" if r["used"] else "no")
    out.print(t)
    out.print(f"computed settlement: {_fmt(result.value, 6)} ({result.status}) — {result.note}")
    if stored is not None:
        out.print(f"PUBLISHED settlement (immutable): {_fmt(stored['value'], 6)} ({stored['status']}), settled at "
                  f"{stored['settled_at']:%Y-%m-%d %H:%M} UTC, inputs {stored['inputs_hash'][:16]}…")
        if stored["inputs_hash"] != result.inputs_hash:
            out.print("[yellow]note: the daily values have changed since publication; the published settlement "
                      "stands[/yellow]")
