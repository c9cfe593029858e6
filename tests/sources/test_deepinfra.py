"""DeepInfra /models/list: cents per token -> USD per million, scope, bad input, fetch."""

from __future__ import annotations

import json

import pytest

from index.errors import SourceError
from sources.deepinfra import SOURCE, URL
from tests.sources.tokentools import always, fixture_bytes, parse_split, raw, row, run, serve


def _parse(body: bytes):
    return parse_split(SOURCE, [raw("deepinfra", URL, body)])


def test_parser_on_project_fixture() -> None:
    df, good, q = _parse(fixture_bytes("deepinfra", "models_list.json"))
    assert df.height == 5  # embeddings and the image model are not token prices
    r = row(good, source_model_id="meta-llama/Llama-3.3-70B-Instruct-Turbo")
    # 1e-05 cents per token = 0.10 USD per million tokens
    assert (r["provider"], r["model"]) == ("deepinfra", "meta-llama/llama-3.3-70b-instruct")
    assert r["usd_per_mtok_input"] == pytest.approx(0.10) and r["usd_per_mtok_output"] == pytest.approx(0.32)
    assert (r["quantization"], r["context_window"]) == ("fp8", 131072)
    r = row(good, source_model_id="deepseek-ai/DeepSeek-V3.2")
    assert r["model"] == "deepseek/deepseek-v3.2" and r["quantization"] == "fp4"
    assert r["usd_per_mtok_input"] == pytest.approx(0.26) and r["usd_per_mtok_cached_input"] == pytest.approx(0.13)
    r = row(good, source_model_id="Qwen/Qwen3-235B-A22B-Instruct-2507")
    assert r["model"] == "qwen/qwen3-235b-a22b-2507" and r["usd_per_mtok_output"] == pytest.approx(0.10)
    reasons = dict(zip(q["record_key"].to_list(), q["reason"].to_list(), strict=True))
    assert reasons["deepinfra|meta-llama/Meta-Llama-3-70B-Instruct"].startswith("deprecated since 2025-07-01")
    assert "not per token" in reasons["deepinfra|nvidia/Llama-3.1-Nemotron-70B-Instruct-dedicated"]
    assert good.height == 3 and q.height == 2


@pytest.mark.parametrize("body, field", [
    (b"<!DOCTYPE html><html><body>Cloudflare</body></html>", None),
    (b'[{"model_name": "meta-llama/Llama-3.3-70B-Instruct", "type": "text-gen', None),
    (b"[]", "<body>"),
    (b'{"error": "unauthorized"}', "data"),
    (json.dumps([{"name": "a/b", "type": "text-generation", "pricing": {"type": "tokens"}}]).encode(), "model_name"),
    (json.dumps([{"model_name": "a/b", "type": "text-generation", "price": {}}]).encode(), "pricing"),
])
def test_malformed_bodies_raise_naming_the_source(body: bytes, field: str | None) -> None:
    with pytest.raises(SourceError) as err:
        _parse(body)
    assert "source deepinfra" in str(err.value)
    if field:
        assert err.value.field == field


def test_bad_records_are_quarantined() -> None:
    body = json.dumps([
        {"model_name": "a/string-price", "type": "text-generation",
         "pricing": {"type": "tokens", "cents_per_input_token": "abc", "cents_per_output_token": 1e-5}},
        {"model_name": "a/zero", "type": "text-generation",
         "pricing": {"type": "tokens", "cents_per_input_token": 0, "cents_per_output_token": 0}},
        {"model_name": "a/fine", "type": "text-generation",
         "pricing": {"type": "tokens", "cents_per_input_token": "2e-05", "cents_per_output_token": 4e-05}},
    ]).encode()
    _, good, q = _parse(body)
    assert row(good, source_model_id="a/fine")["usd_per_mtok_input"] == pytest.approx(0.2)
    reasons = dict(zip(q["record_key"].to_list(), q["reason"].to_list(), strict=True))
    assert "cents_per_input_token is not a number: 'abc'" in reasons["deepinfra|a/string-price"]
    assert "is 0" in reasons["deepinfra|a/zero"]


def test_fetch_retries_a_429_then_loads() -> None:
    outcome = run(SOURCE, serve({URL: fixture_bytes("deepinfra", "models_list.json")}, first_status=429))
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("partial", 3, 2)


def test_fetch_500_every_time_fails_the_source() -> None:
    outcome = run(SOURCE, always(500))
    assert outcome.status == "failed" and "source deepinfra" in outcome.error and "HTTP 500" in outcome.error
