"""Hyperbolic rental options: parser, contract on the real response, bad input, fetch."""

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
from sources.hyperbolic import SOURCE, URL

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hyperbolic"


def raw(body: bytes | str) -> RawResponse:
    data = body.encode() if isinstance(body, str) else body
    return RawResponse("hyperbolic", "GET", URL, 200, {}, data, T)


def parse(body: bytes | str) -> pl.DataFrame:
    return SOURCE.parse([raw(body)], T)


def run(handler) -> object:
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=False)
    return asyncio.run(go())


def test_parser_on_own_fixture():
    df = parse((FIXTURES / "rental_options.json").read_bytes())
    assert df.height == 5
    ok = df.filter(pl.col("quarantine_reason").is_null())
    assert ok.height == 3
    h100 = ok.filter(pl.col("region") == "us-east-1").row(0, named=True)
    assert h100["gpu_model"] == "H100-SXM-80GB"
    assert h100["price_usd_per_gpu_hour"] == pytest.approx(2.99)
    assert h100["available_units"] == 3
    assert (h100["venue"], h100["venue_class"], h100["pricing_class"], h100["tier"]) == (
        "hyperbolic", "marketplace", "on_demand", "T2")
    h200 = ok.filter(pl.col("gpu_model") == "H200-SXM-141GB").row(0, named=True)
    assert h200["gpu_count"] == 8
    assert h200["price_usd_per_hour"] == pytest.approx(30.32)
    assert h200["price_usd_per_gpu_hour"] == pytest.approx(3.79)  # 3032 cents / 100 / 8
    assert h200["available_units"] is None  # totalAvailable absent = unknown, not zero
    pcie = ok.filter(pl.col("region") == "ca-east-1").row(0, named=True)
    assert pcie["gpu_model"] == "H100-PCIE-80GB" and pcie["available_units"] == 0
    reasons = df.filter(pl.col("quarantine_reason").is_not_null())["quarantine_reason"].to_list()
    assert any("enabled=false" in r for r in reasons)
    assert any("costPerHourCents is not a number" in r for r in reasons)


def test_contract_on_real_response(shared_fixture):
    body = shared_fixture("hyperbolic", "rental_options.json").read_bytes()
    df = parse(body)
    options = json.loads(body)
    assert df.height == len(options) == 13
    assert df["quarantine_reason"].null_count() == df.height
    assert (df["price_usd_per_hour"] > 0).all()
    assert df["gpu_model"].is_in(["H100-SXM-80GB", "H100-PCIE-80GB", "H200-SXM-141GB"]).all()
    per_gpu = df["price_usd_per_hour"] / df["gpu_count"]
    assert ((per_gpu - df["price_usd_per_gpu_hour"]).abs() < 1e-9).all()
    assert df.schema["observed_at"] == pl.Datetime("us", "UTC")
    bare = df.filter(pl.col("offer_id").str.contains("bare-metal")).row(0, named=True)
    assert bare["price_usd_per_gpu_hour"] == pytest.approx(25.52 / 8)


@pytest.mark.parametrize("body, field", [
    ('{"options": []}', "<body>"),  # an object where the list was
    ('[{"enabled": true, "costPerHour": 299, "gpuCount": 1, "gpuType": "h100"}]', "costPerHourCents"),  # renamed
    ('[{"enabled": true, "costPerHourCents": 299, "gpuType": "h100"}]', "gpuCount"),  # missing everywhere
])
def test_schema_changes_raise_naming_the_field(body, field):
    with pytest.raises(SourceError) as err:
        parse(body)
    assert err.value.source == "hyperbolic" and err.value.field == field


@pytest.mark.parametrize("body", ["<!DOCTYPE html><html><body>Cloudflare</body></html>", '[{"enabled": true, "cost',
                                  ""])
def test_html_truncated_or_empty_body_raise(body):
    with pytest.raises(SourceError, match="hyperbolic"):
        parse(body)


def test_empty_list_fails_the_source_without_rows():
    out = run(lambda req: httpx.Response(200, json=[]))
    assert out.status == "failed" and "held no rows" in out.error


def test_string_where_a_number_was_is_quarantined():
    body = json.dumps([{"enabled": True, "costPerHourCents": "299", "gpuCount": 1, "gpuType": "h100",
                        "gpuFormFactor": "sxm5", "region": "a"},
                       {"enabled": True, "costPerHourCents": 249, "gpuCount": "one", "gpuType": "h100",
                        "gpuFormFactor": "pcie", "region": "b"}])
    df = parse(body)
    assert df.filter(pl.col("region") == "a")["price_usd_per_gpu_hour"][0] == pytest.approx(2.99)  # numeric string
    assert "gpuCount is not a whole number" in df.filter(pl.col("region") == "b")["quarantine_reason"][0]


def test_fetch_retries_429_then_succeeds():
    calls = []
    body = (FIXTURES / "rental_options.json").read_bytes()

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(str(req.url))
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=body)

    out = run(handler)
    assert len(calls) == 2 and calls[0] == URL
    assert out.status == "partial" and out.rows_loaded == 3 and out.rows_quarantined == 2


def test_fetch_http_500_fails_with_status_and_source():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "hyperbolic" in out.error and "HTTP 500" in out.error
