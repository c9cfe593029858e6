"""The token-model rule of index.canonical: one model, every provider's spelling; no false merges."""

from __future__ import annotations

import pytest

from index import canonical
from index.errors import ConfigError


@pytest.mark.parametrize("raw, expected", [
    # aliases and dated snapshots listed in models.toml
    ("openai/gpt-4o", "openai/gpt-4o"),
    ("gpt-4o-2024-08-06", "openai/gpt-4o"),
    ("azure/gpt-4o", "openai/gpt-4o"),
    ("GPT-4o", "openai/gpt-4o"),
    # routing prefixes and region / data-zone segments
    ("azure/eu/gpt-4o-2024-11-20", "openai/gpt-4o"),
    ("azure/us/gpt-5.4-2026-03-05", "openai/gpt-5.4"),
    ("bedrock/us-east-1/meta.llama3-3-70b-instruct-v1:0", "meta-llama/llama-3.3-70b-instruct"),
    ("together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "meta-llama/llama-3.3-70b-instruct"),
    ("fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct", "meta-llama/llama-3.3-70b-instruct"),
    ("fireworks_ai/accounts/fireworks/models/glm-5p3", "z-ai/glm-5.3"),
    ("cloudflare/@cf/meta/llama-3.2-1b-instruct", "meta-llama/llama-3.2-1b-instruct"),
    ("openrouter/anthropic/claude-3.7-sonnet", "anthropic/claude-3.7-sonnet"),
    # Bedrock: geo prefix of a cross-region profile, maker.model, Bedrock's own version suffix
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5"),
    ("global.anthropic.claude-opus-4-7", "anthropic/claude-opus-4.7"),
    ("anthropic.claude-opus-4-6-v1", "anthropic/claude-opus-4.6"),
    ("openai.gpt-oss-120b-1:0", "openai/gpt-oss-120b"),
    ("amazon.nova-pro-v1:0", "amazon/nova-pro-v1"),
    # Vertex suffixes
    ("vertex_ai/claude-sonnet-4-5@20250929", "anthropic/claude-sonnet-4.5"),
    ("vertex_ai/claude-opus-4-6@default", "anthropic/claude-opus-4.6"),
    ("vertex_ai/meta/llama-3.3-70b-instruct-maas", "meta-llama/llama-3.3-70b-instruct"),
    # quantization suffixes, Hugging Face orgs, punctuation
    ("zai-org/GLM-4.5-Air-FP8", "z-ai/glm-4.5-air"),
    ("deepseek-ai/DeepSeek-V3.2", "deepseek/deepseek-v3.2"),
    ("cerebras/qwen-3-32b", "qwen/qwen3-32b"),
    ("lambda_ai/llama3.3-70b-instruct-fp8", "meta-llama/llama-3.3-70b-instruct"),
    ("nvidia/NVIDIA-Nemotron-Nano-9B-v2", "nvidia/nemotron-nano-9b-v2"),
])
def test_spellings_meet(raw: str, expected: str) -> None:
    assert canonical.token_model(raw) == expected


@pytest.mark.parametrize("a, b", [
    ("gpt-4o-2024-05-13", "gpt-4o"),  # a snapshot with a different price is its own model
    ("meta-llama/llama-3.1-70b-instruct", "meta-llama/llama-3.3-70b-instruct"),
    ("nvidia/nemotron-nano-9b-v2", "nvidia/nemotron-nano-9b"),
    ("mistral.mistral-7b-instruct-v0:2", "mistralai/Mistral-7B-Instruct-v0.3"),
    ("gemini-2.5-flash-lite", "gemini-2.5-flash"),
    ("openai/gpt-3.5-turbo", "openai/gpt-4-turbo"),
    ("qwen/qwen3-235b-a22b", "qwen/qwen3-235b-a22b-2507"),
    ("claude-opus-4", "claude-opus-4-1"),
])
def test_different_models_stay_apart(a: str, b: str) -> None:
    assert canonical.token_model(a) != canonical.token_model(b)


def test_unknown_ids_are_normalised_the_same_way_by_every_source() -> None:
    # not in models.toml: no alias, but one spelling for all sources
    assert canonical.token_model("together_ai/Qwen/Qwen3-VL-8B-Instruct") == "qwen/qwen3-vl-8b-instruct"
    assert canonical.token_model("deepinfra/Qwen/Qwen3-VL-8B-Instruct") == "qwen/qwen3-vl-8b-instruct"
    assert canonical.token_model("qwen/qwen3-vl-8b-instruct") == "qwen/qwen3-vl-8b-instruct"
    # a bare name gets its family's maker
    assert canonical.token_model("glm-5.3-flash") == "z-ai/glm-5.3-flash"
    assert canonical.token_model("z-ai/glm-5.3-flash") == "z-ai/glm-5.3-flash"
    # a router's own namespace is kept
    assert canonical.token_model("openrouter/auto") == "openrouter/auto"
    assert canonical.token_model("") == ""


def test_models_toml_has_flagships_with_aliases() -> None:
    models = canonical.token_models()
    assert len(models) >= 60
    for mid in ("openai/gpt-4o", "anthropic/claude-sonnet-4.5", "meta-llama/llama-3.3-70b-instruct",
                "deepseek/deepseek-v3.2", "qwen/qwen3-235b-a22b-2507", "google/gemini-2.5-pro", "openai/gpt-oss-120b"):
        assert mid in models
    assert canonical.model_family("anthropic/claude-sonnet-4.5") == "claude-sonnet"
    assert canonical.model_family("qwen/qwen3-vl-8b-instruct") == "qwen3-vl-8b-instruct"


def test_quantization_hint() -> None:
    assert canonical.quantization_hint("zai-org/GLM-4.5-Air-FP8") == "fp8"
    assert canonical.quantization_hint("moonshotai/Kimi-K2.5-fp4") == "fp4"
    assert canonical.quantization_hint("lambda_ai/llama3.1-70b-instruct-fp8") == "fp8"
    assert canonical.quantization_hint("meta-llama/Llama-3.3-70B-Instruct") is None


def test_an_alias_naming_two_models_is_a_config_error(tmp_path, monkeypatch) -> None:
    (tmp_path / "models.toml").write_text(
        '[models."a/x"]\naliases = ["shared-name"]\n[models."b/y"]\naliases = ["Shared.Name"]\n')
    monkeypatch.setenv("SPOTINDEX_DATA", str(tmp_path))
    canonical.clear_caches()
    try:
        with pytest.raises(ConfigError, match="Shared.Name.* names both a/x and b/y"):
            canonical.token_model("x")
    finally:
        monkeypatch.delenv("SPOTINDEX_DATA")
        canonical.clear_caches()
