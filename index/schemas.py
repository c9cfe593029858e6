"""Normalised row schemas: the contract between sources, the store and the pipeline.

Two views of the same rows: pydantic models validate one row at the edge (used by
sources that build rows one by one and by importers), polars schemas type whole frames
for the vectorised pipeline. ``quarantine_reason`` is the one column a source may fill
to flag a row it already knows is unusable; ``index.validate`` adds its own checks and
moves such rows to the ``quarantine`` table instead of the quote tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field

UTC_TIME = pl.Datetime("us", "UTC")

PRICING_CLASSES = ("on_demand", "spot", "marketplace", "reserved_1m", "reserved_6m", "reserved_1y", "reserved_3y")
VENUE_CLASSES = ("hyperscaler", "neocloud", "marketplace")
TIERS = ("T1", "T2", "T3")  # T1 transaction, T2 executable listing, T3 list price

GPU_QUOTE_SCHEMA: dict[str, pl.DataType] = {
    "observed_at": UTC_TIME,
    "source": pl.String(),
    "venue": pl.String(),
    "venue_class": pl.String(),
    "offer_id": pl.String(),
    "gpu_model": pl.String(),  # canonical id from data/gpu_models.toml, or "unknown:<raw>"
    "gpu_count": pl.Int32(),
    "price_usd_per_hour": pl.Float64(),  # whole instance
    "price_usd_per_gpu_hour": pl.Float64(),
    "pricing_class": pl.String(),
    "region": pl.String(),
    "available_units": pl.Int32(),  # null = the source does not say
    "tier": pl.String(),
    "price_basis": pl.String(),  # "compute" (GPU-hour only) or "bundled" (as quoted, incl. disk/network)
    "currency": pl.String(),  # "USD" after conversion; anything else is quarantined
    "dataset": pl.String(),  # "live", "replay:<name>" or "import:<name>": never mixed silently
    "raw_sha256": pl.String(),
    "quarantine_reason": pl.String(),
}

TOKEN_PRICE_SCHEMA: dict[str, pl.DataType] = {
    "observed_at": UTC_TIME,
    "source": pl.String(),
    "provider": pl.String(),  # the venue: who serves the tokens
    "model": pl.String(),  # canonical id from data/models.toml (or the normalised raw id)
    "model_family": pl.String(),
    "source_model_id": pl.String(),  # the id exactly as the source wrote it
    "usd_per_mtok_input": pl.Float64(),
    "usd_per_mtok_output": pl.Float64(),
    "usd_per_mtok_cached_input": pl.Float64(),
    "context_window": pl.Int64(),
    # prompt size in tokens above which this price applies (long-context tier); null or 0 = the
    # base tier, which is every price unless the source says otherwise
    "context_tier": pl.Int64(),
    "quantization": pl.String(),
    "currency": pl.String(),
    "dataset": pl.String(),
    "raw_sha256": pl.String(),
    "quarantine_reason": pl.String(),
}

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "observed_at": UTC_TIME,
    "source": pl.String(),
    "kind": pl.String(),  # gpu | token
    "record_key": pl.String(),  # offer id / provider+model, to find the row in the raw response
    "field": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
    "raw_sha256": pl.String(),
    "dataset": pl.String(),
}

Kind = Literal["gpu", "token"]


def empty_frame(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A typed empty frame, so that 'no rows' still has the right columns."""
    return pl.DataFrame(schema=schema)


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Add missing optional columns as nulls, cast to the schema, drop extras, fix order.

    Sources build frames from JSON; this makes every frame that leaves a source
    identical in shape, so the store and the pipeline never guess.
    """
    exprs = []
    for name, dtype in schema.items():
        if name in df.columns:
            exprs.append(pl.col(name).cast(dtype, strict=False).alias(name))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return df.select(exprs)


class GpuQuote(BaseModel):
    """One GPU offer seen at one time (design note §2, ``gpu_quotes``)."""

    observed_at: datetime
    source: str
    venue: str
    venue_class: Literal["hyperscaler", "neocloud", "marketplace"]
    offer_id: str
    gpu_model: str
    gpu_count: int = Field(gt=0)
    price_usd_per_hour: float = Field(gt=0)
    price_usd_per_gpu_hour: float = Field(gt=0)
    pricing_class: str
    region: str | None = None
    available_units: int | None = None
    tier: Literal["T1", "T2", "T3"] = "T2"
    price_basis: Literal["compute", "bundled"] = "compute"
    currency: str = "USD"


class TokenPrice(BaseModel):
    """One model's price at one provider at one time (design note §2, ``token_prices``)."""

    observed_at: datetime
    source: str
    provider: str
    model: str
    model_family: str | None = None
    source_model_id: str
    usd_per_mtok_input: float | None = Field(default=None, gt=0)
    usd_per_mtok_output: float | None = Field(default=None, gt=0)
    usd_per_mtok_cached_input: float | None = Field(default=None, ge=0)
    context_window: int | None = None
    context_tier: int | None = Field(default=None, ge=0)
    quantization: str | None = None
    currency: str = "USD"


def _fits(value: object, dtype: pl.DataType) -> bool:
    if value is None:
        return True
    if dtype == pl.String():
        return isinstance(value, str)
    if dtype.is_integer():
        return isinstance(value, int) and not isinstance(value, bool)
    if dtype.is_float():
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(dtype, pl.Datetime):
        return isinstance(value, datetime)
    return True


def rows_frame(rows: list[dict[str, object]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows built by a parser as a typed frame; a value of the wrong type never crashes the parse.

    A response can put a list where a region string was, or text where a count was. Such a
    value becomes null and the row carries a quarantine reason naming the field and the value,
    so it is quarantined with its reason instead of raising a polars error deep in a parser.
    """
    clean: list[dict[str, object]] = []
    for row in rows:
        fixed = {k: v for k, v in row.items() if k in schema}
        problems = []
        for name, dtype in schema.items():
            value = fixed.get(name)
            if name != "quarantine_reason" and not _fits(value, dtype):
                if dtype.is_float() and isinstance(value, str):
                    try:
                        fixed[name] = float(value)
                        continue
                    except ValueError:
                        pass
                problems.append(f"field {name} has an unexpected value {str(value)[:40]!r}")
                fixed[name] = None
        if problems:
            prior = fixed.get("quarantine_reason")
            fixed["quarantine_reason"] = "; ".join([*([str(prior)] if prior else []), *problems])
        clean.append(fixed)
    if not clean:
        return empty_frame(schema)
    return pl.DataFrame(clean, schema=schema)
