"""Charts of the hedging analytics (matplotlib, Agg backend): PNG/SVG files or inline SVG text."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from index.errors import SpotindexError  # noqa: E402
from index.hedging import HedgeResult  # noqa: E402
from index.volatility import VolPanel, daily_returns  # noqa: E402

plt.rcParams["svg.hashsalt"] = "spotindex"  # stable element ids: the same data gives the same SVG
plt.rcParams["svg.fonttype"] = "none"  # text stays text (smaller, searchable)
COLOURS = {"unhedged": "#c0392b", "hedged": "#2471a3", "index": "#555555", "entry": "#999999"}


def hedge_figure(series: str, unit: str | None, result: HedgeResult) -> Figure:
    m = result.periods
    months = m["period"].to_list()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.4), sharex=True, constrained_layout=True)
    top.plot(months, m["paid"], marker="o", color=COLOURS["unhedged"], label="price paid, unhedged")
    top.plot(months, m["hedged_price"], marker="o", color=COLOURS["hedged"],
             label=f"effective price, hedged (ratio {result.stats.ratio:g})")
    top.plot(months, m["settlement"], ls="--", color=COLOURS["index"], label=f"{result.tenor.adjective} settlement")
    top.set_ylabel(unit or "price")
    top.set_title(f"{series}: rolling {result.tenor.label} futures, entry = {result.entry_source}")
    top.legend(loc="best", fontsize=8)
    x = mdates.date2num(months)
    width = {"D": 0.8, "W": 5.0, "M": 12.0}[result.tenor.unit]  # days
    bottom.bar(x - width / 4, m["unhedged_surprise"], width=width / 2,
               color=COLOURS["unhedged"], label="unhedged")
    bottom.bar(x + width / 4, m["hedged_surprise"], width=width / 2,
               color=COLOURS["hedged"], label="hedged")
    bottom.axhline(0, color="black", lw=0.6)
    vr = result.stats.variance_reduction
    bottom.set_title("cost not known at entry (quantity × (price − budget price))"
                     + (f"; variance reduction {vr:.1%}" if vr is not None else ""), fontsize=9)
    bottom.set_ylabel("USD")
    bottom.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    return fig


def vol_figure(panels: list[tuple[VolPanel, str | None, pl.DataFrame]]) -> Figure:
    """One row per series: the daily value, its running peak, the maximum drawdown and the jumps."""
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.8 * len(panels) + 0.6), squeeze=False,
                             constrained_layout=True)
    for ax, (panel, unit, daily) in zip(axes[:, 0], panels, strict=True):
        r = daily_returns(daily)
        if r.height == 0:
            ax.set_title(f"{panel.series}: no published values")
            continue
        ax.plot(r["date"].to_list(), r["value"], color=COLOURS["hedged"], lw=1.2, label="daily value")
        ax.plot(r["date"].to_list(), r["value"].cum_max(), color=COLOURS["entry"], lw=0.8, ls=":",
                label="running peak")
        dd = panel.drawdown
        if dd.peak_date is not None and dd.trough_date is not None:
            ax.axvspan(dd.peak_date, dd.trough_date, color=COLOURS["unhedged"], alpha=0.12,  # type: ignore[arg-type]
                       label=f"max drawdown {dd.depth:.1%}")
        jumps = r.filter(pl.col("log_return").abs() >= panel.jump_threshold)
        if jumps.height:
            ax.scatter(jumps["date"].to_list(), jumps["value"], color=COLOURS["unhedged"], zorder=3, s=18,
                       label=f"jump ≥ {panel.jump_threshold:.0%} ({jumps.height})")
        vol = f"{panel.daily_vol_annualised:.1%}" if panel.daily_vol_annualised is not None else "n/a"
        ax.set_title(f"{panel.series}: daily vol (annualised) {vol}", fontsize=10)
        ax.set_ylabel(unit or "value")
        ax.legend(loc="best", fontsize=7)
    fig.autofmt_xdate()
    return fig


def save(fig: Figure, path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        plt.close(fig)
        raise SpotindexError(f"--chart {path}: use a .png or .svg file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".svg":
        path.write_text(svg_text(fig))
    else:
        fig.savefig(path, format="png", dpi=110, metadata={"Software": None})
        plt.close(fig)
    return path


def svg_text(fig: Figure) -> str:
    """The figure as an <svg> element (no XML prolog), ready to inline in HTML; closes the figure."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


__all__ = ["hedge_figure", "save", "svg_text", "vol_figure"]
