"""Bedrock price-list offer files: 1K-token and per-million units, SKUs paired, out-of-scope SKUs."""

from __future__ import annotations

import json

import pytest

from index.errors import SourceError
from sources.bedrock import BASE, SOURCE, offer_url, unit_factor
from tests.sources.tokentools import always, fixture_bytes, parse_split, raw, row, run, serve


def _files():
    return [raw("bedrock", offer_url("AmazonBedrock", "us-east-1"),
                fixture_bytes("bedrock", "AmazonBedrock-us-east-1.json"),
                meta={"offer": "AmazonBedrock", "region": "us-east-1"}),
            raw("bedrock", offer_url("AmazonBedrockFoundationModels", "us-east-1"),
                fixture_bytes("bedrock", "AmazonBedrockFoundationModels-us-east-1.json"),
                meta={"offer": "AmazonBedrockFoundationModels", "region": "us-east-1"})]


def test_parser_on_project_fixture() -> None:
    df, good, q = parse_split(SOURCE, _files())
    # 0.00072 USD per 1K tokens = 0.72 USD per million
    r = row(good, source_model_id="Llama 3.3 70B Instruct @ us-east-1")
    assert (r["provider"], r["model"]) == ("aws", "meta-llama/llama-3.3-70b-instruct")
    assert (r["usd_per_mtok_input"], r["usd_per_mtok_output"]) == (pytest.approx(0.72), pytest.approx(0.72))
    r = row(good, source_model_id="Nova Pro @ us-east-1")
    assert (r["model"], r["usd_per_mtok_input"], r["usd_per_mtok_output"], r["usd_per_mtok_cached_input"]) == (
        "amazon/nova-pro-v1", pytest.approx(0.8), pytest.approx(3.2), pytest.approx(0.2))
    r = row(good, source_model_id="gpt-oss-120b @ us-east-1")  # a 1M-tokens unit is taken as it is
    assert (r["model"], r["usd_per_mtok_input"]) == ("openai/gpt-oss-120b", pytest.approx(0.15))
    # marketplace models: per million tokens, regional CRIS and global cross-region apart
    r = row(good, source_model_id="Claude Sonnet 4.5 (Amazon Bedrock Edition) @ us-east-1")
    assert (r["model"], r["usd_per_mtok_input"], r["usd_per_mtok_output"]) == (
        "anthropic/claude-sonnet-4.5", pytest.approx(3.3), pytest.approx(16.5))
    r = row(good, source_model_id="Claude Sonnet 4.5 (Amazon Bedrock Edition) @ us-east-1 (global)")
    assert (r["usd_per_mtok_input"], r["usd_per_mtok_output"], r["usd_per_mtok_cached_input"]) == (
        pytest.approx(3.0), pytest.approx(15.0), pytest.approx(0.3))
    # batch and provisioned SKUs are other products; an unknown unit and a zero price are quarantined
    assert df.height == 7 and good.height == 5
    reasons = dict(zip(q["record_key"].to_list(), q["reason"].to_list(), strict=True))
    assert "unknown unit 'Requests'" in reasons["aws|Magic Model @ us-east-1"]
    assert "output pricePerUnit is 0" in reasons["aws|Claude Instant (Amazon Bedrock Edition) @ us-east-1"]


def test_units() -> None:
    assert unit_factor("1K tokens", "") == 1000
    assert unit_factor("1M tokens", "") == 1
    assert unit_factor("Units", "AWS Marketplace software usage|us-east-1|Million Input Tokens") == 1
    assert unit_factor("Hours", "per hour") is None


def test_fetch_six_files_after_a_429() -> None:
    handler = serve({f"{BASE}/AmazonBedrock/": fixture_bytes("bedrock", "AmazonBedrock-us-east-1.json"),
                     f"{BASE}/AmazonBedrockFoundationModels/":
                         fixture_bytes("bedrock", "AmazonBedrockFoundationModels-us-east-1.json")}, first_status=429)
    outcome = run(SOURCE, handler)
    assert len(outcome.raw) == 6
    # the same regionCode in every file: groups merge, no row is counted twice
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("partial", 5, 2)


@pytest.mark.parametrize("body, field", [
    (b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>", None),
    (b'{"offerCode": "AmazonBedrock", "products": {"A1": {"sku": "A1"', None),
    (b'{"offerCode": "AmazonBedrock", "terms": {"OnDemand": {}}}', "products"),
    (b'{"offerCode": "AmazonBedrock", "products": {}, "terms": {"OnDemand": {}}}', "products"),
    (b'{"offerCode": "AmazonBedrock", "products": {"A1": {}}, "terms": {}}', "terms.OnDemand"),
    (b"[]", "<body>"),
])
def test_malformed_files_raise_naming_the_source(body: bytes, field: str | None) -> None:
    with pytest.raises(SourceError) as err:
        parse_split(SOURCE, [raw("bedrock", offer_url("AmazonBedrock", "us-east-1"), body)])
    assert "source bedrock" in str(err.value)
    if field:
        assert err.value.field == field


def test_renamed_price_field_and_string_prices_are_quarantined() -> None:
    doc = json.loads(fixture_bytes("bedrock", "AmazonBedrock-us-east-1.json"))
    for terms in doc["terms"]["OnDemand"].values():
        for term in terms.values():
            for dim in term["priceDimensions"].values():
                dim["price"] = dim.pop("pricePerUnit")  # renamed upstream
    _, good, q = parse_split(SOURCE, [raw("bedrock", offer_url("AmazonBedrock", "us-east-1"),
                                          json.dumps(doc).encode())])
    assert good.height == 0 and q.height == 4 and q["reason"].str.contains("no on-demand price").all()
    doc = json.loads(fixture_bytes("bedrock", "AmazonBedrock-us-east-1.json"))
    next(iter(doc["terms"]["OnDemand"]["A1"].values()))["priceDimensions"].popitem()[1]
    first = next(iter(doc["terms"]["OnDemand"]["B1"].values()))
    next(iter(first["priceDimensions"].values()))["pricePerUnit"]["USD"] = "eight"
    _, good, q = parse_split(SOURCE, [raw("bedrock", offer_url("AmazonBedrock", "us-east-1"),
                                          json.dumps(doc).encode())])
    assert "input pricePerUnit is not a number: 'eight'" in row(q, record_key="aws|Nova Pro @ us-east-1")["reason"]


def test_fetch_500_every_time_fails_the_source() -> None:
    outcome = run(SOURCE, always(500))
    assert outcome.status == "failed" and "source bedrock" in outcome.error and "HTTP 500" in outcome.error
