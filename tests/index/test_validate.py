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


def test_duplicates_in_one_response() -> None:
    """Identical copies keep the first; copies that disagree are all quarantined; other rows untouched."""
    rows = [gpu(offer_id="a"), gpu(offer_id="a", raw_sha256="page2"), gpu(offer_id="a"),
            gpu(offer_id="b"), gpu(offer_id="b", price_usd_per_hour=6.0, price_usd_per_gpu_hour=3.0),
            gpu(offer_id="c")]
    good, bad = validate.split(pl.DataFrame(rows), "gpu", duplicates=True)
    assert sorted(good["offer_id"].to_list()) == ["a", "c"]
    copies = bad.filter(pl.col("record_key") == "a")
    assert copies.height == 2 and copies["reason"].str.contains("first copy kept").all()
    conflict = bad.filter(pl.col("record_key") == "b")
    assert conflict.height == 2 and conflict["reason"].str.contains("2 times .* different values").all()
    assert (bad["field"] == "offer_id").all()
    # without the option (importers: their own rules), every row passes
    assert validate.split(pl.DataFrame(rows), "gpu")[0].height == 6


def test_a_row_quarantined_for_its_price_is_not_also_a_duplicate() -> None:
    good, bad = validate.split(pl.DataFrame([gpu(), gpu(price_usd_per_hour=0.0, price_usd_per_gpu_hour=0.0)]), "gpu",
                               duplicates=True)
    assert good.height == 1 and bad["reason"].to_list() == [
        "price_usd_per_hour <= 0: zero or negative prices mean not offered, not free"]
