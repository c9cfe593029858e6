"""Index definitions (``data/indices.toml``): the data that says which quotes feed which series.

Rules live in the file, not in code, so a user can write another index's rules and
recompute it from the same stored inputs. ``to_frame`` turns GPU definitions into a join
table (index_id x gpu_model x pricing_class x venue_class) for the vectorised pipeline.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field, ValidationError, model_validator

from index import estimators
from index.errors import ConfigError
from index.paths import data_dir

TokenPriceSide = Literal["input", "output", "cached_input", "blended"]


class IndexDefinition(BaseModel):
    id: str
    kind: Literal["gpu", "token"]
    unit: str
    gpu_models: list[str] = []
    pricing_classes: list[str] = []
    venue_classes: list[str] = []
    model: str | None = None
    price: TokenPriceSide | None = None
    window_hours: float
    list_price_window_hours: float
    estimator: str
    params: dict[str, Any] = {}
    # How the day's value is formed: "hourly" = 24 fixings averaged (default), "pooled" = one
    # determination over the observations of the trailing pool_days days.
    window: Literal["hourly", "pooled"] = "hourly"
    pool_days: int = Field(1, ge=1, le=31)
    min_observations: int = Field(1, ge=1)
    publish: bool = True  # false: computed and stored, but left out of the signed report
    description: str = ""
    # Methodology parameters (METHODOLOGY.md gives each one's reason); defaults are v1's.
    gross_low: float = Field(0.1, gt=0)
    gross_high: float = Field(10.0, gt=1)
    gross_days: int = Field(7, ge=1, le=31)
    venue_filter_k: float = Field(3.0, gt=0)
    venue_filter_min_venues: int = Field(5, ge=1)  # below this many venues the median alone protects
    readmit_k: float = Field(1.5, gt=0)
    mad_floor: float = Field(0.05, ge=0)
    min_venues_normal: int = Field(5, ge=1)
    min_venues_low: int = Field(3, ge=1)
    min_fixings_normal: int = Field(18, ge=0, le=24)
    min_fixings_low: int = Field(12, ge=0, le=24)
    carry_days: int = Field(3, ge=0)
    carry_fixing_hours: int = Field(72, ge=0)

    @model_validator(mode="after")
    def _check_kind(self) -> IndexDefinition:
        if self.kind == "gpu" and not (self.gpu_models and self.pricing_classes and self.venue_classes):
            raise ValueError("a gpu index needs gpu_models, pricing_classes and venue_classes")
        if self.kind == "token" and not (self.model and self.price):
            raise ValueError("a token index needs model and price (input/output/cached_input/blended)")
        if self.readmit_k > self.venue_filter_k:
            raise ValueError("readmit_k must not exceed venue_filter_k (readmission is the stricter test)")
        if self.min_venues_low > self.min_venues_normal or self.min_fixings_low > self.min_fixings_normal:
            raise ValueError("the LOW_CONFIDENCE minimum must not exceed the NORMAL minimum")
        self.params = estimators.resolve(self.estimator, self.params)
        return self

    def estimator_key(self) -> str:
        """Series with the same key share one estimator call (name + parameters)."""
        return self.estimator + json.dumps(self.params, sort_keys=True)


class Definitions(BaseModel):
    version: str
    methodology: str
    indices: list[IndexDefinition]

    def by_id(self) -> dict[str, IndexDefinition]:
        return {d.id: d for d in self.indices}

    def select(self, ids: list[str] | None) -> Definitions:
        if not ids:
            return self
        known = self.by_id()
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"unknown series {', '.join(unknown)}; known: {', '.join(known)}")
        return Definitions(version=self.version, methodology=self.methodology, indices=[known[i] for i in ids])

    def gpu(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.kind == "gpu"]

    def token(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.kind == "token"]

    def hourly(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.window == "hourly"]

    def pooled(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.window == "pooled"]


def load(path: Path | None = None) -> Definitions:
    """Read and validate the definitions file; errors name the series and the field."""
    path = path or data_dir() / "indices.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} is missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    defaults = raw.get("defaults", {})
    out = []
    seen: set[str] = set()
    for i, entry in enumerate(raw.get("index", [])):
        merged = {**defaults, **entry}
        try:
            d = IndexDefinition(**merged)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ConfigError(f"{path}: index #{i + 1} ({entry.get('id', '?')}): "
                              f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if d.id in seen:
            raise ConfigError(f"{path}: series id {d.id} is defined twice")
        seen.add(d.id)
        out.append(d)
    return Definitions(version=str(raw.get("version", "0")), methodology=str(raw.get("methodology", "0")),
                       indices=out)


def gpu_join_table(defs: list[IndexDefinition]) -> pl.DataFrame:
    """One row per (index_id, gpu_model, pricing_class, venue_class) a GPU series accepts."""
    rows = [
        {"index_id": d.id, "gpu_model": m, "pricing_class": p, "venue_class": v,
         "window_hours": d.window_hours, "list_price_window_hours": d.list_price_window_hours}
        for d in defs for m in d.gpu_models for p in d.pricing_classes for v in d.venue_classes
    ]
    schema = {"index_id": pl.String, "gpu_model": pl.String, "pricing_class": pl.String, "venue_class": pl.String,
              "window_hours": pl.Float64, "list_price_window_hours": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def token_join_table(defs: list[IndexDefinition]) -> pl.DataFrame:
    rows = [{"index_id": d.id, "model": d.model, "price_side": d.price,
             "list_price_window_hours": d.list_price_window_hours} for d in defs]
    schema = {"index_id": pl.String, "model": pl.String, "price_side": pl.String,
              "list_price_window_hours": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
