"""Vast.ai parser: own fixture with hand-checked numbers, the real recorded responses, bad input."""

from __future__ import annotations

import json

import polars as pl
import pytest

import sources
from index import validate
from index.errors import SourceError
from tests.conftest import FIXTURES, T0, raw, shared_file

VAST = sources.get("vastai")


def parse_file(path) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    return VAST.parse([raw("vastai", path.read_bytes())], T0)


def test_own_fixture_prices_per_gpu_and_classes() -> None:
    df = parse_file(FIXTURES / "vastai" / "bundles_small.json")
    od = df.filter(pl.col("pricing_class") == "on_demand").sort("offer_id")
    assert od["offer_id"].to_list() == ["5001", "5002", "5003", "5004", "5005"]
    row = od.row(0, named=True)
    assert row["gpu_model"] == "H100-SXM-80GB"
    assert row["gpu_count"] == 8
    assert row["price_usd_per_hour"] == pytest.approx(16.0)  # dph_base: compute only, not dph_total
    assert row["price_usd_per_gpu_hour"] == pytest.approx(2.0)
    assert row["region"] == "US"
    assert row["venue"] == "vastai" and row["venue_class"] == "marketplace"
    assert od.row(2, named=True)["gpu_model"] == "A100-SXM-40GB"  # RAM decides 40 vs 80 GB
    assert od.row(2, named=True)["available_units"] == 0  # rented
    assert od.row(4, named=True)["gpu_model"] == "unknown:Quantum X9"  # never guessed
    spot = df.filter(pl.col("pricing_class") == "spot").sort("offer_id")
    assert spot["offer_id"].to_list() == ["5001:bid", "5002:bid", "5003:bid", "5005:bid"]  # no bid row for price 0
    assert spot.row(0, named=True)["price_usd_per_gpu_hour"] == pytest.approx(1.1)


def test_zero_price_is_quarantined_not_free() -> None:
    df = parse_file(FIXTURES / "vastai" / "bundles_small.json")
    good, bad = validate.split(df, "gpu")
    assert "5004" not in good["offer_id"].to_list()
    reasons = bad.filter(pl.col("record_key") == "5004")["reason"].to_list()
    assert reasons and "<= 0" in reasons[0]


@pytest.mark.parametrize("name", ["bundles_h100_sxm_asc.json", "bundles_h100_sxm_desc.json",
                                  "bundles_h200_nvl_asc.json"])
def test_contract_real_recorded_responses(name: str) -> None:
    path = shared_file("fixtures", "vastai", name)
    offers = json.loads(path.read_bytes())["offers"]
    df = VAST.parse([raw("vastai", path.read_bytes())], T0)
    good, bad = validate.split(df, "gpu")
    assert bad.height == 0
    od = good.filter(pl.col("pricing_class") == "on_demand")
    assert od.height == len(offers)
    assert (od["price_usd_per_gpu_hour"] > 0).all()
    assert not od["gpu_model"].str.starts_with("unknown:").any()
    expected = "H200-NVL-141GB" if "h200_nvl" in name else "H100-SXM-80GB"
    assert set(od["gpu_model"]) == {expected}
    by_id = {str(o["id"]): o for o in offers}
    for r in od.iter_rows(named=True):
        o = by_id[r["offer_id"]]
        assert r["price_usd_per_gpu_hour"] == pytest.approx(o["dph_base"] / o["num_gpus"])
        assert r["price_usd_per_hour"] == pytest.approx(o["search"]["gpuCostPerHour"])
    assert str(good["observed_at"].dtype) == "Datetime(time_unit='us', time_zone='UTC')"


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ('{"offers": []}', None, None),
        ('{"results": []}', "offers", "missing"),
        ('{"offers": [{"id": 1, "gpu_name": "H100 SXM", "num_gpus": 1, "price": 2.0}]}', "dph_base", "absent"),
        ("<!DOCTYPE html><html><body>Cloudflare</body></html>", None, "HTML instead of JSON"),
        ('{"offers": [{"id": 1, "gpu_name": "H100 SXM", "num_gpus": 1, "dph_ba', None, "invalid JSON"),
        ("", None, "empty response body"),
    ],
)
def test_bad_responses(body: str, field: str | None, text: str | None) -> None:
    if text is None:  # an empty list is not an error for the parser; the framework reports 'no rows'
        assert VAST.parse([raw("vastai", body)], T0).height == 0
        return
    with pytest.raises(SourceError) as exc:
        VAST.parse([raw("vastai", body)], T0)
    assert "vastai" in str(exc.value) and text in str(exc.value)
    if field:
        assert exc.value.field == field


def test_string_where_number_is_quarantined() -> None:
    body = '{"offers": [{"id": 7, "gpu_name": "H100 SXM", "num_gpus": 1, "dph_base": "n/a"}]}'
    good, bad = validate.split(VAST.parse([raw("vastai", body)], T0), "gpu")
    assert good.height == 0
    assert "dph_base is not a number" in bad["reason"][0]
