"""Shadeform instance types: parser, bad input, fetch (with and without the key)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl
import pytest

from index.errors import SourceError
from index.scrape import run_source
from sources.base import RawResponse
from sources.shadeform import SOURCE, URL

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shadeform"


def parse(body: bytes | str) -> pl.DataFrame:
    data = body.encode() if isinstance(body, str) else body
    return SOURCE.parse([RawResponse("shadeform", "GET", URL, 200, {}, data, T)], T)


def run(handler, require_keys: bool = False):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=require_keys)
    return asyncio.run(go())


def by_id(df: pl.DataFrame, offer_id: str) -> dict:
    return df.filter(pl.col("offer_id") == offer_id).row(0, named=True)


def test_parser_on_own_fixture():
    df = parse((FIXTURES / "instance_types.json").read_bytes())
    assert df.height == 8  # hyperstack 2 regions, nebius 1 (no regions), crusoe, scaleway, fake, latitude, denvr
    hs = by_id(df, "hyperstack:H100_sxm5x8:CANADA-1")
    assert (hs["venue"], hs["venue_class"], hs["gpu_model"], hs["gpu_count"]) == (
        "hyperstack", "neocloud", "H100-SXM-80GB", 8)
    assert hs["price_usd_per_hour"] == pytest.approx(19.20) and hs["price_usd_per_gpu_hour"] == pytest.approx(2.40)
    assert (hs["pricing_class"], hs["tier"], hs["available_units"]) == ("on_demand", "T2", 8)
    assert by_id(df, "hyperstack:H100_sxm5x8:NORWAY-1")["available_units"] == 0
    neb = by_id(df, "nebius:H200_sxm5x8")
    assert (neb["gpu_model"], neb["region"], neb["available_units"]) == ("H200-SXM-141GB", None, None)
    assert neb["price_usd_per_gpu_hour"] == pytest.approx(3.50)
    assert by_id(df, "crusoe:A100_80G_sxm4x8:us-east1")["gpu_model"] == "A100-SXM-80GB"
    scw = by_id(df, "scaleway:H100_pcie:fr-par-2")
    assert (scw["gpu_model"], scw["price_usd_per_gpu_hour"]) == ("H100-PCIE-80GB", pytest.approx(2.52))
    assert "not in data/venues.toml" in by_id(df, "fakecloud:H100_sxm5:x-1")["quarantine_reason"]
    assert by_id(df, "latitude:H100_sxm5x8:DAL")["price_usd_per_gpu_hour"] == pytest.approx(2.65)  # "2120" cents
    assert by_id(df, "denvr:H100_sxm5x8:houston-usa-1")["quarantine_reason"] == "hourly_price is not a number: 'n/a'"
    assert df.filter(pl.col("offer_id").str.contains("CPU")).height == 0


def test_docs_example_shape_parses():
    # The example of docs.shadeform.ai /instances/types (its gpu_type says A100 with 48 GB: kept, not corrected).
    doc = {"instance_types": [{"cloud": "hyperstack", "shade_instance_type": "A6000", "cloud_instance_type":
                               "gpu_1x_a6000", "configuration": {"memory_in_gb": 12, "storage_in_gb": 256, "vcpus": 6,
                               "num_gpus": 1, "gpu_type": "A100", "interconnect": "pcie", "vram_per_gpu_in_gb": 48,
                               "os_options": ["ubuntu22.04_cuda12.2_shade_os"], "gpu_manufacturer": "nvidia",
                               "nvlink": True}, "hourly_price": 210, "deployment_type": "vm",
                               "availability": [{"region": "us-central-1", "available": True,
                                                 "display_name": "US, Wichita, KS"},
                                                {"region": "us-central-2", "available": False,
                                                 "display_name": "US, Wichita, KS"}],
                               "boot_time": {"min_boot_in_sec": 180, "max_boot_in_sec": 300}}]}
    df = parse(json.dumps(doc))
    assert df["price_usd_per_gpu_hour"].to_list() == [pytest.approx(2.10)] * 2
    assert df["gpu_model"].to_list() == ["unknown:A100"] * 2  # A100 PCIe with 48 GB is no listed board


@pytest.mark.parametrize("payload, field", [
    ({"types": []}, "instance_types"),
    ({"instance_types": [{"cloud": "nebius", "configuration": {"num_gpus": 1, "gpu_type": "H100"},
                          "price": 299}]}, "hourly_price"),
    ({"instance_types": [{"provider": "nebius", "configuration": {"num_gpus": 1, "gpu_type": "H100"},
                          "hourly_price": 299}]}, "cloud"),
    ({"instance_types": {"nebius": []}}, "instance_types"),
])
def test_schema_changes_raise_naming_the_field(payload, field):
    with pytest.raises(SourceError) as err:
        parse(json.dumps(payload))
    assert err.value.source == "shadeform" and err.value.field == field


@pytest.mark.parametrize("body", ["<html><head><title>401</title></head></html>", '{"instance_types":[{"cloud":"hy',
                                  ""])
def test_html_truncated_or_empty_body_raise(body):
    with pytest.raises(SourceError, match="shadeform"):
        parse(body)


def test_string_where_a_number_was_is_quarantined():
    doc = json.loads((FIXTURES / "instance_types.json").read_text())
    doc["instance_types"][0]["configuration"]["num_gpus"] = "eight"
    df = parse(json.dumps(doc))
    assert "configuration.num_gpus is not a whole number" in by_id(df, "hyperstack:H100_sxm5x8:CANADA-1")[
        "quarantine_reason"]


def test_empty_list_fails_the_source_without_rows():
    out = run(lambda req: httpx.Response(200, json={"instance_types": []}))
    assert out.status == "failed" and "held no rows" in out.error


def test_key_is_sent_as_header_and_never_stored(monkeypatch):
    monkeypatch.setenv("SPOTINDEX_SHADEFORM_KEY", "sf-secret-123")
    seen = []

    def handler(req):
        seen.append(req.headers.get("x-api-key"))
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=(FIXTURES / "instance_types.json").read_bytes())

    out = run(handler, require_keys=True)
    assert seen == ["sf-secret-123", "sf-secret-123"]
    assert out.status == "partial" and out.rows_loaded == 6 and out.rows_quarantined == 2
    assert "sf-secret-123" not in json.dumps([dict(r.headers) for r in out.raw]) + out.raw[0].url


def test_missing_key_skips_live_and_sends_no_header_in_replay(monkeypatch):
    monkeypatch.delenv("SPOTINDEX_SHADEFORM_KEY", raising=False)
    skipped = run(lambda req: httpx.Response(200, json={"instance_types": []}), require_keys=True)
    assert skipped.status == "skipped" and skipped.error == "skipped: set SPOTINDEX_SHADEFORM_KEY"
    headers = []
    body = (FIXTURES / "instance_types.json").read_bytes()
    out = run(lambda req: headers.append(req.headers.get("x-api-key")) or httpx.Response(200, content=body))
    assert headers == [None] and out.rows_loaded == 6


def test_fetch_http_500_fails():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "shadeform" in out.error and "HTTP 500" in out.error
