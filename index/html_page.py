"""The day's static HTML page (``publish/DATE/index.html``): one self-contained file.

Everything is inline: the style sheet, and one chart per series drawn by matplotlib as SVG
(90 days of daily values with the p25-p75 band). No script, no font, no image and no style
sheet is fetched from anywhere, so the page opens from a file, behind a firewall, or years
later in an archive. Rendering is a pure function of its inputs (the report, the history and
the constituents frames): the same inputs give the same bytes.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from typing import Any

import polars as pl

HISTORY_DAYS = 90
STATUS_CLASS = {"NORMAL": "ok", "LOW_CONFIDENCE": "low", "CONTINGENCY": "cont", "SUSPENDED": "susp"}
LINKS = [("indices.json", "report (canonical JSON)"), ("indices.csv", "CSV"), ("indices.parquet", "Parquet"),
         ("fixings.parquet", "hourly fixings (Parquet)")]
SIGNATURE_FILE = "indices.json.sig"
METHODOLOGY_FILE = "METHODOLOGY.md"

CSS = """
:root{--fg:#1d2430;--muted:#5b6474;--line:#d9dee7;--bg:#fff;--band:#cfe0f5;--accent:#1f5fae}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);
margin:0 auto;max-width:1180px;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;margin:32px 0 8px;border-bottom:1px solid var(--line)}
h3{font-size:1.1em;margin:0 0 4px}
p.meta,.muted{color:var(--muted)}
nav>*{margin-right:14px}
a{color:var(--accent)}
table{border-collapse:collapse;width:100%;margin:6px 0 14px;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;background:#f5f7fa}
td.n{text-align:right;white-space:nowrap}
code{font-size:.85em}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:.8em;font-weight:600}
.ok{background:#dcf3e3;color:#17633a}.low{background:#fff0cc;color:#7a5300}
.cont{background:#fde0dd;color:#8f1d12}.susp{background:#e6e6e6;color:#444}
.series{display:grid;grid-template-columns:minmax(0,1.1fr) minmax(0,1fr);gap:18px;padding:16px 0;
border-bottom:1px solid var(--line)}
.series figure{margin:0}.series svg{width:100%;height:auto}
.headline{font-size:1.3em;font-weight:600}
@media (max-width:800px){.series{grid-template-columns:1fr}}
"""


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _num(x: Any, places: int = 4) -> str:
    if x is None or x == "":
        return "–"
    try:
        return f"{float(x):,.{places}f}"
    except (TypeError, ValueError):
        return _e(x)


def _badge(status: str | None) -> str:
    s = status or "UNKNOWN"
    return f'<span class="badge {STATUS_CLASS.get(s, "susp")}">{_e(s)}</span>'


_FIGURE: dict[str, Any] = {}  # one matplotlib figure per process, cleared for each chart


def _blank_axes() -> Any:
    """The chart figure's axes, emptied: drawn artists, legend and labels removed, data limits
    reset. Creating a figure and axes is about 40% of a chart's time, and a page has one chart
    per series (124 on the replay); what is drawn is the same as on a new figure
    (tests/index/test_html_page.py draws a chart after others and on its own and compares)."""
    from matplotlib.figure import Figure

    if not _FIGURE:
        fig = Figure(figsize=(5.2, 2.1), dpi=100)
        _FIGURE["axes"] = fig.add_subplot()
    ax = _FIGURE["axes"]
    for artist in [*ax.lines, *ax.collections, *ax.texts, *ax.patches]:
        artist.remove()
    ax.containers.clear()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.set_prop_cycle(None)
    ax.relim()
    ax.set_autoscale_on(True)
    return ax


def chart_svg(series_id: str, history: pl.DataFrame, unit: str, day: date) -> str:
    """The series' daily values over the last 90 days with the p25-p75 band, as inline SVG."""
    import matplotlib
    from matplotlib.dates import DateFormatter

    h = history.filter(pl.col("value").is_not_null()).sort("date")
    start = day - timedelta(days=HISTORY_DAYS - 1)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": series_id, "font.size": 8,
                                "axes.spines.top": False, "axes.spines.right": False}):
        ax = _blank_axes()
        fig = ax.figure
        if h.height:
            dates = h["date"].to_list()
            values = h["value"].to_list()
            p25 = h["p25"].fill_null(h["value"]).to_list()
            p75 = h["p75"].fill_null(h["value"]).to_list()
            if h.height > 1:
                ax.fill_between(dates, p25, p75, color="#cfe0f5", linewidth=0, label="p25–p75")
                ax.plot(dates, values, color="#1f5fae", linewidth=1.4, label="daily value")
            else:
                ax.errorbar(dates, values, yerr=[[values[0] - p25[0]], [p75[0] - values[0]]], fmt="none",
                            ecolor="#8fb3de", elinewidth=6, label="p25–p75")
            ax.plot(dates[-1:], values[-1:], "o", color="#1f5fae", markersize=4)
            weak = h.filter(pl.col("status") != "NORMAL")
            if weak.height:
                ax.plot(weak["date"].to_list(), weak["value"].to_list(), "o", markerfacecolor="white",
                        markeredgecolor="#b23b2e", markersize=4, linestyle="none", label="not NORMAL")
            ax.legend(loc="upper left", frameon=False, fontsize=7, ncol=3)
        else:
            ax.text(0.5, 0.5, "no values in the last 90 days", ha="center", va="center", transform=ax.transAxes)
            ax.set_ylim(0, 1)  # a new axes' limits: nothing is plotted
        ax.set_xlim(start - timedelta(days=1), day + timedelta(days=1))  # type: ignore[arg-type]
        ax.xaxis.set_major_formatter(DateFormatter("%b %d"))
        ax.set_ylabel(unit)
        ax.grid(axis="y", color="#e3e7ee", linewidth=0.6)
        fig.subplots_adjust(left=0.13, right=0.98, top=0.97, bottom=0.13)  # fixed: tight_layout costs a draw
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)  # RDF boilerplate, not drawing
    label = f"{series_id}: daily values over the last {HISTORY_DAYS} days with the p25–p75 band"
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_e(label)}" ', 1)


