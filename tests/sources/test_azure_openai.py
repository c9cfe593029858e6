"""Azure Retail Prices, Foundry Models meters: 1K vs 1M units, meters paired, NextPageLink followed."""

from __future__ import annotations

import json

import pytest

from index.errors import SourceError
from sources.azure_openai import SOURCE, first_url, read_meter
from tests.sources.tokentools import always, fixture_bytes, parse_split, raw, row, run, serve

PAGE2_URL = json.loads(fixture_bytes("azure_openai", "page1.json"))["NextPageLink"]


def _pages():
    return [raw("azure_openai", first_url(), fixture_bytes("azure_openai", "page1.json")),
            raw("azure_openai", PAGE2_URL, fixture_bytes("azure_openai", "page2.json"))]


def test_parser_on_project_fixture() -> None:
    df, good, q = parse_split(SOURCE, _pages())
    # input, output and cached meters of one model/deployment/region -> one row; 1K prices x 1000
    r = row(good, source_model_id="Azure OpenAI: gpt-4o-1120 [global] eastus")
    assert (r["provider"], r["model"]) == ("azure", "openai/gpt-4o")
    assert (r["usd_per_mtok_input"], r["usd_per_mtok_output"], r["usd_per_mtok_cached_input"]) == (
        pytest.approx(2.5), pytest.approx(10.0), pytest.approx(1.25))
    # the data zone is its own row; the first price tier wins over the volume tier
    r = row(good, source_model_id="Azure OpenAI: gpt-4o-1120 [datazone] swedencentral")
    assert (r["usd_per_mtok_input"], r["usd_per_mtok_output"]) == (pytest.approx(2.75), pytest.approx(11.0))
    # per-1M meters are taken as they are (GPT-5 products); the long-context tier is not read
    r = row(good, source_model_id="Azure OpenAI GPT5: gpt-5.4 [global] eastus")
    assert (r["model"], r["usd_per_mtok_input"], r["usd_per_mtok_output"]) == (
        "openai/gpt-5.4", pytest.approx(2.5), pytest.approx(15.0))
    r = row(good, source_model_id="Azure Deepseek Models: deepseek-v4-pro [global] eastus2")
    assert (r["model"], r["usd_per_mtok_input"]) == ("deepseek/deepseek-v4-pro", pytest.approx(1.74))
    r = row(good, source_model_id="Azure Phi Models: phi-4 [regional] swedencentral")
    assert (r["model"], r["usd_per_mtok_input"], r["usd_per_mtok_output"]) == (
        "microsoft/phi-4", pytest.approx(0.125), pytest.approx(0.5))
    # batch, reservation, long-context and provisioned meters are other products: 6 rows in all
    assert df.height == 6 and good.height == 5
    assert q.height == 1 and "output retailPrice is 0" in q["reason"][0]
    assert q["record_key"][0] == "azure|Azure OpenAI OSS Models: gpt-oss-120b [global] eastus"


@pytest.mark.parametrize("name, product, expected", [
    ("gpt 4o 1120 cached Inp glbl Tokens", "Azure OpenAI", ("openai/gpt-4o-1120", "cached", "global")),
    ("o4-mini 0416 Outp DZone Tokens", "Azure OpenAI Reasoning", ("openai/o4-mini-0416", "output", "datazone")),
    ("5.5 ShortCo inp Gl 1M Tokens", "Azure OpenAI GPT5", ("openai/gpt-5.5", "input", "global")),
    ("6-sol ShortCo Inp Std Gl 1M Tokens", "Azure OpenAI GPT6", ("openai/gpt-6-sol", "input", "global")),
    ("V4 Pro Inp DZ Tokens", "Azure Deepseek Models", ("deepseek/deepseek-v4-pro", "input", "datazone")),
    ("gpt 4o 1120 Batch Inp glbl Tokens", "Azure OpenAI", None),
    ("gpt4o-mini-rt-aud Inp glbl Tokens", "Azure OpenAI", None),
    ("5.4 LongCo inp Gl 1M Tokens", "Azure OpenAI GPT5", None),
    ("gpt 4o Provisioned Managed Global", "Azure OpenAI", None),
])
def test_meter_names(name: str, product: str, expected: tuple[str, str, str] | None) -> None:
    m = read_meter(name, product)
    assert (None if m is None else (m.model, m.direction, m.deployment)) == expected


def test_fetch_follows_next_page_link_after_a_429() -> None:
    handler = serve({PAGE2_URL: fixture_bytes("azure_openai", "page2.json"),
                     first_url(): fixture_bytes("azure_openai", "page1.json")}, first_status=429)
    outcome = run(SOURCE, handler)
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("partial", 5, 1)
    assert [r.url for r in outcome.raw] == [first_url(), PAGE2_URL]


@pytest.mark.parametrize("body, field", [
    (b"<html><body>Service Unavailable</body></html>", None),
    (b'{"BillingCurrency": "USD", "Items": [{"meterName": "gpt 4o', None),
    (b'{"BillingCurrency": "USD", "NextPageLink": null}', "Items"),
    (json.dumps({"Items": [{"meterName": "gpt 4o 1120 Inp glbl Tokens", "price": 0.0025,
                            "unitOfMeasure": "1K"}]}).encode(), "retailPrice"),
])
def test_malformed_pages_raise_naming_the_source(body: bytes, field: str | None) -> None:
    with pytest.raises(SourceError) as err:
        parse_split(SOURCE, [raw("azure_openai", first_url(), body)])
    assert "source azure_openai" in str(err.value)
    if field:
        assert err.value.field == field


def test_empty_items_and_bad_values() -> None:
    df, _, _ = parse_split(SOURCE, [raw("azure_openai", first_url(), b'{"Items": [], "NextPageLink": null}')])
    assert df.height == 0
    items = [{"meterName": "gpt 4.1 Inp glbl Tokens", "productName": "Azure OpenAI", "armRegionName": "eastus",
              "retailPrice": "0.002", "unitOfMeasure": "1K", "type": "Consumption"},
             {"meterName": "gpt 4.1 Outp glbl Tokens", "productName": "Azure OpenAI", "armRegionName": "eastus",
              "retailPrice": "n/a", "unitOfMeasure": "1K", "type": "Consumption"},
             {"meterName": "gpt 4.1 mini Inp glbl Tokens", "productName": "Azure OpenAI", "armRegionName": "eastus",
              "retailPrice": 0.4, "unitOfMeasure": "100 Tokens", "type": "Consumption"}]
    _, good, q = parse_split(SOURCE, [raw("azure_openai", first_url(), json.dumps({"Items": items}).encode())])
    reasons = dict(zip(q["record_key"].to_list(), q["reason"].to_list(), strict=True))
    assert "output retailPrice is not a number: 'n/a'" in reasons["azure|Azure OpenAI: gpt-4.1 [global] eastus"]
    assert "unknown unitOfMeasure '100 tokens'" in reasons["azure|Azure OpenAI: gpt-4.1-mini [global] eastus"]
    assert good.height == 0


def test_fetch_500_every_time_fails_the_source() -> None:
    outcome = run(SOURCE, always(500))
    assert outcome.status == "failed" and "source azure_openai" in outcome.error and "HTTP 500" in outcome.error


def test_contract_on_the_real_envelope(shared) -> None:
    """The shared recording is a VM SKU, not a token meter: the envelope parses and yields no token rows."""
    body = shared("azure", "retail_prices_standard_d2s_v3_eastus_spot.json").read_bytes()
    df, _, _ = parse_split(SOURCE, [raw("azure_openai", first_url(), body)])
    assert json.loads(body)["NextPageLink"] is None and df.height == 0
