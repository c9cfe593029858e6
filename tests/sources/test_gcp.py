"""Google Cloud billing catalog: machine prices assembled from GPU, core and RAM SKUs."""

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
from sources.gcp import SOURCE, URL

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gcp" / "skus.json"


def parse(body: bytes | str) -> pl.DataFrame:
    data = body.encode() if isinstance(body, str) else body
    return SOURCE.parse([RawResponse("gcp", "GET", URL, 200, {}, data, T)], T)


def run(handler, require_keys: bool = False):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=require_keys)
    return asyncio.run(go())


def by_id(df: pl.DataFrame, offer_id: str) -> dict:
    return df.filter(pl.col("offer_id") == offer_id).row(0, named=True)


def test_machine_price_is_gpus_plus_cores_plus_ram():
    df = parse(FIXTURE.read_bytes())
    a3 = by_id(df, "a3-highgpu-8g:us-central1:on_demand")
    # 8 x 2.80 + 208 x 0.0185 + 1872 x 0.00245 = 22.40 + 3.848 + 4.5864
    assert a3["price_usd_per_hour"] == pytest.approx(30.8344)
    assert a3["price_usd_per_gpu_hour"] == pytest.approx(3.8543)
    assert (a3["gpu_model"], a3["gpu_count"], a3["venue"], a3["venue_class"]) == ("H100-SXM-80GB", 8, "gcp",
                                                                                 "hyperscaler")
    assert (a3["tier"], a3["price_basis"], a3["region"]) == ("T3", "compute", "us-central1")
    one = by_id(df, "a3-highgpu-1g:us-central1:on_demand")
    assert one["price_usd_per_hour"] == pytest.approx(2.80 + 26 * 0.0185 + 234 * 0.00245)
    spot = by_id(df, "a3-highgpu-8g:us-central1:spot")
    assert spot["price_usd_per_hour"] == pytest.approx(8 * 1.20 + 208 * 0.0078 + 1872 * 0.00105)
    assert spot["pricing_class"] == "spot"


def test_missing_components_and_foreign_currency_are_quarantined():
    df = parse(FIXTURE.read_bytes())
    h200 = by_id(df, "a3-ultragpu-8g:us-east5:on_demand")
    assert h200["gpu_model"] == "H200-SXM-141GB" and h200["price_usd_per_hour"] is None
    assert h200["quarantine_reason"] == ("no A3Ultra Instance Core price in us-east5; "
                                         "no A3Ultra Instance Ram price in us-east5")
    a2 = by_id(df, "a2-ultragpu-8g:europe-west4:on_demand")
    assert a2["quarantine_reason"] == "SKU EEEE-FFFF-0000 is priced in 'EUR', not USD"
    # commitments and other machine families are not machines we price
    assert set(df["offer_id"].str.split(":").list.get(0)) == {"a3-highgpu-1g", "a3-highgpu-2g", "a3-highgpu-4g",
                                                               "a3-highgpu-8g", "a3-ultragpu-8g", "a2-ultragpu-8g"}
    assert df.height == 10


def test_pagination_and_key_redaction(monkeypatch):
    monkeypatch.setenv("SPOTINDEX_GCP_KEY", "AIzaSecret123")
    doc = json.loads(FIXTURE.read_text())
    page1 = {"skus": doc["skus"][:6], "nextPageToken": "CAESnextpage"}
    page2 = {"skus": doc["skus"][6:], "nextPageToken": ""}
    seen = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(dict(req.url.params))
        return httpx.Response(200, json=page2 if req.url.params.get("pageToken") else page1)

    out = run(handler, require_keys=True)
    assert [p.get("pageToken") for p in seen] == [None, "CAESnextpage"]
    assert all(p["key"] == "AIzaSecret123" and p["currencyCode"] == "USD" for p in seen)
    assert out.rows.filter(pl.col("offer_id") == "a3-highgpu-8g:us-central1:on_demand").height == 1
    assert all("AIzaSecret123" not in r.url and "key=%3Credacted%3E" in r.url for r in out.raw)


def test_missing_key_is_skipped_live():
    out = run(lambda req: httpx.Response(200, json={"skus": []}), require_keys=True)
    assert out.status == "skipped" and out.error == "skipped: set SPOTINDEX_GCP_KEY"


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("skus"), "skus"),
    (lambda d: [s.update(pricing=s.pop("pricingInfo")) for s in d["skus"]], "pricingInfo"),
    (lambda d: [s.pop("serviceRegions") for s in d["skus"]], "serviceRegions"),
])
def test_schema_changes_raise_naming_the_field(mutate, field):
    doc = json.loads(FIXTURE.read_text())
    mutate(doc)
    with pytest.raises(SourceError) as err:
        parse(json.dumps(doc))
    assert err.value.source == "gcp" and err.value.field == field


def test_string_where_a_number_was_is_quarantined():
    doc = json.loads(FIXTURE.read_text())
    doc["skus"][0]["pricingInfo"][0]["pricingExpression"]["tieredRates"][0]["unitPrice"]["units"] = "two"
    df = parse(json.dumps(doc))
    assert by_id(df, "a3-highgpu-8g:us-central1:on_demand")["quarantine_reason"] == (
        "SKU 0A1B-2C3D-4E5F (Nvidia H100 80GB GPU running in Iowa) has no readable unit price")


@pytest.mark.parametrize("body", ["<!DOCTYPE html><html><title>Error 403 (Forbidden)</title></html>",
                                  '{"skus": [{"name": "services/6F81', ""])
def test_html_truncated_or_empty_body_raise(body):
    with pytest.raises(SourceError, match="gcp"):
        parse(body)


def test_empty_list_fails_the_source_without_rows():
    out = run(lambda req: httpx.Response(200, json={"skus": [], "nextPageToken": ""}))
    assert out.status == "failed" and "held no rows" in out.error


def test_fetch_retries_429_then_succeeds():
    calls = []

    def handler(req):
        calls.append(req)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=FIXTURE.read_bytes())

    out = run(handler)
    assert len(calls) == 2 and out.status == "partial" and out.rows_loaded == 8 and out.rows_quarantined == 2


def test_fetch_http_500_fails():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "gcp" in out.error and "HTTP 500" in out.error
