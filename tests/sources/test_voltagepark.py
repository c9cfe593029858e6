"""Voltage Park bare-metal locations: parser, contract on the real response, bad input, fetch."""

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
from sources.voltagepark import SOURCE, URL

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "voltagepark"


def parse(body: bytes | str) -> pl.DataFrame:
    data = body.encode() if isinstance(body, str) else body
    return SOURCE.parse([RawResponse("voltagepark", "GET", URL, 200, {}, data, T)], T)


def run(handler):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=False)
    return asyncio.run(go())


def test_parser_on_own_fixture():
    df = parse((FIXTURES / "locations.json").read_bytes())
    assert df.height == 4  # two locations x (ethernet, infiniband)
    eth = df.filter(pl.col("offer_id") == "5c0e7f2a-9d4b-4f3e-8a61-2b7d90c4e1f8:ethernet").row(0, named=True)
    assert eth["gpu_model"] == "H100-SXM-80GB"
    assert eth["price_usd_per_gpu_hour"] == pytest.approx(1.99)
    assert eth["gpu_count"] == 8 and eth["price_usd_per_hour"] == pytest.approx(15.92)
    assert eth["available_units"] == 16
    assert (eth["venue"], eth["venue_class"], eth["pricing_class"]) == ("voltagepark", "neocloud", "on_demand")
    ib = df.filter(pl.col("offer_id") == "5c0e7f2a-9d4b-4f3e-8a61-2b7d90c4e1f8:infiniband").row(0, named=True)
    assert ib["price_usd_per_gpu_hour"] == pytest.approx(2.49) and ib["available_units"] == 0
    null_ib = df.filter(pl.col("offer_id") == "e81b2c47-3f60-4c2d-b9a5-7d1e0f6a3c92:infiniband").row(0, named=True)
    assert null_ib["quarantine_reason"] == "gpu_price_infiniband is null: not offered"


def test_contract_on_real_response(shared_fixture):
    df = parse(shared_fixture("voltagepark", "bare_metal_locations.json").read_bytes())
    assert df.height == 2
    assert df["quarantine_reason"].null_count() == 2
    assert sorted(df["price_usd_per_gpu_hour"].to_list()) == [pytest.approx(1.99), pytest.approx(2.49)]
    assert (df["gpu_model"] == "H100-SXM-80GB").all()
    assert ((df["price_usd_per_hour"] / df["gpu_count"] - df["price_usd_per_gpu_hour"]).abs() < 1e-9).all()
    assert df.schema["observed_at"] == pl.Datetime("us", "UTC")


LOC = {"id": "x", "gpu_count_ethernet": 8, "gpu_price_ethernet": "1.99", "gpu_count_infiniband": 0,
       "gpu_price_infiniband": "2.49", "specs_per_node": {"gpu_model": "h100-sxm5-80gb", "gpu_count": 8}}


@pytest.mark.parametrize("payload, field", [
    ({"items": [LOC]}, "results"),  # renamed top-level key
    ({"results": [{k: v for k, v in LOC.items() if k != "specs_per_node"}]}, "specs_per_node"),
    ({"results": [{**{k: v for k, v in LOC.items() if "price" not in k}, "gpu_cost_ethernet": "1.99"}]},
     "gpu_price_ethernet"),  # renamed price field
    ({"results": [LOC], "has_next": True}, "has_next"),
])
def test_schema_changes_raise_naming_the_field(payload, field):
    with pytest.raises(SourceError) as err:
        parse(json.dumps(payload))
    assert err.value.source == "voltagepark" and err.value.field == field


@pytest.mark.parametrize("body", ["<html><body>502 Bad Gateway</body></html>", '{"results": [{"id": "x", "gpu_',
                                  ""])
def test_html_truncated_or_empty_body_raise(body):
    with pytest.raises(SourceError, match="voltagepark"):
        parse(body)


def test_string_where_a_number_was_is_quarantined():
    df = parse(json.dumps({"results": [{**LOC, "gpu_price_ethernet": "contact us"}]}))
    bad = df.filter(pl.col("offer_id") == "x:ethernet")["quarantine_reason"][0]
    assert bad == "gpu_price_ethernet is not a number: 'contact us'"


def test_empty_list_fails_the_source_without_rows():
    out = run(lambda req: httpx.Response(200, json={"results": [], "total_result_count": 0, "has_next": False}))
    assert out.status == "failed" and "held no rows" in out.error


def test_fetch_retries_429_then_succeeds():
    calls = []

    def handler(req):
        calls.append(req)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=(FIXTURES / "locations.json").read_bytes())

    out = run(handler)
    assert len(calls) == 2 and out.status == "partial" and out.rows_loaded == 3 and out.rows_quarantined == 1


def test_fetch_http_500_fails():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "voltagepark" in out.error and "HTTP 500" in out.error
