"""Helpers for token-index tests: token_prices rows and token series definitions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from index.definitions import Definitions, IndexDefinition, TokenRules
from index.schemas import GPU_QUOTE_SCHEMA, TOKEN_PRICE_SCHEMA, conform, empty_frame

DAY = date(2026, 11, 20)
BEFORE = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)  # every fixing of DAY sees a list price observed here
LLAMA = "meta-llama/llama-3.3-70b-instruct"  # maker meta-llama: venue "meta"
GPT = "openai/gpt-4.1"  # maker openai: venue "openai"
NO_GPU = empty_frame(GPU_QUOTE_SCHEMA).drop("quarantine_reason").lazy()
RULES = TokenRules(routers=["openrouter"], maker_venues={"meta-llama": "meta"})


def at(h: int, m: int = 30, day: int = 20) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=UTC)


def token_rows(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    """token_prices rows; ``inp``/``out``/``cached`` are USD per million tokens."""
    full = []
    for r in rows:
        r = dict(r)
        full.append({"observed_at": r.pop("observed_at", BEFORE), "source": r.pop("source", "src"),
                     "provider": r.pop("provider"), "model": r.pop("model", LLAMA),
                     "source_model_id": r.pop("id", "m"),
                     "usd_per_mtok_input": r.pop("inp", None), "usd_per_mtok_output": r.pop("out", None),
                     "usd_per_mtok_cached_input": r.pop("cached", None), "currency": "USD", **r})
    return conform(pl.DataFrame(full, infer_schema_length=None), TOKEN_PRICE_SCHEMA).drop("quarantine_reason").lazy()


def tdef(sid: str, model: str = LLAMA, price: str = "blended", **kw: Any) -> IndexDefinition:
    return IndexDefinition(id=sid, kind="token", model=model, price=price, unit="USD/Mtok", window_hours=2,
                           list_price_window_hours=168, estimator="median_of_venue_medians", **kw)


def defs(*items: IndexDefinition, rules: TokenRules = RULES) -> Definitions:
    return Definitions(version="test", methodology="test", indices=list(items), tokens=rules)


def five_providers(model: str = LLAMA, **extra: Any) -> list[dict[str, Any]]:
    """Five full-precision providers with blended prices 1, 2, 3, 4, 5 (input = output = price)."""
    return [{"provider": p, "model": model, "inp": v, "out": v, **extra}
            for p, v in {"together": 1.0, "fireworks": 2.0, "deepinfra": 3.0, "groq": 4.0, "nebius": 5.0}.items()]


def value(values: pl.DataFrame, sid: str) -> float | None:
    row = values.filter(pl.col("index_id") == sid)
    return None if row.height == 0 else row["value"][0]


def status(values: pl.DataFrame, sid: str) -> str | None:
    row = values.filter(pl.col("index_id") == sid)
    return None if row.height == 0 else row["status"][0]
