"""LiteLLM price map: parser on the project's fixture, contract on the real file, bad input, fetch."""

from __future__ import annotations

import gzip
import json

import pytest

from index.errors import SourceError
from sources.litellm import SOURCE, URL, model_key
from tests.sources.tokentools import always, fixture_bytes, parse_split, raw, row, run, serve


def _parse(body: bytes):
    return parse_split(SOURCE, [raw("litellm", URL, body)])


def test_parser_on_project_fixture() -> None:
    df, good, q = _parse(fixture_bytes("litellm", "model_prices.json"))
    # sample_spec, the embedding and the fine-tune rate are out of scope: 13 keys -> 10 rows,
    # plus one long-context tier row
    assert df.height == 11 and good.height == 9
    r = row(good, source_model_id="gpt-4o")
    assert (r["provider"], r["model"]) == ("openai", "openai/gpt-4o")
    assert r["usd_per_mtok_input"] == pytest.approx(2.5) and r["usd_per_mtok_output"] == pytest.approx(10.0)
    assert r["usd_per_mtok_cached_input"] == pytest.approx(1.25) and r["context_window"] == 128000
    r = row(good, source_model_id="azure/eu/gpt-4o-2024-11-20")
    assert (r["provider"], r["model"], r["usd_per_mtok_input"]) == ("azure", "openai/gpt-4o", pytest.approx(2.75))
    r = row(good, source_model_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert (r["provider"], r["model"]) == ("aws", "anthropic/claude-sonnet-4.5")
    assert r["usd_per_mtok_output"] == pytest.approx(16.5)  # the base tier, not the above-200k one
    assert r["context_tier"] is None
    # the above-200k price is its own row: input from the tier field, output unchanged (not listed)
    r = row(good, source_model_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0 [prompt>200k]")
    assert (r["model"], r["context_tier"]) == ("anthropic/claude-sonnet-4.5", 200000)
    assert r["usd_per_mtok_input"] == pytest.approx(6.6) and r["usd_per_mtok_output"] == pytest.approx(16.5)
    assert r["usd_per_mtok_cached_input"] is None
    r = row(good, source_model_id="vertex_ai/claude-sonnet-4-5@20250929")
    assert (r["provider"], r["model"]) == ("gcp", "anthropic/claude-sonnet-4.5")
    r = row(good, source_model_id="together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert (r["provider"], r["model"], r["quantization"]) == ("together", "meta-llama/llama-3.3-70b-instruct", "fp8")
    r = row(good, source_model_id="fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct")
    assert (r["provider"], r["model"], r["usd_per_mtok_input"]) == (
        "fireworks", "meta-llama/llama-3.3-70b-instruct", pytest.approx(0.9))
    r = row(good, source_model_id="zai-org/GLM-4.5-Air-FP8")
    assert (r["provider"], r["model"], r["quantization"]) == ("together", "z-ai/glm-4.5-air", "fp8")
    assert row(good, source_model_id="groq/openai/gpt-oss-120b")["model"] == "openai/gpt-oss-120b"
    # zero price = not offered / free tier; per-character pricing is not a token price
    reasons = dict(zip(q["record_key"].to_list(), q["reason"].to_list(), strict=True))
    assert "is 0" in reasons["google|gemini/gemma-3-27b-it"]
    assert "no per-token price" in reasons["gcp|vertex_ai/medlm-large"]
    assert q.height == 2


def test_model_key_keeps_resold_models_with_their_maker() -> None:
    assert model_key("chat-latest", "openai") == "openai/chat-latest"  # a lab's own name
    assert model_key("gpt-4o", "openai") == "gpt-4o"  # its family prefix already names the maker
    assert model_key("dashscope/deepseek-v4-flash", "dashscope") == "dashscope/deepseek-v4-flash"
    assert model_key("kyma/glm-5.3-flash", "kyma") == "glm-5.3-flash"
    assert model_key("azure/eu/gpt-4o", "azure") == "azure/eu/gpt-4o"


def test_contract_on_the_real_file(shared) -> None:
    body = gzip.decompress(shared("litellm", "model_prices_and_context_window.full.json.gz").read_bytes())
    df, good, q = _parse(body)
    assert good.height > 2500 and good["provider"].n_unique() >= 40 and good["model"].n_unique() >= 800
    assert (good["usd_per_mtok_input"].drop_nulls() > 0).all()
    assert (good["usd_per_mtok_output"].drop_nulls() > 0).all()
    assert str(good["observed_at"].dtype) == "Datetime(time_unit='us', time_zone='UTC')"
    # per token x 1e6: gpt-4o is 2.5 / 10 USD per million in the real file
    r = row(good, source_model_id="gpt-4o")
    assert (r["usd_per_mtok_input"], r["usd_per_mtok_output"]) == (pytest.approx(2.5), pytest.approx(10.0))
    # one model, every provider: Claude Sonnet 4.5 through Anthropic, Bedrock, Vertex and Azure
    sonnet = good.filter(good["model"] == "anthropic/claude-sonnet-4.5")
    assert {"anthropic", "aws", "gcp"} <= set(sonnet["provider"].to_list())
    llama = good.filter(good["model"] == "meta-llama/llama-3.3-70b-instruct")
    assert llama["provider"].n_unique() >= 15
    assert not good["model"].str.contains("unknown").any()
    assert q.height > 0 and q["reason"].is_not_null().all()
    # the primary key of token_prices holds
    assert good.select("provider", "source_model_id").is_duplicated().sum() == 0


@pytest.mark.parametrize("body, field", [
    (b"<!doctype html><html><body>rate limited</body></html>", None),
    (b'{"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per', None),
    (b"{}", "<body>"),
    (b"[]", "<body>"),
    (json.dumps({"gpt-4o": {"provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6,
                            "output_cost_per_token": 2e-6}}).encode(), "litellm_provider"),
    (json.dumps({"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost": 1e-6,
                            "output_cost_per_token": 2e-6}}).encode(), "input_cost_per_token"),
])
def test_malformed_bodies_raise_naming_the_source(body: bytes, field: str | None) -> None:
    with pytest.raises(SourceError) as err:
        _parse(body)
    assert "source litellm" in str(err.value)
    if field:
        assert err.value.field == field


def test_a_string_where_a_number_was_is_quarantined() -> None:
    body = json.dumps({
        "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "2.5e-06",
                   "output_cost_per_token": "1e-05"},
        "gpt-4o-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "cheap",
                        "output_cost_per_token": 6e-07},
    }).encode()
    _, good, q = _parse(body)
    assert row(good, source_model_id="gpt-4o")["usd_per_mtok_input"] == pytest.approx(2.5)  # numeric strings are read
    assert q.height == 1 and "input_cost_per_token is not a number: 'cheap'" in q["reason"][0]


def test_fetch_retries_a_429_then_loads() -> None:
    outcome = run(SOURCE, serve({URL: fixture_bytes("litellm", "model_prices.json")}, first_status=429))
    assert outcome.status == "partial" and outcome.rows_loaded == 9 and outcome.rows_quarantined == 2  # 8 + a tier row


def test_fetch_500_every_time_fails_the_source() -> None:
    outcome = run(SOURCE, always(500))
    assert outcome.status == "failed" and "source litellm" in outcome.error and "HTTP 500" in outcome.error
