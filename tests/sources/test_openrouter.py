"""OpenRouter: listing + per-model endpoints; a 404 for one model is recorded, not a failure."""

from __future__ import annotations

import json

import httpx
import pytest

from index import canonical
from index.errors import SourceError
from sources.openrouter import BASE, SOURCE
from tests.sources.tokentools import always, fixture_bytes, parse_split, raw, row, run

LLAMA = "meta-llama/llama-3.3-70b-instruct"


def _endpoints_raw(model: str, body: bytes, status: int = 200):
    return raw("openrouter", f"{BASE}/models/{model}/endpoints", body, status,
               meta={"kind": "endpoints", "model": model})


def test_listing_and_endpoints_on_project_fixture() -> None:
    listing = fixture_bytes("openrouter", "models.json")
    responses = [raw("openrouter", f"{BASE}/models", listing, meta={"kind": "models"}),
                 _endpoints_raw(LLAMA, fixture_bytes("openrouter", "endpoints_llama-3.3-70b.json"))]
    df, good, q = parse_split(SOURCE, responses)
    r = row(good, provider="openrouter", source_model_id=LLAMA)
    assert r["usd_per_mtok_input"] == pytest.approx(0.10) and r["usd_per_mtok_output"] == pytest.approx(0.32)
    r = row(good, provider="openrouter", source_model_id="anthropic/claude-sonnet-4.5")
    assert (r["model"], r["usd_per_mtok_cached_input"]) == ("anthropic/claude-sonnet-4.5", pytest.approx(0.3))
    # one venue per serving provider, with its quantization; two DeepInfra endpoints kept apart
    deepinfra = good.filter(good["provider"] == "deepinfra").sort("usd_per_mtok_input")
    assert deepinfra["quantization"].to_list() == ["fp8", "bf16"]
    assert deepinfra["usd_per_mtok_input"].to_list() == [pytest.approx(0.10), pytest.approx(0.23)]
    assert deepinfra["source_model_id"].to_list() == [f"{LLAMA} [deepinfra/turbo]", f"{LLAMA} [deepinfra/bf16]"]
    r = row(good, provider="groq")
    assert (r["model"], r["quantization"], r["usd_per_mtok_output"]) == (LLAMA, None, pytest.approx(0.79))
    assert row(good, provider="nebius")["quantization"] == "fp8"
    # the free variant and the router are quarantined with their reason, never stored as 0
    reasons = dict(zip(q["record_key"].to_list(), q["reason"].to_list(), strict=True))
    assert "free tier" in reasons[f"openrouter|{LLAMA}:free"]
    assert "variable router price" in reasons["openrouter|openrouter/auto"]
    assert good.select("provider", "source_model_id").is_duplicated().sum() == 0


def test_a_404_for_one_model_is_recorded_and_the_rest_loads() -> None:
    body404 = json.dumps({"error": {"code": 404, "message": "No endpoints found"}}).encode()
    responses = [_endpoints_raw(LLAMA, fixture_bytes("openrouter", "endpoints_llama-3.3-70b.json")),
                 _endpoints_raw("openai/gpt-6-sol", body404, status=404)]
    _, good, q = parse_split(SOURCE, responses)
    assert good.height == 4
    assert q.height == 1 and q["record_key"][0] == "openrouter|openai/gpt-6-sol"
    assert "HTTP 404" in q["reason"][0]


def test_fetch_continues_past_404s() -> None:
    listing = fixture_bytes("openrouter", "models.json")
    llama = fixture_bytes("openrouter", "endpoints_llama-3.3-70b.json")
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        asked.append(url)
        if url == f"{BASE}/models":
            return httpx.Response(200, content=listing)
        if url == f"{BASE}/models/{LLAMA}/endpoints":
            return httpx.Response(200, content=llama)
        return httpx.Response(404, json={"error": {"code": 404, "message": "No endpoints found"}})

    outcome = run(SOURCE, handler)
    n_models = len(canonical.token_models())
    assert len(asked) == 1 + n_models  # every canonical model asked once, none retried
    assert outcome.status == "partial"
    assert outcome.rows_loaded == 2 + 4  # two priced listing rows, four endpoints
    assert outcome.rows_quarantined == 2 + (n_models - 1)  # free + router, one 404 per other model


@pytest.mark.parametrize("body, field", [
    (b"<html><head><title>502 Bad Gateway</title></head></html>", None),
    (b'{"data": [{"id": "openai/gpt-4o", "pricing": {"prompt": "0.0000025"', None),
    (b'{"models": []}', "data"),
    (b'{"data": [{"id": "openai/gpt-4o", "prices": {"prompt": "0.0000025", "completion": "0.00001"}}]}',
     "pricing"),
])
def test_malformed_listing_raises_naming_the_source(body: bytes, field: str | None) -> None:
    with pytest.raises(SourceError) as err:
        parse_split(SOURCE, [raw("openrouter", f"{BASE}/models", body, meta={"kind": "models"})])
    assert "source openrouter" in str(err.value)
    if field:
        assert err.value.field == field


def test_empty_listing_and_bad_prices() -> None:
    df, _, _ = parse_split(SOURCE, [raw("openrouter", f"{BASE}/models", b'{"data": []}', meta={"kind": "models"})])
    assert df.height == 0
    body = json.dumps({"data": [{"id": "x/a", "pricing": {"prompt": "cheap", "completion": "0.000001"}},
                                {"id": "x/b", "pricing": {"prompt": 0.000002, "completion": "0.000004"}}]}).encode()
    _, good, q = parse_split(SOURCE, [raw("openrouter", f"{BASE}/models", body, meta={"kind": "models"})])
    assert row(good, source_model_id="x/b")["usd_per_mtok_input"] == pytest.approx(2.0)
    assert q.height == 1 and "not a number" in q["reason"][0]


def test_fetch_500_every_time_fails_the_source() -> None:
    outcome = run(SOURCE, always(500))
    assert outcome.status == "failed" and "source openrouter" in outcome.error and "HTTP 500" in outcome.error


def test_contract_on_the_real_listing(shared) -> None:
    body = shared("openrouter", "models_data_sorted_2026-05-01.json").read_bytes()
    _, good, q = parse_split(SOURCE, [raw("openrouter", f"{BASE}/models", body, meta={"kind": "models"})])
    assert good.height > 300 and (good["usd_per_mtok_input"] > 0).all()
    assert row(good, source_model_id="openai/gpt-4o")["usd_per_mtok_input"] == pytest.approx(2.5)
    assert row(good, source_model_id="openai/gpt-4o-2024-08-06")["model"] == "openai/gpt-4o"
    assert row(good, source_model_id="openai/gpt-4o-2024-05-13")["model"] == "openai/gpt-4o-2024-05-13"
    free = q.filter(q["record_key"].str.ends_with(":free"))
    assert free.height >= 20 and free["reason"].str.contains("free tier").all()
    assert q.filter(q["record_key"] == "openrouter|openrouter/auto")["reason"].str.contains("router").all()
