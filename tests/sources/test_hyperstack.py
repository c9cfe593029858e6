"""Hyperstack pricebook: parser, bad input, fetch with the api_key header."""

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
from sources.hyperstack import SOURCE, URL

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "hyperstack" / "pricebook.json"


def parse(body: bytes | str, at: datetime = T) -> pl.DataFrame:
    data = body.encode() if isinstance(body, str) else body
    return SOURCE.parse([RawResponse("hyperstack", "GET", URL, 200, {}, data, at)], at)


def run(handler, require_keys: bool = False):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=require_keys)
    return asyncio.run(go())


def test_parser_on_own_fixture():
    df = parse(FIXTURE.read_bytes())
    assert df.height == 6  # storage is not a GPU
    december = df.filter(pl.col("quarantine_reason").str.contains("not yet the price in effect").fill_null(False))
    assert december.height == 1 and december["gpu_model"][0].startswith("H200")  # not current yet: quarantined
    listed = df.filter(pl.col("quarantine_reason").is_null() | (pl.col("offer_id") == "17:H100-80G-PCIe-NVLink"))
    got = {r["gpu_model"]: r for r in listed.iter_rows(named=True)}
    sxm = got["H100-SXM-80GB"]
    assert (sxm["price_usd_per_gpu_hour"], sxm["gpu_count"], sxm["pricing_class"]) == (pytest.approx(2.40), 1,
                                                                                       "on_demand")
    assert (sxm["venue"], sxm["venue_class"], sxm["tier"], sxm["price_basis"]) == ("hyperstack", "neocloud", "T3",
                                                                                  "bundled")
    pcie = df.filter(pl.col("offer_id") == "16:H100-80G-PCIe").row(0, named=True)
    assert pcie["price_usd_per_gpu_hour"] == pytest.approx(1.71)  # the discounted value, not original_value
    assert got["H200-SXM-141GB"]["price_usd_per_gpu_hour"] == pytest.approx(3.50)
    nvlink = df.filter(pl.col("offer_id") == "17:H100-80G-PCIe-NVLink").row(0, named=True)
    assert (nvlink["gpu_model"], nvlink["quarantine_reason"]) == ("H100-PCIE-80GB", "value is null: not offered")
    assert "unknown:RTX-A4000" in got


def test_price_windows_follow_the_observation_time():
    december = datetime(2026, 12, 2, tzinfo=UTC)
    df = parse(FIXTURE.read_bytes(), december)
    assert df.filter(pl.col("gpu_model") == "H200-SXM-141GB")["price_usd_per_gpu_hour"].to_list() == [
        pytest.approx(3.29)]


@pytest.mark.parametrize("payload, field", [
    ({"status": True, "data": []}, "<body>"),  # the usual envelope instead of the bare array
    ([{"id": 1, "resource": "H100-80G-SXM5", "value": 2.4}], "name"),
    ([{"id": 1, "name": "H100-80G-SXM5", "price": 2.4}], "value"),
])
def test_schema_changes_raise_naming_the_field(payload, field):
    with pytest.raises(SourceError) as err:
        parse(json.dumps(payload))
    assert err.value.source == "hyperstack" and err.value.field == field


@pytest.mark.parametrize("body", ["<html><body>401 Unauthorized</body></html>", '[{"id": 18, "name": "H1', ""])
def test_html_truncated_or_empty_body_raise(body):
    with pytest.raises(SourceError, match="hyperstack"):
        parse(body)


def test_string_where_a_number_was_is_quarantined():
    df = parse(json.dumps([{"id": 18, "name": "H100-80G-SXM5", "value": "2.40"},
                           {"id": 19, "name": "H200-141G-SXM5", "value": "ask sales"}]))
    assert df["price_usd_per_gpu_hour"].to_list()[0] == pytest.approx(2.40)
    assert df["quarantine_reason"].to_list()[1] == "value is not a number: 'ask sales'"


def test_empty_list_fails_the_source_without_rows():
    out = run(lambda req: httpx.Response(200, json=[]))
    assert out.status == "failed" and "held no rows" in out.error


def test_api_key_header_and_429_then_success(monkeypatch):
    monkeypatch.setenv("SPOTINDEX_HYPERSTACK_KEY", "hs-key-42")
    keys = []

    def handler(req):
        keys.append(req.headers.get("api_key"))
        if len(keys) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=FIXTURE.read_bytes())

    out = run(handler, require_keys=True)
    assert keys == ["hs-key-42", "hs-key-42"]
    assert out.status == "partial" and out.rows_loaded == 4 and out.rows_quarantined == 2  # null, December


def test_api_key_header_is_a_secret_header():
    from sources.base import redact_headers
    assert redact_headers({"api_key": "hs-key-42", "Content-Type": "json"}) == {"api_key": "<redacted>",
                                                                                 "Content-Type": "json"}


def test_fetch_http_500_fails():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "hyperstack" in out.error and "HTTP 500" in out.error