def _values_table(entries: list[dict[str, Any]]) -> str:
    rows = []
    for e in entries:
        rows.append(
            "<tr>"
            f'<td><a href="#s-{_e(e["id"])}">{_e(e["id"])}</a></td>'
            f'<td class="n">{_num(e.get("value"))}</td><td>{_e(e.get("unit"))}</td>'
            f"<td>{_badge(e.get('status'))}</td>"
            f'<td class="n">{_num(e.get("p25"))} – {_num(e.get("p75"))}</td>'
            f'<td class="n">{_num(e.get("conf"))}</td>'
            f'<td class="n">{_e(e["n_fixings"]) if e.get("n_fixings") is not None else "–"}</td>'  # basket: none
            f'<td class="n">{_e(e.get("n_venues"))}</td>'
            f'<td class="n">{_e(e.get("n_quotes"))}</td><td class="n">{_e(e.get("revision"))}</td>'
            f'<td><code title="{_e(e.get("inputs_hash"))}">{_e((e.get("inputs_hash") or "")[:12])}</code></td>'
            "</tr>")
    head = ("<tr><th>series</th><th>value</th><th>unit</th><th>status</th><th>p25 – p75</th><th>conf</th>"
            "<th>fixings</th><th>venues</th><th>quotes</th><th>rev</th><th>inputs hash</th></tr>")
    return f'<table class="values" id="values"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _constituents_table(c: pl.DataFrame) -> str:
    if c.height == 0:
        return '<p class="muted">No constituent venues on this day.</p>'
    rows = "".join(
        f'<tr><td>{_e(r["venue"])}</td><td class="n">{_num(r["median_price"])}</td>'
        f'<td class="n">{_num(r["min_price"])} – {_num(r["max_price"])}</td>'
        f'<td class="n">{_e(r["n_fixings"])}</td><td class="n">{_e(r["n_quotes"])}</td></tr>'
        for r in c.sort("venue").iter_rows(named=True))
    return ('<table class="constituents"><thead><tr><th>venue</th><th>median of its hourly medians</th>'
            "<th>range</th><th>fixings included</th><th>quotes (summed over fixings)</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _excluded_table(x: pl.DataFrame) -> str:
    if x.height == 0:
        return '<p class="muted excluded-none">No venue was excluded on this day.</p>'
    rows = "".join(
        f'<tr><td>{_e(r["venue"])}</td><td>{_e(r["reason"])}</td><td class="n">{_e(r["n_fixings"])}</td></tr>'
        for r in x.sort("venue", "reason").iter_rows(named=True))
    return ('<table class="excluded"><thead><tr><th>venue</th><th>reason</th><th>fixings excluded</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>")


def _links(files: set[str]) -> str:
    parts = [f'<a href="{_e(name)}">{_e(label)}</a>' for name, label in LINKS if name in files]
    if SIGNATURE_FILE in files:
        parts.append(f'<a href="{SIGNATURE_FILE}">Ed25519 signature of indices.json</a>')
    else:
        parts.append('<span class="muted">report not signed</span>')
    if METHODOLOGY_FILE in files:
        parts.append(f'<a href="{METHODOLOGY_FILE}">methodology</a>')
    return "<nav>" + "".join(parts) + "</nav>"


def render(report: dict[str, Any], history: pl.DataFrame, constituents: pl.DataFrame, excluded: pl.DataFrame,
           files: set[str]) -> str:
    """The whole page as a string (UTF-8 HTML5).

    ``history``: index_id, date, value, p25, p75, status (up to 90 days to the report's date);
    ``constituents``: index_id, venue, median_price, min_price, max_price, n_fixings, n_quotes;
    ``excluded``: index_id, venue, reason, n_fixings; ``files``: the names in the day directory.
    """
    day = date.fromisoformat(report["date"])
    entries = report.get("indices", [])
    sections = []
    for e in entries:
        sid = e["id"]
        svg = chart_svg(sid, history.filter(pl.col("index_id") == sid), e.get("unit") or "", day)
        sections.append(
            f'<article class="series" id="s-{_e(sid)}"><div>'
            f"<h3>{_e(sid)}</h3>"
            f'<p><span class="headline">{_num(e.get("value"))}</span> {_e(e.get("unit"))} {_badge(e.get("status"))}'
            f'<br><span class="muted">p25–p75 {_num(e.get("p25"))} – {_num(e.get("p75"))}, conf '
            f'{_num(e.get("conf"))}; {_e(e.get("n_fixings"))} hourly fixings, {_e(e.get("n_venues"))} venues, '
            f'{_e(e.get("n_quotes"))} quotes; revision {_e(e.get("revision"))}</span></p>'
            f"<figure>{svg}<figcaption class=\"muted\">Last {HISTORY_DAYS} days: daily value and p25–p75 band"
            f"</figcaption></figure></div><div>"
            f"<h4>Constituents</h4>{_constituents_table(constituents.filter(pl.col('index_id') == sid))}"
            f"<h4>Excluded venues</h4>{_excluded_table(excluded.filter(pl.col('index_id') == sid))}"
            f"</div></article>")
    meta = (f"Day {_e(report['date'])} (UTC) · published {_e(report.get('publish_time'))} · methodology "
            f"{_e(report.get('methodology_version'))} · definitions {_e(report.get('definitions_version'))}")
    fingerprint = report.get("inputs_fingerprint")
    body = (
        f"<header><h1>spotindex: AI compute spot indices</h1><p class=\"meta\">{meta}</p>{_links(files)}</header>"
        f"<main><h2>The day's values</h2>{_values_table(entries)}"
        f"<h2>Series</h2>{''.join(sections) or '<p>No series published.</p>'}</main>"
        "<footer><h2>Checking this page</h2><p>This page is a view of <code>indices.json</code> in the same "
        "directory, which is the published record: canonical JSON whose values carry the hash of the exact input "
        f"rows. Inputs fingerprint <code>{_e(fingerprint)}</code>. Values are recomputable from the stored quotes "
        "with the rules in the methodology.</p></footer>")
    title = f"spotindex · {report['date']}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta name="generator" content="spotindex">'
            f"<title>{_e(title)}</title><style>{CSS}</style>"
            f"</head><body>{body}</body></html>\n")
