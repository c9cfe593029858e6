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
# Quantizations of the low-bit segment (METHODOLOGY.md, "Token indices"): never mixed with full precision.
LOW_BIT_DEFAULT = ["fp8", "int8", "fp6", "fp4", "nvfp4", "mxfp4", "int4", "awq", "gptq"]


class TokenRules(BaseModel):
    """Rules shared by every token series (``[tokens]`` in indices.toml; METHODOLOGY.md, "Token indices")."""

    baskets: str | None = None  # basket file, relative to indices.toml: its members get generated series
    sides: list[TokenPriceSide] = ["input", "output", "cached_input", "blended"]  # generated per member model
    low_bit: list[str] = LOW_BIT_DEFAULT
    routers: list[str] = []  # venues that resell other providers' endpoints: never a constituent
    unit_error_ratio: float = Field(default=30.0, gt=1)  # price this many times off the other providers: a unit error
    maker_venues: dict[str, str] = {}  # maker (models.toml) -> its venue id, where the names differ


class IndexDefinition(BaseModel):
    id: str
    kind: Literal["gpu", "token", "basket"]
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
    # token series (METHODOLOGY.md, "Token indices"): precision segment, context tier, first-party rule
    segment: Literal["full", "low_bit"] = "full"
    context_tier: int = Field(0, ge=0)  # prompt size in tokens above which the price applies; 0 = headline
    first_party: Literal["auto", "never"] = "auto"  # auto: the maker's own list price when it sells the model
    # basket series (data/baskets.toml): chain-linked level of the members' series of the same side
    basket: str | None = None
    weighting: Literal["equal", "usage"] = "equal"
    members: list[dict[str, Any]] = []  # {series, model, weight, start, end}, generated from the basket file
    basket_version: str | None = None
    min_providers: int | None = None  # composition rule of the basket: members served by this many providers

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
        if self.kind == "basket" and not (self.basket and self.price):
            raise ValueError("a basket index needs basket and price (input/output/cached_input/blended)")
        return self

    def estimator_key(self) -> str:
        """Series with the same key share one estimator call (name + parameters)."""
        return self.estimator + json.dumps(self.params, sort_keys=True)


class Definitions(BaseModel):
    version: str
    methodology: str
    indices: list[IndexDefinition]
    tokens: TokenRules = TokenRules()

    def by_id(self) -> dict[str, IndexDefinition]:
        return {d.id: d for d in self.indices}

    def select(self, ids: list[str] | None) -> Definitions:
        if not ids:
            return self
        known = self.by_id()
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"unknown series {', '.join(unknown)}; known: {', '.join(known)}")
        return self.model_copy(update={"indices": [known[i] for i in ids]})

    def gpu(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.kind == "gpu"]

    def token(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.kind == "token"]

    def hourly(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.window == "hourly"]

    def pooled(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.window == "pooled"]
    def baskets(self) -> list[IndexDefinition]:
        return [d for d in self.indices if d.kind == "basket"]


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
    try:
        rules = TokenRules(**raw.get("tokens", {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{path}: [tokens] {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    entries = list(raw.get("index", []))
    if rules.baskets:  # per-model token series and basket series generated from the basket file
        from index import baskets as baskets_mod

        entries += baskets_mod.generated_entries(baskets_mod.load(path.parent / rules.baskets), entries, rules)
    out = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
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
                       indices=out, tokens=rules)


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
