"""CLI commands of the hedging analytics: ``spotindex hedge`` and ``spotindex vol``.

Thin faces: the math is in ``index.hedging`` and ``index.volatility``, the inputs in
``index.hedging_data``, the charts and pages in ``index.hedging_charts`` / ``index.hedging_page``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.table import Table

from index import hedging, hedging_data, hedging_page, volatility
from index.cli import DEFAULT_DB, DbOpt, app, out
from index.errors import SpotindexError
from index.store import Store

FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD or YYYY-MM (included).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="End day, YYYY-MM-DD or YYYY-MM (excluded).")]
MinDaysOpt = Annotated[int, typer.Option("--min-valid-days", min=0, max=31,
                                         help="NORMAL/LOW_CONFIDENCE days a month needs to be settled.")]
PeriodDaysOpt = Annotated[int | None, typer.Option(
    "--min-valid-days", min=0, max=31,
    help="NORMAL/LOW_CONFIDENCE days a period needs to be settled (default: 20 a month, 5 a week, 1 a day).")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Write a chart: FILE.png or FILE.svg.")]
HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Write a standalone HTML page per series into DIR.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON to FILE.")]


def parse_bound(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    for candidate in (text, f"{text}-01"):
        try:
            return date.fromisoformat(candidate)
        except ValueError:
            continue
    raise SpotindexError(f"{flag} '{text}': not a date, use YYYY-MM-DD or YYYY-MM")


def _window(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    a, b = parse_bound(start, "--from"), parse_bound(end, "--to")
    if a is not None and b is not None and a >= b:
        raise SpotindexError(f"--from {a} is not before --to {b} (the range is [from, to))")
    return a, b


def _check_exposure(qty: pl.DataFrame, exposure: Path, a: date | None, b: date | None) -> None:
    """The exposure must have at least one month that overlaps [a, b)."""
    if not _in_window(qty.rename({"month": "period"}), "1mo", a, b).height:
        label = pl.col("month").dt.strftime("%Y-%m")
        first, last = qty.select(label.min().alias("first"), label.max().alias("last")).row(0)
        raise SpotindexError(f"--exposure {exposure}: its months {first} .. {last} are all outside "
                             f"the window [{a or '…'}, {b or '…'}); move --from/--to or give the months of the window")


def _in_window(df: pl.DataFrame, every: str, a: date | None, b: date | None) -> pl.DataFrame:
    """The periods (first day in ``period``, length ``every``) that overlap [a, b)."""
    inside = pl.lit(True)
    if a is not None:
        inside = inside & (pl.col("period").dt.offset_by(every) > a)
    if b is not None:
        inside = inside & (pl.col("period") < b)
    return df.filter(inside)


def _unit(daily: Any) -> str | None:
    units = [u for u in daily["unit"].unique().to_list() if u]
    return units[0] if units else None


def _kv_table(title: str, rows: list[tuple[str, str]]) -> Table:
    t = Table(title=title, show_header=False)
    t.add_column("measure")
    t.add_column("value")
    for k, v in rows:
        t.add_row(k, v)
    return t


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, float) and obj != obj:
        return None
    return obj


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(payload), indent=2, sort_keys=True) + "\n")
    out.print(f"figures: {path}")


@app.command()
def hedge(
    series: Annotated[str, typer.Option("--series", help="Index series ID, e.g. TOK.LLAMA-3.3-70B.BLEND.")],
    exposure: Annotated[Path, typer.Option("--exposure", help="CSV: month (YYYY-MM), quantity per month.")],
    db: DbOpt = DEFAULT_DB,
    start: FromOpt = None,
    end: ToOpt = None,
    tenor: Annotated[str, typer.Option(
        "--tenor", help="Periods ahead each contract is bought: 1M .. 12M (monthly contracts), 1W .. 26W (weekly), "
                        "1D .. 31D (daily).")] = "1M",
    own_price: Annotated[Path | None, typer.Option("--own-price", help="CSV: month, price the company paid.")] = None,
    own_venue: Annotated[str | None, typer.Option(
        "--own-venue", help="The company buys from this constituent venue of the series: its mean price per "
                            "period.")] = None,
    forward: Annotated[Path | None, typer.Option("--forward", help="CSV: month, futures entry price.")] = None,
    ratio: Annotated[float, typer.Option("--ratio", help="Contracts per unit of exposure.")] = 1.0,
    min_valid_days: PeriodDaysOpt = None,
    chart: ChartOpt = None,
    html_dir: HtmlOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Simulate rolling futures on an index (monthly by default) against a company's monthly usage."""
    k = hedging.parse_tenor(tenor)
    a, b = _window(start, end)
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        raise SpotindexError(f"--chart {chart}: use a .png or .svg file name")
    if own_price is not None and own_venue is not None:
        raise SpotindexError("give either --own-price FILE or --own-venue NAME, not both")
    if k.unit != "M" and (own_price is not None or forward is not None):
        flag = "--own-price" if own_price is not None else "--forward"
        raise SpotindexError(f"{flag} gives monthly prices, which a {k.adjective} tenor ({k.label}) cannot use: "
                             "use a monthly tenor (--tenor 1M) or, for the company's price, --own-venue NAME")
    qty = hedging_data.read_exposure(exposure)
    _check_exposure(qty, exposure, a, b)
    own = hedging_data.read_month_prices(own_price) if own_price else None
    fwd = hedging_data.read_month_prices(forward) if forward else None
    store = Store(db)
    daily = hedging_data.load_daily(store, series, a, b)
    if own_venue is not None:
        own = hedging_data.venue_prices(store, series, own_venue, a, b, unit=k.unit)
    unit = _unit(daily)
    settlements = hedging.period_settlements(daily, min_valid_days, k.unit)
    periods = _in_window(hedging.exposure_by_period(qty, k.unit), k.every, a, b)  # the window's periods only
    result = hedging.simulate(settlements, periods, tenor=k, ratio=ratio, own_price=own, forward=fwd)

    t = Table(title=f"{series}: {k.adjective} cost, unhedged vs hedged ({unit or 'unit n/a'})")
    header = hedging_page.period_header(result)
    for col in header:
        t.add_column(col, justify="left" if col == header[0] else "right")
    for row in hedging_page.period_rows(result):
        t.add_row(*row)
    out.print(t)
    out.print(_kv_table(f"{series}: hedge summary [{a or 'start'}, {b or 'end'})", hedging_page.hedge_rows(result)))
    for reason, months in result.dropped.items():
        out.print(f"left out ({reason}): {hedging_page.short_list(months)}")
    if chart is not None:
        from index import hedging_charts  # matplotlib only when a chart is asked for

        out.print(f"chart: {hedging_charts.save(hedging_charts.hedge_figure(series, unit, result), chart)}")
    if html_dir is not None:
        month_days = min_valid_days if k.unit == "M" and min_valid_days is not None else hedging.DEFAULT_MIN_VALID_DAYS
        panel = volatility.vol_panel(series, daily, min_valid_days=month_days)
        path = hedging_page.write_page(html_dir, series, unit, daily, panel, hedge=result,
                                       source_note=f"Window [{a or 'start'}, {b or 'end'}); exposure {exposure.name}.")
        out.print(f"page: {path}")
    if json_out is not None:
        _write_json(json_out, {"series": series, "unit": unit, "from": a, "to": b, "tenor": k.label,
                               "entry": result.entry_source, "own_price": own_venue or (own_price and str(own_price)),
                               "exposure": str(exposure), "stats": result.stats.as_dict(), "dropped": result.dropped,
                               "periods": result.periods.to_dicts()})


