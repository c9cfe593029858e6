"""A small store with daily values and venue medians for the hedging tests (no network, no replay)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from index.store import Store

TOKEN = "TOK.TEST.BLEND"
GPU = "GPU.TEST.OD.NEO"
FIRST, END = date(2025, 1, 1), date(2025, 8, 1)
LEVELS = [1.00, 1.10, 0.95, 0.90, 1.05, 0.80, 0.85]  # monthly levels of the token series, Jan..Jul 2025


def days() -> list[date]:
    return [FIRST + timedelta(days=i) for i in range((END - FIRST).days)]


def token_value(d: date) -> float:
    """The month's level with a small within-month wave (so daily returns are not all zero)."""
    return LEVELS[d.month - 1] * (1 + 0.01 * math.sin(d.day))


def gpu_value(d: date) -> float:
    return 2.0 + 0.1 * math.cos(d.toordinal() / 3) + 0.02 * d.month


def own_venue_price(d: date) -> float:
    """Venue v1 charges 0.2 + 0.5 × the month's level: perfectly correlated with the index."""
    return 0.2 + 0.5 * LEVELS[d.month - 1]


def build_store(path: Path) -> Store:
    store = Store(path)
    ds = days()
    values = pl.DataFrame({
        "index_id": [TOKEN] * len(ds) + [GPU] * len(ds),
        "date": ds + ds,
        "value": [token_value(d) for d in ds] + [gpu_value(d) for d in ds],
        "unit": ["USD/Mtok"] * len(ds) + ["USD/GPU-hour"] * len(ds),
        "status": ["NORMAL"] * (2 * len(ds)),
        "n_venues": [5] * (2 * len(ds)),
        "inputs_hash": [f"h{i}" for i in range(2 * len(ds))],
    })
    times = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in ds]
    fixings = pl.DataFrame({"index_id": [TOKEN] * len(ds), "fixing_time": times,
                            "value": [token_value(d) for d in ds], "status": ["NORMAL"] * len(ds),
                            "inputs_hash": [f"f{i}" for i in range(len(ds))]})
    venues = pl.DataFrame({"index_id": [TOKEN] * len(ds), "fixing_time": times, "venue": ["v1"] * len(ds),
                           "venue_median": [own_venue_price(d) for d in ds], "n_quotes": [1] * len(ds),
                           "included": [True] * len(ds)})
    store.write_computation("test-hedging", fixings, venues, values)
    return store
