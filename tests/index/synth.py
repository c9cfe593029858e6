"""Synthetic inputs for methodology tests: quotes as the store hands them, and one-series definitions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from index.definitions import Definitions, IndexDefinition
from index.schemas import GPU_QUOTE_SCHEMA, TOKEN_PRICE_SCHEMA, conform, empty_frame

DAY = date(2026, 11, 20)
SERIES = "T.H100"
NO_TOKENS = empty_frame(TOKEN_PRICE_SCHEMA).drop("quarantine_reason").lazy()


def at(h: int, m: int = 30, day: date = DAY) -> datetime:
    """``day`` at h:m UTC (h may be negative or >= 24: hours from the day's midnight)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=h, minutes=m)


def quote_frame(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows with observed_at, venue, offer_id, price (+ any quote field) as typed gpu_quotes rows."""
    base = {"source": "synth", "venue_class": "neocloud", "gpu_model": "H100-SXM-80GB", "gpu_count": 1,
            "pricing_class": "on_demand", "tier": "T2", "currency": "USD", "dataset": "test"}
    df = pl.DataFrame([{**base, **r, "price_usd_per_hour": r["price"], "price_usd_per_gpu_hour": r["price"]}
                       for r in rows], infer_schema_length=None).drop("price")
    return conform(df, GPU_QUOTE_SCHEMA).drop("quarantine_reason")


def quotes(rows: Sequence[Mapping[str, Any]]) -> pl.LazyFrame:
    if not rows:
        return empty_frame(GPU_QUOTE_SCHEMA).drop("quarantine_reason").lazy()
    return quote_frame(rows).lazy()


def hourly(venue_prices: Mapping[str, float | Sequence[float]], hours: Iterable[int] = range(-1, 23),
           day: date = DAY, minute: int = 30) -> list[dict[str, Any]]:
    """Each venue's offers observed at h:30 for every h in ``hours`` (an offer keeps its id)."""
    rows = []
    for h in hours:
        for venue, prices in venue_prices.items():
            for i, p in enumerate([prices] if isinstance(prices, int | float) else prices):
                rows.append({"observed_at": at(h, minute, day), "venue": venue, "offer_id": f"{venue}-{i}",
                             "price": float(p)})
    return rows


def definition(series: str = SERIES, **overrides: Any) -> IndexDefinition:
    fields: dict[str, Any] = {
        "id": series, "kind": "gpu", "unit": "USD/GPU-hour", "gpu_models": ["H100-SXM-80GB"],
        "pricing_classes": ["on_demand"], "venue_classes": ["neocloud", "marketplace"], "window_hours": 2,
        "list_price_window_hours": 168, "estimator": "median_of_venue_medians"}
    return IndexDefinition(**{**fields, **overrides})


def defs(*definitions: IndexDefinition, **overrides: Any) -> Definitions:
    """Definitions holding the given series (default: one median-of-venue-medians series)."""
    return Definitions(version="test", methodology="1.0.0", indices=list(definitions) or [definition(**overrides)])
