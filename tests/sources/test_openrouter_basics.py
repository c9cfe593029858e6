"""OpenRouter parser: listing and endpoints, own fixtures, real recorded listings, bad input."""

from __future__ import annotations

import json

import polars as pl
import pytest

import sources
from index import validate
from index.errors import SourceError
from tests.conftest import FIXTURES, T0, raw, shared_file

OR = sources.get("openrouter")
LIST_URL = "https://openrouter.ai/api/v1/models"


def test_listing_prices_per_million_and_not_prices_quarantined() -> None:
    df = OR.parse([raw("openrouter", (FIXTURES / "openrouter" / "models_small.json").read_bytes(), LIST_URL)], T0)
    good, bad = validate.split(df, "token")
    gpt = good.filter(pl.col("model") == "openai/gpt-4o").row(0, named=True)
    assert gpt["usd_per_mtok_input"] == pytest.approx(2.5)
    assert gpt["usd_per_mtok_output"] == pytest.approx(10.0)
    assert gpt["usd_per_mtok_cached_input"] == pytest.approx(1.25)
    assert gpt["provider"] == "openrouter" and gpt["context_window"] == 128000
    llama = good.filter(pl.col("model") == "meta-llama/llama-3.3-70b-instruct").row(0, named=True)
    assert llama["usd_per_mtok_input"] == pytest.approx(0.13, abs=1e-9)  # float noise in the string
    reasons = dict(zip(bad["record_key"], bad["reason"], strict=True))
    assert "free tier" in reasons["openrouter|google/gemma-3-27b-it:free"]
    assert "variable router price" in reasons["openrouter|openrouter/auto"]
    assert good.height == 2


def test_endpoints_one_venue_per_provider_with_quantization() -> None:
    url = f"{LIST_URL}/meta-llama/llama-3.3-70b-instruct/endpoints"
    body = (FIXTURES / "openrouter" / "endpoints_llama.json").read_bytes()
    df = OR.parse([raw("openrouter", body, url, meta={"kind": "endpoints"})], T0)
    assert sorted(df["provider"]) == ["deepinfra", "groq"]
    groq = df.filter(pl.col("provider") == "groq").row(0, named=True)
    assert groq["quantization"] == "fp16"
    assert groq["usd_per_mtok_output"] == pytest.approx(0.79)
    assert set(df["model"]) == {"meta-llama/llama-3.3-70b-instruct"}


@pytest.mark.parametrize("name", ["models_data_sorted_2026-05-01.json", "models_data_sorted_2026-04-02.json"])
def test_contract_real_listing(name: str) -> None:
    path = shared_file("fixtures", "openrouter", name)
    models = json.loads(path.read_bytes())
    df = OR.parse([raw("openrouter", path.read_bytes(), LIST_URL)], T0)
    good, bad = validate.split(df, "token")
    assert df.height == len(models)
    assert good.height + bad.height == len(models)
    assert good.height > 300
    assert ((good["usd_per_mtok_input"] > 0) | good["usd_per_mtok_input"].is_null()).all()
    # every quarantined row is a free tier or a variable price, never a silently dropped one
    assert bad["reason"].str.contains("free tier|variable router price").all()
    assert str(good["observed_at"].dtype) == "Datetime(time_unit='us', time_zone='UTC')"


def test_contract_price_change_between_snapshots() -> None:
    a = shared_file("fixtures", "openrouter", "models_data_sorted_2026-04-02.json")
    b = shared_file("fixtures", "openrouter", "models_data_sorted_2026-05-01.json")

    def price(path) -> float:  # type: ignore[no-untyped-def]
        df = OR.parse([raw("openrouter", path.read_bytes(), LIST_URL)], T0)
        return df.filter(pl.col("source_model_id") == "deepseek/deepseek-v3.2")["usd_per_mtok_input"][0]

    assert price(a) == pytest.approx(0.26)
    assert price(b) == pytest.approx(0.252)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ('{"models": []}', "missing"),
        ('{"data": [{"name": "x", "context_length": 5}]}', "absent"),
        ("<html><body>502 Bad Gateway</body></html>", "HTML instead of JSON"),
        ('{"data": [{"id": "a/b", "pricing": {"prompt": "0.0000', "invalid JSON"),
    ],
)
def test_bad_listing(body: str, text: str) -> None:
    with pytest.raises(SourceError) as exc:
        OR.parse([raw("openrouter", body, LIST_URL)], T0)
    assert "openrouter" in str(exc.value) and text in str(exc.value)


def test_string_price_quarantined() -> None:
    body = '{"data": [{"id": "a/b", "pricing": {"prompt": "cheap", "completion": "0.000001"}}]}'
    good, bad = validate.split(OR.parse([raw("openrouter", body, LIST_URL)], T0), "token")
    assert good.height == 0 and "not a number" in bad["reason"][0]
