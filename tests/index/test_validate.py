"""Validation at the edge: every impossible row is quarantined with its field and reason."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from index import validate

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def gpu(**kw) -> dict:  # type: ignore[no-untyped-def]
    row = {"observed_at": T, "source": "s", "venue": "v", "offer_id": "o", "gpu_model": "H100-SXM-80GB",
           "gpu_count": 2, "price_usd_per_hour": 4.0, "price_usd_per_gpu_hour": 2.0, "pricing_class": "on_demand",
           "currency": "USD"}
    return {**row, **kw}


@pytest.mark.parametrize(
    ("override", "field", "reason"),
    [
        ({"price_usd_per_hour": 0.0, "price_usd_per_gpu_hour": 0.0}, "price_usd_per_hour", "<= 0"),
        ({"price_usd_per_hour": -4.0, "price_usd_per_gpu_hour": -2.0}, "price_usd_per_hour", "<= 0"),
        ({"price_usd_per_hour": float("nan")}, "price_usd_per_hour", "NaN"),
        ({"price_usd_per_gpu_hour": float("inf")}, "price_usd_per_gpu_hour", "infinite"),
        ({"gpu_count": 0}, "gpu_count", "gpu_count"),
        ({"currency": "EUR"}, "currency", "no conversion rate"),
        ({"price_usd_per_gpu_hour": 3.0}, "price_usd_per_gpu_hour", "instance price / gpu_count"),
        ({"pricing_class": "cheap"}, "pricing_class", "pricing_class not one of"),
    ],
)
def test_impossible_gpu_rows(override: dict, field: str, reason: str) -> None:
    good, bad = validate.split(pl.DataFrame([gpu(), gpu(offer_id="bad", **override)]), "gpu")
    assert good["offer_id"].to_list() == ["o"]
    assert bad["record_key"].to_list() == ["bad"]
    assert bad["field"][0] == field and reason in bad["reason"][0]


def test_token_rows() -> None:
    base = {"observed_at": T, "source": "s", "provider": "p", "model": "m", "source_model_id": "m",
            "currency": "USD"}
    df = pl.DataFrame([
        {**base, "usd_per_mtok_input": 1.0, "usd_per_mtok_output": 2.0},
        {**base, "source_model_id": "none", "usd_per_mtok_input": None, "usd_per_mtok_output": None},
        {**base, "source_model_id": "neg", "usd_per_mtok_input": -1.0, "usd_per_mtok_output": 2.0},
    ])
    good, bad = validate.split(df, "token")
    assert good.height == 1
    assert dict(zip(bad["record_key"], bad["field"], strict=True)) == {"p|none": "usd_per_mtok_input",
                                                                        "p|neg": "usd_per_mtok_input"}
