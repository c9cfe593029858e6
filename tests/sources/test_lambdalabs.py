"""Lambda Cloud instance-types: parser on our fixture, contract on the published API, bad input, faults."""

from __future__ import annotations

import json

import httpx
import polars as pl
import pytest

from index import validate
from index.errors import SourceError
from sources.lambdalabs import SOURCE, TYPE_REQUIRED, URL
from tests.sources.conftest import OBSERVED, own_fixture, raw, run, shared_fixture

BODY = own_fixture("lambdalabs", "instance_types.json")


def _split(body: bytes | str) -> tuple[pl.DataFrame, pl.DataFrame]:
    df = SOURCE.parse([raw("lambdalabs", URL, body)], OBSERVED)
    return validate.split(df.with_columns(dataset=pl.lit("test")), "gpu")


def _with(name: str, **changes: object) -> str:
    doc = json.loads(BODY)
    doc["data"][name]["instance_type"].update(changes)
    return json.dumps(doc)


def test_parse_own_fixture() -> None:
    good, quarantine = _split(BODY)
    assert quarantine.height == 0
    h100 = good.filter(pl.col("gpu_model") == "H100-SXM-80GB").sort("region").to_dicts()
    # one executable listing per region with capacity; cents per instance-hour -> USD per GPU-hour
    assert [r["region"] for r in h100] == ["us-east-1", "us-south-1"]
    assert h100[0]["price_usd_per_hour"] == 23.92 and h100[0]["price_usd_per_gpu_hour"] == pytest.approx(2.99)
    assert (h100[0]["gpu_count"], h100[0]["tier"], h100[0]["available_units"]) == (8, "T2", 8)
    assert (h100[0]["venue"], h100[0]["venue_class"], h100[0]["pricing_class"]) == ("lambda", "neocloud",
                                                                                    "on_demand")
    assert h100[0]["offer_id"] == "gpu_8x_h100_sxm5@us-east-1"
    gh200 = good.filter(pl.col("gpu_model") == "GH200-96GB").to_dicts()
    # sold out everywhere: still Lambda's list price, no region, zero units
    assert [(r["region"], r["available_units"], r["tier"], r["price_usd_per_gpu_hour"]) for r in gh200] == [
        (None, 0, "T3", 1.49)]
    assert good.filter(pl.col("offer_id").str.starts_with("gpu_8x_a100"))["gpu_model"].to_list() == ["unknown:A100"]


def test_contract_published_api() -> None:
    example = json.loads(shared_fixture("lambdalabs", "instance_types_payload_docs_example.json").read_text())
    df = SOURCE.parse([raw("lambdalabs", URL, json.dumps({"data": example}))], OBSERVED)
    (row,) = df.to_dicts()
    assert row["price_usd_per_hour"] == 15.92 and row["price_usd_per_gpu_hour"] == pytest.approx(1.99)
    assert (row["gpu_count"], row["region"], row["tier"]) == (8, "us-west-1", "T2")
    assert row["gpu_model"] == "unknown:Example GPU (40 GB SXM4)"  # the vendor's made-up GPU is not guessed
    assert row["observed_at"].tzinfo is not None and row["observed_at"].utcoffset().total_seconds() == 0
    spec = json.loads(shared_fixture("lambdalabs", "lambda_cloud_openapi_v1.10.0.json").read_text())
    assert any(s["url"].rstrip("/") + "/api/v1/instance-types" == URL for s in spec["servers"])
    schemas = spec["components"]["schemas"]
    assert set(TYPE_REQUIRED) <= set(schemas["InstanceType"]["required"])
    assert "gpus" in schemas["InstanceTypeSpecs"]["required"]
    assert schemas["InstanceType"]["properties"]["price_cents_per_hour"]["type"] == "integer"


def test_empty_data_gives_no_rows() -> None:
    assert SOURCE.parse([raw("lambdalabs", URL, '{"data": {}}')], OBSERVED).height == 0


def test_missing_price_in_one_type_is_quarantined() -> None:
    doc = json.loads(BODY)
    del doc["data"]["gpu_1x_gh200"]["instance_type"]["price_cents_per_hour"]
    good, quarantine = _split(json.dumps(doc))
    assert good.height == 3 and "missing field price_cents_per_hour" in quarantine["reason"][0]


def test_renamed_field_names_the_field() -> None:
    with pytest.raises(SourceError, match="source lambdalabs, field 'price_cents_per_hour'"):
        _split(BODY.replace(b'"price_cents_per_hour"', b'"price_usd_per_hour"'))


def test_string_and_zero_prices_are_quarantined() -> None:
    _, quarantine = _split(_with("gpu_1x_gh200", price_cents_per_hour="149c"))
    assert "price_cents_per_hour is not a number: '149c'" in quarantine["reason"][0]
    _, quarantine = _split(_with("gpu_1x_gh200", price_cents_per_hour=0))
    assert "not offered" in quarantine["reason"][0]


@pytest.mark.parametrize("body, message", [
    (b"<!DOCTYPE html><html>Lambda is down</html>", "HTML instead of JSON"),
    (BODY[:150], "invalid JSON"),
    (b'{"error": {"code": "global/invalid-api-key", "message": "API key was invalid"}}', "field 'data'"),
    (b'{"data": []}', "expected an object keyed by instance type"),
])
def test_bad_bodies_raise(body: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        _split(body)


def test_fetch_sends_bearer_key_and_recovers_from_429(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTINDEX_LAMBDA_KEY", "secret_lambda_key")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(200, content=BODY)

    outcome = run(SOURCE, handler)
    assert outcome.status == "ok" and outcome.rows_loaded == 4
    assert seen[-1].headers["authorization"] == "Bearer secret_lambda_key" and str(seen[-1].url) == URL


def test_skipped_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPOTINDEX_LAMBDA_KEY", raising=False)
    outcome = run(SOURCE, lambda req: httpx.Response(200, content=BODY))
    assert outcome.status == "skipped" and outcome.error == "skipped: set SPOTINDEX_LAMBDA_KEY"


def test_http_500_fails_the_source(monkeypatch: pytest.MonkeyPatch, no_backoff: None) -> None:
    monkeypatch.setenv("SPOTINDEX_LAMBDA_KEY", "k")
    outcome = run(SOURCE, lambda req: httpx.Response(500))
    assert outcome.status == "failed" and "source lambdalabs: HTTP 500" in (outcome.error or "")
