"""A series' history as a table, CSV, JSON or Parquet, and as a chart (PNG or SVG).

Reads through ``index.store_history.history``; this module only shapes and draws.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl

from index.errors import SpotindexError

FORMATS = ("table", "csv", "json", "parquet")
COLUMNS = ["index_id", "date", "value", "unit", "status", "n_venues", "n_quotes", "n_fixings", "p25", "p75", "conf",
           "revision", "reason", "methodology_version", "computed_at", "published_at", "inputs_hash"]
REVISION_COLUMNS = ["index_id", "date", "revision", "value", "status", "reason", "methodology_version", "stored_in",
                    "computed_at", "published_at", "run_id", "inputs_hash"]


def shape(df: pl.DataFrame, revisions: bool) -> pl.DataFrame:
    cols = REVISION_COLUMNS if revisions else COLUMNS
    return df.select([c for c in cols if c in df.columns])


def render(df: pl.DataFrame, fmt: str) -> bytes:
    """The frame as CSV, JSON (a list of objects, ISO dates) or Parquet bytes."""
    if fmt == "csv":
        return df.write_csv().encode()
    if fmt == "json":
        records = df.with_columns(pl.col(pl.Date).cast(pl.String),
                                  pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")).to_dicts()
        return (json.dumps(records, indent=1, allow_nan=False) + "\n").encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        df.write_parquet(buf)
        return buf.getvalue()
    raise SpotindexError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")


def chart(df: pl.DataFrame, path: Path, title: str, unit: str | None) -> Path:
    """Draw the value with its p25-p75 band; days that are not NORMAL are marked. PNG or SVG by suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise SpotindexError(f"--chart {path}: use a .png or .svg file name")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latest = df.sort("date")
    dates: list[Any] = latest["date"].to_list()
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=110)
    try:
        if latest["p25"].null_count() < latest.height:
            ax.fill_between(dates, latest["p25"].fill_null(latest["value"]).to_list(),
                            latest["p75"].fill_null(latest["value"]).to_list(), alpha=0.2, color="tab:blue",
                            linewidth=0, label="p25–p75 of venues")
        ax.plot(dates, latest["value"].to_list(), color="tab:blue", linewidth=1.4, label="daily value")
        flagged = latest.filter(pl.col("status") != "NORMAL")
        if flagged.height:
            ax.scatter(flagged["date"].to_list(), flagged["value"].to_list(), s=10, color="tab:orange", zorder=3,
                       label="not NORMAL (low confidence / contingency)")
        ax.set_title(title)
        ax.set_ylabel(unit or "value")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format=suffix[1:])
    finally:
        plt.close(fig)
    return path
