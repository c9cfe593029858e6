"""Together /v1/models: serverless prices per million tokens, Turbo = FP8, key handling."""

from __future__ import annotations

import json

import httpx
import pytest

from index.errors import SourceError
from sources.together import SOURCE, URL
from tests.sources.tokentools import always, fixture_bytes, parse_split, raw, row, run, serve


def _parse(body: bytes):
    return parse_split(SOURCE, [raw("together", URL, body)])


def test_parser_on_project_fixture() -> None:
    df, good, q = _parse(fixture_bytes("together", "models.json"))
    assert df.height == 5  # the embedding model is not a token price
    r = row(good, source_model_id="meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert (r["provider"], r["model"], r["quantization"]) == ("together", "meta-llama/llama-3.3-70b-instruct", "fp8")
    assert r["usd_per_mtok_input"] == pytest.approx(0.88) and r["usd_per_mtok_output"] == pytest.approx(0.88)
    r = row(good, source_model_id="zai-org/GLM-4.5-Air-FP8")
    assert (r["model"], r["quantization"], r["usd_per_mtok_output"]) == ("z-ai/glm-4.5-air", "fp8", pytest.approx(1.1))
    r = row(good, source_model_id="moonshotai/Kimi-K2.6")
    assert (r["model"], r["usd_per_mtok_cached_input"]) == ("moonshotai/kimi-k2.6", pytest.approx(0.2))
    assert row(good, source_model_id="deepseek-ai/DeepSeek-V3.1")["model"] == "deepseek/deepseek-chat-v3.1"
    assert q.height == 1 and "dedicated endpoints only" in q["reason"][0]


def test_the_key_is_sent_when_set(monkeypatch) -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, content=fixture_bytes("together", "models.json"))

    monkeypatch.setenv("SPOTINDEX_TOGETHER_KEY", "tk-123")
    outcome = run(SOURCE, handler)
    assert seen == ["Bearer tk-123"] and outcome.rows_loaded == 4
    assert "tk-123" not in outcome.raw[0].url + repr(outcome.raw[0].headers)  # the secret is not recorded
    monkeypatch.delenv("SPOTINDEX_TOGETHER_KEY")
    assert SOURCE.missing_key()  # live runs skip it without a key


@pytest.mark.parametrize("body, field", [
    (b"<html><body>Unauthorized</body></html>", None),
    (b'[{"id": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "type": "chat", "pricing": {"input": 0.8', None),
    (b"[]", "<body>"),
    (b'{"object": "list"}', "data"),
    (json.dumps([{"id": "a/b", "type": "chat", "prices": {"input": 1, "output": 2}}]).encode(), "pricing"),
    (json.dumps([{"name": "a/b", "type": "chat", "pricing": {"input": 1, "output": 2}}]).encode(), "id"),
])
def test_malformed_bodies_raise_naming_the_source(body: bytes, field: str | None) -> None:
    with pytest.raises(SourceError) as err:
        _parse(body)
    assert "source together" in str(err.value)
    if field:
        assert err.value.field == field


def test_a_string_where_a_number_was_is_quarantined() -> None:
    body = json.dumps({"data": [
        {"id": "a/ok", "type": "chat", "pricing": {"hourly": 0, "input": "0.2", "output": 0.6}},
        {"id": "a/bad", "type": "chat", "pricing": {"hourly": 0, "input": "n/a", "output": 0.6}},
    ]}).encode()
    _, good, q = _parse(body)
    assert row(good, source_model_id="a/ok")["usd_per_mtok_input"] == pytest.approx(0.2)
    assert q.height == 1 and "pricing.input is not a number" in q["reason"][0]


def test_fetch_retries_a_429_then_loads() -> None:
    outcome = run(SOURCE, serve({URL: fixture_bytes("together", "models.json")}, first_status=429))
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("partial", 4, 1)


def test_fetch_500_every_time_fails_the_source() -> None:
    outcome = run(SOURCE, always(500))
    assert outcome.status == "failed" and "source together" in outcome.error and "HTTP 500" in outcome.error
