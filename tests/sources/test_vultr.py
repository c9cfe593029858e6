"""Vultr plan catalog: parser, contract on the real-shaped responses, pagination, bad input, fetch."""

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
from sources.vultr import API, SOURCE

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vultr"
VCG_URL = f"{API}/plans?type=vcg&per_page=500"
METAL_URL = f"{API}/plans-metal?per_page=500"


def raw(body: bytes | str, listing: str) -> RawResponse:
    data = body.encode() if isinstance(body, str) else body
    url = METAL_URL if listing == "plans_metal" else VCG_URL
    return RawResponse("vultr", "GET", url, 200, {}, data, T, meta={"listing": listing})


def parse_own() -> pl.DataFrame:
    return SOURCE.parse([raw((FIXTURES / "plans_vcg.json").read_bytes(), "plans"),
                         raw((FIXTURES / "plans_metal.json").read_bytes(), "plans_metal")], T)


def run(handler):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=False)
    return asyncio.run(go())


def test_parser_on_own_fixture():
    df = parse_own()
    h100 = df.filter((pl.col("gpu_model") == "H100-SXM-80GB") & (pl.col("region") == "sea"))
    od = h100.filter(pl.col("pricing_class") == "on_demand").row(0, named=True)
    assert od["gpu_count"] == 8 and od["price_usd_per_hour"] == pytest.approx(23.92)
    assert od["price_usd_per_gpu_hour"] == pytest.approx(2.99)
    assert (od["venue"], od["venue_class"], od["tier"]) == ("vultr", "neocloud", "T3")
    spot = h100.filter(pl.col("pricing_class") == "spot").row(0, named=True)
    assert spot["price_usd_per_gpu_hour"] == pytest.approx(2.30)  # 18.40 preemptible / 8
    assert df.filter(pl.col("gpu_model") == "H100-SXM-80GB").height == 4  # 2 regions x (on-demand, spot)
    l40s = df.filter(pl.col("offer_id") == "vcg-l40s-32c-375g-96vram:ewr").row(0, named=True)
    assert l40s["gpu_model"] == "L40S-48GB" and l40s["gpu_count"] == 2
    assert l40s["price_usd_per_gpu_hour"] == pytest.approx(1.671)
    frac = df.filter(pl.col("offer_id") == "vcg-a100-3c-30g-20vram:sjc").row(0, named=True)
    assert frac["quarantine_reason"].startswith("fractional vGPU (20 GB of a 80 GB board)")
    b200 = df.filter(pl.col("gpu_model") == "B200-SXM-180GB").row(0, named=True)
    assert b200["available_units"] == 0 and b200["region"] is None  # sold nowhere now
    assert df.filter(pl.col("offer_id").str.starts_with("vbm-24c")).height == 0  # CPU bare metal: not a quote


def test_contract_on_real_shaped_responses(shared_fixture):
    vcg = shared_fixture("vultr", "plans_gpuhunt_fixture.json").read_bytes()
    metal = shared_fixture("vultr", "plans_metal_gpuhunt_fixture.json").read_bytes()
    df = SOURCE.parse([raw(vcg, "plans"), raw(metal, "plans_metal")], T)
    ok = df.filter(pl.col("quarantine_reason").is_null())
    assert (ok["price_usd_per_hour"] > 0).all()
    assert ((ok["price_usd_per_hour"] / ok["gpu_count"] - ok["price_usd_per_gpu_hour"]).abs() < 1e-9).all()
    h100 = ok.filter(pl.col("gpu_model") == "H100-SXM-80GB")
    assert h100.height == 2 and sorted(h100["price_usd_per_gpu_hour"].to_list()) == [pytest.approx(2.3),
                                                                                      pytest.approx(2.99)]
    assert ok.filter(pl.col("gpu_model") == "MI300X-192GB")["price_usd_per_gpu_hour"].to_list() == [
        pytest.approx(2.19), pytest.approx(1.84)]
    assert df.filter(pl.col("quarantine_reason").str.contains("fractional")).height == 2  # 4 GB and 40 GB slices
    assert df.schema["observed_at"] == pl.Datetime("us", "UTC")


def test_pagination_follows_the_cursor():
    page1 = {"plans": json.loads((FIXTURES / "plans_vcg.json").read_text())["plans"][:1],
             "meta": {"total": 2, "links": {"next": "bmV4dF9fdmNnLWwO", "prev": ""}}}
    page2 = {"plans": json.loads((FIXTURES / "plans_vcg.json").read_text())["plans"][1:2],
             "meta": {"total": 2, "links": {"next": "", "prev": "cHJldg"}}}
    seen = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(str(req.url))
        if req.url.path.endswith("/plans-metal"):
            return httpx.Response(200, content=(FIXTURES / "plans_metal.json").read_bytes())
        return httpx.Response(200, json=page2 if req.url.params.get("cursor") else page1)

    out = run(handler)
    assert seen[1] == f"{API}/plans?type=vcg&per_page=500&cursor=bmV4dF9fdmNnLWwO"
    assert len(seen) == 3
    assert out.rows.filter(pl.col("gpu_model") == "L40S-48GB").height == 3  # 2 regions + 1 region


@pytest.mark.parametrize("body, listing, field", [
    ('{"meta": {}}', "plans", "plans"),
    ('{"plans": [{"id": "vcg-x", "hourly": 1.0, "locations": ["ewr"], "type": "vcg"}]}', "plans", "hourly_cost"),
    ('{"plans_metal": [{"id": "vbm-x", "hourly_cost": 1.0}]}', "plans_metal", "locations"),
])
def test_schema_changes_raise_naming_the_field(body, listing, field):
    with pytest.raises(SourceError) as err:
        SOURCE.parse([raw(body, listing)], T)
    assert err.value.source == "vultr" and err.value.field == field


@pytest.mark.parametrize("body", ["<!doctype html><title>Vultr</title>", '{"plans_metal": [{"id": "vbm-112c', ""])
def test_html_truncated_or_empty_body_raise(body):
    with pytest.raises(SourceError, match="vultr"):
        SOURCE.parse([raw(body, "plans_metal")], T)


def test_string_where_a_number_was_is_quarantined():
    plan = json.loads((FIXTURES / "plans_metal.json").read_text())["plans_metal"][0]
    df = SOURCE.parse([raw(json.dumps({"plans_metal": [{**plan, "hourly_cost": "23,92"}]}), "plans_metal")], T)
    od = df.filter(pl.col("pricing_class") == "on_demand")
    assert od["quarantine_reason"].to_list() == ["hourly_cost is not a number: '23,92'"] * 2


def test_empty_lists_fail_the_source_without_rows():
    out = run(lambda req: httpx.Response(200, json={"plans_metal" if "metal" in req.url.path else "plans": [],
                                                    "meta": {"total": 0, "links": {"next": "", "prev": ""}}}))
    assert out.status == "failed" and "held no rows" in out.error


def test_fetch_retries_429_then_succeeds():
    calls = []

    def handler(req):
        calls.append(req)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        name = "plans_metal.json" if req.url.path.endswith("/plans-metal") else "plans_vcg.json"
        return httpx.Response(200, content=(FIXTURES / name).read_bytes())

    out = run(handler)
    assert len(calls) == 3 and out.status == "partial"
    assert out.rows.filter(pl.col("gpu_model") == "H100-SXM-80GB").height == 4


def test_fetch_http_500_fails():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "vultr" in out.error and "HTTP 500" in out.error
