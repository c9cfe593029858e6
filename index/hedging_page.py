"""A standalone HTML page per series: volatility panel, correlations and (optionally) the hedge.

Self-contained (inline CSS, charts as inline SVG, no script, no external request), so the
publication can copy or link it as it is. ``write_page`` writes ``DIR/<series>.html``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from index.hedging import PERIODS, HedgeResult
from index.volatility import Correlation, VolPanel

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:960px;margin:2rem auto;
padding:0 1rem;color:#222}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}th,td{padding:.25rem .6rem;
border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}
.note{color:#555;font-size:.85rem}svg{max-width:100%;height:auto}"""


def pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}%}"


def num(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def day(d: date | None) -> str:
    return "n/a" if d is None else d.isoformat()


def short_list(items: Sequence[str], head: int = 8, tail: int = 3) -> str:
    """'a, b, c' or, when long, the first and last few with the count ('a, b, … (40 in all) …, y, z')."""
    if len(items) <= head + tail:
        return ", ".join(items)
    return f"{', '.join(items[:head])}, … ({len(items)} in all) …, {', '.join(items[-tail:])}"


def page_name(series: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", series) + ".html"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def vol_rows(p: VolPanel) -> list[tuple[str, str]]:
    dd = p.drawdown
    return [
        ("published days", f"{p.n_days} ({day(p.first_date)} .. {day(p.last_date)}), longest gap {p.max_gap_days} d"),
        ("daily realised volatility", f"{pct(p.daily_vol, 2)} per day, {pct(p.daily_vol_annualised)} annualised "
                                      f"(×√365, {p.n_returns} returns)"),
        ("monthly realised volatility", f"{pct(p.monthly_vol, 2)} per month, {pct(p.monthly_vol_annualised)} "
                                        f"annualised (×√12, {p.n_months} usable months)"),
        ("maximum drawdown", f"{pct(dd.depth)} ({day(dd.peak_date)} → {day(dd.trough_date)}, "
                             f"recovered {day(dd.recovered_date) if dd.recovered_date else 'not yet'})"
         if dd.peak_date else "none"),
        (f"jumps (|daily log change| ≥ {p.jump_threshold:g})", f"{p.jumps_up} up, {p.jumps_down} down"),
        ("largest daily move", f"{pct(p.largest_move)} (log) on {day(p.largest_move_date)}"
         if p.largest_move is not None else "n/a"),
    ]


def hedge_rows(result: HedgeResult) -> list[tuple[str, str]]:
    s, t = result.stats, result.tenor
    rows = [
        (f"{t.name}s simulated", f"{s.n_periods} (tenor {t.label}, entry = {result.entry_source})"),
        ("cost not known at entry, std", f"unhedged {num(s.std_unhedged, 2)}, hedged {num(s.std_hedged, 2)} USD"),
        (f"variance reduction at ratio {s.ratio:g}", pct(s.variance_reduction)),
        ("minimum-variance hedge ratio", f"{num(s.mv_ratio, 3)} ± {num(s.mv_ratio_se, 3)} (SE)"),
        ("variance reduction at that ratio (R², in sample)", pct(s.mv_r2)),
        (f"{t.adjective} cost, mean", f"unhedged {num(s.mean_cost_unhedged, 2)}, "
                                      f"hedged {num(s.mean_cost_hedged, 2)} USD"),
        (f"{t.adjective} cost, std of levels", f"unhedged {num(s.std_cost_unhedged, 2)}, "
                                               f"hedged {num(s.std_cost_hedged, 2)} "
                                               f"USD (level variance reduction {pct(s.level_variance_reduction)})"),
        ("total cost", f"unhedged {num(s.total_cost_unhedged, 2)}, hedged {num(s.total_cost_hedged, 2)} USD "
                       f"(futures P&L {num(s.total_futures_pnl, 2)})"),
    ]
    if result.own_price:
        rows += [
            ("basis (own price − settlement), per unit", f"mean {num(s.basis_mean)}, std {num(s.basis_std)}"),
            (f"basis, std of {t.adjective} cost", f"{num(s.basis_cost_std, 2)} USD"),
            ("own price vs settlement, correlation", num(s.own_index_correlation, 3)),
            ("risk left at the best ratio (√(1 − R²))", pct(s.residual_risk_share)),
        ]
    return rows


def period_rows(result: HedgeResult) -> list[list[str]]:
    fmt = PERIODS[result.tenor.unit][5]
    out = []
    for r in result.periods.iter_rows(named=True):
        out.append([r["period"].strftime(fmt), num(r["quantity"], 0), num(r["settlement"]), num(r["entry"]),
                    num(r["paid"]), num(r["unhedged_cost"], 2), num(r["futures_pnl"], 2), num(r["hedged_cost"], 2),
                    num(r["hedged_price"])])
    return out


PERIOD_HEADER = ("quantity", "settlement", "entry", "price paid", "unhedged cost", "futures P&L", "hedged cost",
                 "hedged price")


def period_header(result: HedgeResult) -> tuple[str, ...]:
    """The table's columns: the period's name ("month", "week of", "day"), then PERIOD_HEADER."""
    return ({"D": "day", "W": "week of", "M": "month"}[result.tenor.unit], *PERIOD_HEADER)


def render_page(series: str, unit: str | None, daily: pl.DataFrame, panel: VolPanel, *,
                hedge: HedgeResult | None = None, correlations: Sequence[Correlation] = (),
                source_note: str = "") -> str:
    from index import hedging_charts  # matplotlib only when a page is drawn

    title = f"{series} — volatility and hedging"
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class=\"note\">Unit: {html.escape(unit or 'n/a')}. {html.escape(source_note)}</p>",
             "<h2>Volatility panel</h2>", _table(("measure", "value"), vol_rows(panel)),
             hedging_charts.svg_text(hedging_charts.vol_figure([(panel, unit, daily)]))]
    mine = [c for c in correlations if series in (c.a, c.b)]
    if mine:
        rows = [[c.b if c.a == series else c.a, c.frequency, num(c.r, 3), str(c.n),
                 "n/a" if c.pvalue is None else f"{c.pvalue:.3g}", c.why_none or ""] for c in mine]
        parts += ["<h2>Correlation with other series</h2>",
                  "<p class=\"note\">Pearson correlation of log changes (daily values; monthly settlements) over "
                  "the dates both series have; n/a where a series did not move or fewer than 3 points overlap.</p>",
                  _table(("series", "frequency", "correlation", "n", "p-value", "why n/a"), rows)]
    if hedge is not None:
        t = hedge.tenor
        parts += [f"<h2>Hedging a {t.adjective} compute bill</h2>",
                  f"<p class=\"note\">Rolling {t.adjective} futures (tenor {t.label}) settled on the {t.adjective} "
                  f"settlement (the mean of the {t.name}'s daily values). Risk is the part of each {t.name}'s cost "
                  "not known when the contract was bought; see METHODOLOGY.md, \"Hedging analytics\".</p>",
                  _table(("measure", "value"), hedge_rows(hedge)),
                  hedging_charts.svg_text(hedging_charts.hedge_figure(series, unit, hedge)),
                  _table(period_header(hedge), period_rows(hedge))]
        if hedge.dropped:
            parts.append(f"<p class=\"note\">{t.name.capitalize()}s left out: " + html.escape("; ".join(
                f"{k}: {short_list(v)}" for k, v in hedge.dropped.items())) + "</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_page(out_dir: Path, series: str, unit: str | None, daily: pl.DataFrame, panel: VolPanel, *,
               hedge: HedgeResult | None = None, correlations: Sequence[Correlation] = (),
               source_note: str = "") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / page_name(series)
    path.write_text(render_page(series, unit, daily, panel, hedge=hedge, correlations=correlations,
                                source_note=source_note), encoding="utf-8")
    return path


__all__ = ["PERIOD_HEADER", "hedge_rows", "page_name", "period_header", "period_rows", "render_page",
           "short_list", "vol_rows", "write_page"]
