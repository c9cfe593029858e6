"""Compute Pulse listings: parser, contract on the real page, pagination, envelope pins, bad input, fetch."""

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
from sources.computepulse import SLUGS, SOURCE, URL, page_params

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "computepulse"


def raw(body: bytes | str, slug: str = "nvidia-h100", offset: int = 0) -> RawResponse:
    data = body.encode() if isinstance(body, str) else body
    return RawResponse("computepulse", "GET", str(httpx.URL(URL, params=page_params(slug, offset))), 200, {}, data,
                       T, meta={"gpu": slug})


def own() -> pl.DataFrame:
    return SOURCE.parse([raw((FIXTURES / "h100_page1.json").read_bytes()),
                         raw((FIXTURES / "h100_page2.json").read_bytes(), offset=3),
                         raw((FIXTURES / "h200_page1.json").read_bytes(), "nvidia-h200")], T)


def run(handler):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await run_source(SOURCE, client, T, "test", require_keys=False)
    return asyncio.run(go())


def by_id(df: pl.DataFrame, offer_id: str) -> dict:
    return df.filter(pl.col("offer_id") == offer_id).row(0, named=True)


def test_parser_on_own_fixture():
    df = own()
    assert df.height == 11  # 3 + 7 + 1 H200; the listing repeated on page 2 is a quarantined copy
    copies = df.filter(pl.col("quarantine_reason").str.starts_with("duplicate").fill_null(False))
    assert copies.height == 1 and copies["offer_id"][0] in df.filter(pl.col("quarantine_reason").is_null())["offer_id"]
    nebius = by_id(df, "nvidia-h100:201")
    assert (nebius["venue"], nebius["venue_class"], nebius["gpu_model"]) == ("nebius", "neocloud", "H100-SXM-80GB")
    assert nebius["gpu_count"] == 8 and nebius["price_usd_per_hour"] == pytest.approx(23.60)
    assert nebius["price_usd_per_gpu_hour"] == pytest.approx(2.95)
    assert (nebius["pricing_class"], nebius["tier"], nebius["region"]) == ("on_demand", "T3", "eu-north")
    assert nebius["quarantine_reason"] is None and nebius["available_units"] is None
    vast = by_id(df, "nvidia-h100:202")
    assert (vast["venue"], vast["gpu_model"], vast["pricing_class"], vast["available_units"]) == (
        "vastai", "H100-PCIE-80GB", "spot", 1)
    scw = by_id(df, "nvidia-h100:203")
    assert (scw["currency"], scw["price_usd_per_gpu_hour"]) == ("EUR", pytest.approx(2.52))  # native, not FX'd
    assert by_id(df, "nvidia-h100:204")["pricing_class"] == "reserved_1y"
    hs = by_id(df, "nvidia-h100:205")
    assert (hs["pricing_class"], hs["gpu_model"]) == ("reserved_1m", "unknown:H100")  # no variant: not guessed
    assert "not in data/venues.toml" in by_id(df, "nvidia-h100:206")["quarantine_reason"]
    assert "gpu_count is not a positive whole number" in by_id(df, "nvidia-h100:207")["quarantine_reason"]
    assert "not the queried chip" in by_id(df, "nvidia-h100:208")["quarantine_reason"]
    assert by_id(df, "nvidia-h100:209")["available_units"] == 0
    gmi = by_id(df, "nvidia-h200:301")
    assert (gmi["venue"], gmi["gpu_model"], gmi["price_usd_per_gpu_hour"]) == ("gmicloud", "H200-SXM-141GB",
                                                                               pytest.approx(2.50))


def test_contract_on_real_response(shared_fixture):
    body = shared_fixture("computepulse", "listings_nvidia-h100_trimmed.json").read_bytes()
    df = SOURCE.parse([raw(body)], T)
    assert df.height == 4
    usd = df.filter(pl.col("currency") == "USD")
    assert (usd["price_usd_per_gpu_hour"] > 0).all()
    assert not usd["gpu_model"].str.starts_with("unknown").any()
    assert ((df["price_usd_per_hour"] / df["gpu_count"] - df["price_usd_per_gpu_hour"]).abs() < 1e-9).all()
    assert df.schema["observed_at"] == pl.Datetime("us", "UTC")
    assert set(df["venue"]) == {"vastai", "hyperstack", "cyfuture"}
    assert by_id(df, "nvidia-h100:17947")["price_usd_per_gpu_hour"] == pytest.approx(0.302)
    assert by_id(df, "nvidia-h100:16195")["currency"] == "INR"  # the aggregator's FX is not ours
    assert by_id(df, "nvidia-h100:7933")["quarantine_reason"].startswith("reserved listing without a standard term")