@app.command()
def vol(
    series: Annotated[list[str], typer.Option("--series", help="Series ID (repeatable; 2+ adds correlations).")],
    db: DbOpt = DEFAULT_DB,
    start: FromOpt = None,
    end: ToOpt = None,
    jump_threshold: Annotated[float, typer.Option(
        "--jump-threshold", min=0.0, help="A jump is a daily |log change| at least this large.")
    ] = volatility.DEFAULT_JUMP_THRESHOLD,
    min_valid_days: MinDaysOpt = hedging.DEFAULT_MIN_VALID_DAYS,
    chart: ChartOpt = None,
    html_dir: HtmlOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Volatility panel per series (realised vol, drawdown, jumps) and correlations between them."""
    a, b = _window(start, end)
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        raise SpotindexError(f"--chart {chart}: use a .png or .svg file name")
    names = list(dict.fromkeys(series))
    store = Store(db)
    dailies = {s: hedging_data.load_daily(store, s, a, b) for s in names}
    panels = {s: volatility.vol_panel(s, d, jump_threshold, min_valid_days) for s, d in dailies.items()}

    pct, day = hedging_page.pct, hedging_page.day
    t = Table(title=f"volatility panel [{a or 'start'}, {b or 'end'}): log changes; annualised ×√365 (daily), "
                    f"×√12 (monthly settlements)")
    for col in ("series", "days", "daily vol", "ann.", "months", "monthly vol", "ann.", "max drawdown",
                f"jumps ≥{jump_threshold:g} up/down", "largest daily move"):
        t.add_column(col, justify="left" if col == "series" else "right", no_wrap=col == "series")
    for s, p in panels.items():
        dd = p.drawdown
        t.add_row(s, str(p.n_days), pct(p.daily_vol, 2), pct(p.daily_vol_annualised), str(p.n_months),
                  pct(p.monthly_vol, 2), pct(p.monthly_vol_annualised),
                  f"{pct(dd.depth)} {day(dd.peak_date)}→{day(dd.trough_date)}" if dd.peak_date else "0",
                  f"{p.jumps_up}/{p.jumps_down}",
                  f"{pct(p.largest_move)} {day(p.largest_move_date)}" if p.largest_move is not None else "none")
    out.print(t)
    corr = volatility.correlations(dailies, min_valid_days) if len(names) > 1 else []
    shown = [x for x in corr if x.frequency == "daily" or x.n > 0]  # monthly rows only where months overlap
    if shown:
        c = Table(title="correlation of log changes (Pearson; n/a: a series did not move or < 3 common points)")
        why = any(x.why_none for x in shown)
        for col in ("series A", "series B", "pair", "frequency", "r", "n", "p-value") + (("why n/a",) if why else ()):
            c.add_column(col, justify="right" if col in ("r", "n", "p-value") else "left")
        for x in shown:
            kinds = "–".join(sorted({x.a.split(".")[0], x.b.split(".")[0]}))
            c.add_row(x.a, x.b, kinds, x.frequency, hedging_page.num(x.r, 3), str(x.n),
                      "n/a" if x.pvalue is None else f"{x.pvalue:.3g}", *((x.why_none or "",) if why else ()))
        out.print(c)
    units = {s: _unit(d) for s, d in dailies.items()}
    if chart is not None:
        from index import hedging_charts  # matplotlib only when a chart is asked for

        fig = hedging_charts.vol_figure([(panels[s], units[s], dailies[s]) for s in names])
        out.print(f"chart: {hedging_charts.save(fig, chart)}")
    if html_dir is not None:
        for s in names:
            path = hedging_page.write_page(html_dir, s, units[s], dailies[s], panels[s], correlations=corr,
                                           source_note=f"Window [{a or 'start'}, {b or 'end'}).")
            out.print(f"page: {path}")
    if json_out is not None:
        _write_json(json_out, {"from": a, "to": b, "panels": {s: p.as_dict() for s, p in panels.items()},
                               "correlations": [x.__dict__ for x in corr]})