def test_fetch_follows_next_offset_and_every_chip():
    pages = {0: (FIXTURES / "h100_page1.json").read_bytes(), 3: (FIXTURES / "h100_page2.json").read_bytes()}
    seen = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append((req.url.params["gpu"], int(req.url.params["offset"])))
        if req.url.params["gpu"] == "nvidia-h100":
            return httpx.Response(200, content=pages[int(req.url.params["offset"])])
        if req.url.params["gpu"] == "nvidia-h200":
            return httpx.Response(200, content=(FIXTURES / "h200_page1.json").read_bytes())
        return httpx.Response(200, json={"data": [], "page": {"total": 0, "limit": 200, "offset": 0,
                                                              "next_offset": None},
                                         "meta": {"catalog_status": "live_or_cached",
                                                  "price_unit": "USD per GPU hour"}})

    out = run(handler)
    assert seen[:2] == [("nvidia-h100", 0), ("nvidia-h100", 3)]
    assert len(seen) == len(SLUGS) + 1
    assert out.status == "partial"
    assert out.rows_loaded == 6 and out.rows_quarantined == 5  # 4 bad rows + the listing repeated on page 2


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("data"), "data"),
    (lambda d: d["meta"].update(price_unit="EUR per GPU hour"), "meta.price_unit"),
    (lambda d: d["meta"].update(catalog_status="seed_fallback"), "meta.catalog_status"),
    (lambda d: d.pop("meta"), "meta"),
    (lambda d: [r.update(price_usd=r.pop("price_per_gpu_hour")) for r in d["data"]], "price_per_gpu_hour"),
    (lambda d: [r.pop("provider") for r in d["data"]], "provider"),
])
def test_schema_changes_raise_naming_the_field(mutate, field):
    doc = json.loads((FIXTURES / "h100_page1.json").read_text())
    mutate(doc)
    with pytest.raises(SourceError) as err:
        SOURCE.parse([raw(json.dumps(doc))], T)
    assert err.value.source == "computepulse" and err.value.field == field


@pytest.mark.parametrize("body", ["<!DOCTYPE html><html>rate limited</html>", '{"data":[{"id":"17947","provi', ""])
def test_html_truncated_or_empty_body_raise(body):
    with pytest.raises(SourceError, match="computepulse"):
        SOURCE.parse([raw(body)], T)


def test_string_where_a_number_was_is_quarantined():
    doc = json.loads((FIXTURES / "h100_page1.json").read_text())
    doc["data"][0]["price_per_gpu_hour"] = "2.95/hr"
    df = SOURCE.parse([raw(json.dumps(doc))], T)
    assert by_id(df, "nvidia-h100:201")["quarantine_reason"] == "price_per_gpu_hour is not a number: '2.95/hr'"


def test_empty_books_fail_the_source_without_rows():
    empty = {"data": [], "page": {"total": 0, "limit": 200, "offset": 0, "next_offset": None},
             "meta": {"catalog_status": "live_or_cached", "price_unit": "USD per GPU hour"}}
    out = run(lambda req: httpx.Response(200, json=empty))
    assert out.status == "failed" and "held no rows" in out.error


def test_fetch_retries_429_then_succeeds():
    calls = []
    body = (FIXTURES / "h200_page1.json").read_bytes()

    def handler(req):
        calls.append(req)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=body)

    out = run(handler)
    assert len(calls) == len(SLUGS) + 1
    # the same H200 page answered for every chip: only the nvidia-h200 query accepts it (identity pin)
    assert out.status == "partial" and out.rows_loaded == 1 and out.rows_quarantined == len(SLUGS) - 1
    assert out.rows["venue"].to_list() == ["gmicloud"]


def test_fetch_http_500_fails():
    out = run(lambda req: httpx.Response(500, headers={"Retry-After": "0"}))
    assert out.status == "failed" and "computepulse" in out.error and "HTTP 500" in out.error
