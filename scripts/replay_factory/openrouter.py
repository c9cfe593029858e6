"""OpenRouter ``/models`` listing and ``/models/{id}/endpoints`` responses (prices per token, as strings)."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index import canonical
from index.replay import RecordedResponse
from sources.openrouter import BASE

SOURCE = "openrouter"
EVERY_HOURS = 24  # list prices: one capture a day is what the live job records too

# id: (name, USD/M input, USD/M output, USD/M cached input or None, context)
LISTING: dict[str, tuple[str, float, float, float | None, int]] = {
    "openai/gpt-4o": ("OpenAI: GPT-4o", 2.5, 10.0, 1.25, 128000),
    "openai/gpt-4o-mini": ("OpenAI: GPT-4o-mini", 0.15, 0.6, 0.075, 128000),
    "openai/gpt-5": ("OpenAI: GPT-5", 1.25, 10.0, 0.125, 400000),
    "openai/gpt-4.1": ("OpenAI: GPT-4.1", 2.0, 8.0, 0.5, 1047576),
    "openai/gpt-4.1-mini": ("OpenAI: GPT-4.1 Mini", 0.4, 1.6, 0.1, 1047576),
    "openai/o3": ("OpenAI: o3", 2.0, 8.0, 0.5, 200000),
    "openai/gpt-oss-120b": ("OpenAI: gpt-oss-120b", 0.039, 0.18, None, 131072),
    "openai/gpt-oss-20b": ("OpenAI: gpt-oss-20b", 0.03, 0.14, None, 131072),
    "anthropic/claude-sonnet-4.5": ("Anthropic: Claude Sonnet 4.5", 3.0, 15.0, 0.3, 1000000),
    "anthropic/claude-opus-4.1": ("Anthropic: Claude Opus 4.1", 15.0, 75.0, 1.5, 200000),
    "anthropic/claude-haiku-4.5": ("Anthropic: Claude Haiku 4.5", 1.0, 5.0, 0.1, 200000),
    "google/gemini-2.5-pro": ("Google: Gemini 2.5 Pro", 1.25, 10.0, 0.125, 1048576),
    "google/gemini-2.5-flash": ("Google: Gemini 2.5 Flash", 0.3, 2.5, 0.03, 1048576),
    "google/gemma-3-27b-it": ("Google: Gemma 3 27B", 0.08, 0.16, None, 131072),
    "meta-llama/llama-3.3-70b-instruct": ("Meta: Llama 3.3 70B Instruct", 0.1, 0.32, None, 131072),
    "meta-llama/llama-3.1-8b-instruct": ("Meta: Llama 3.1 8B Instruct", 0.02, 0.05, None, 16384),
    "deepseek/deepseek-chat-v3.1": ("DeepSeek: DeepSeek V3.1", 0.15, 0.75, None, 32768),
    "deepseek/deepseek-r1": ("DeepSeek: R1", 0.7, 2.5, None, 64000),
    "qwen/qwen3-235b-a22b": ("Qwen: Qwen3 235B A22B", 0.455, 1.82, None, 131072),
    "qwen/qwen-2.5-72b-instruct": ("Qwen2.5 72B Instruct", 0.36, 0.4, None, 32768),
    "mistralai/mistral-large": ("Mistral Large", 2.0, 6.0, 0.2, 128000),
    "x-ai/grok-4": ("xAI: Grok 4", 3.0, 15.0, 0.75, 256000),
    "moonshotai/kimi-k2": ("MoonshotAI: Kimi K2", 0.57, 2.3, None, 131072),
    "z-ai/glm-4.6": ("Z.AI: GLM 4.6", 0.39, 1.9, None, 204800),
    "google/gemma-3-27b-it:free": ("Google: Gemma 3 27B (free)", 0.0, 0.0, None, 96000),
    "openrouter/auto": ("Auto Router", -1.0, -1.0, None, 2000000),
}

# Providers that serve a model, with their multiple of the reference price and quantization.
PROVIDERS: dict[str, list[tuple[str, float, str]]] = {
    "meta-llama/llama-3.3-70b-instruct": [("DeepInfra", 1.0, "fp8"), ("Together", 8.8, "fp8"),
                                          ("Fireworks", 9.0, "fp16"), ("Groq", 5.9, "fp16"),
                                          ("Novita", 1.35, "bf16"), ("Nebius AI Studio", 1.3, "fp8"),
                                          ("Lambda", 1.2, "fp8"), ("Cerebras", 8.5, "fp16"),
                                          ("SambaNova", 6.0, "bf16")],
    "deepseek/deepseek-chat-v3.1": [("DeepInfra", 1.8, "fp8"), ("Fireworks", 3.7, "fp8"), ("Novita", 1.8, "fp8"),
                                    ("Chutes", 1.3, "fp8"), ("SambaNova", 2.0, "fp8"), ("Together", 4.0, "fp8")],
    "openai/gpt-4o": [("OpenAI", 1.0, "unknown"), ("Azure", 1.0, "unknown")],
    "openai/gpt-4o-mini": [("OpenAI", 1.0, "unknown"), ("Azure", 1.0, "unknown")],
    "anthropic/claude-sonnet-4.5": [("Anthropic", 1.0, "unknown"), ("Amazon Bedrock", 1.0, "unknown"),
                                    ("Google Vertex", 1.0, "unknown")],
}


def _pricing(inp: float, out: float, cached: float | None) -> dict[str, str]:
    def s(x: float) -> str:
        return "-1" if x < 0 else ("0" if x == 0 else f"{x / 1e6:.12f}".rstrip("0"))

    p = {"prompt": s(inp), "completion": s(out)}
    if cached is not None:
        p["input_cache_read"] = s(cached)
    return p


def _model(mid: str, spec: tuple[str, float, float, float | None, int]) -> dict[str, Any]:
    name, inp, out, cached, ctx = spec
    return {
        "id": mid, "canonical_slug": mid, "hugging_face_id": "", "name": name, "created": 1735689600,
        "description": f"{name}.", "context_length": ctx,
        "architecture": {"modality": "text->text", "input_modalities": ["text"], "output_modalities": ["text"],
                         "tokenizer": "Other", "instruct_type": None},
        "pricing": _pricing(inp, out, cached),
        "top_provider": {"context_length": ctx, "max_completion_tokens": 16384, "is_moderated": False},
        "per_request_limits": None, "supported_parameters": ["max_tokens", "temperature", "top_p"],
        "default_parameters": {}, "knowledge_cutoff": None, "expiration_date": None,
        "links": {"details": f"/api/v1/models/{mid}/endpoints"},
    }


def _endpoints(mid: str, rng: random.Random) -> dict[str, Any]:
    name, inp, out, cached, ctx = LISTING[mid]
    eps = []
    for provider, mult, quant in PROVIDERS.get(mid, [("OpenRouter", 1.0, "unknown")]):
        jitter = 1.0 if mult == 1.0 else rng.uniform(0.97, 1.03)
        eps.append({
            "name": f"{provider} | {mid}", "model_id": mid, "model_name": name, "context_length": ctx,
            "pricing": {**_pricing(round(inp * mult * jitter, 4), round(out * mult * jitter, 4), cached),
                        "discount": 0},
            "provider_name": provider, "tag": provider.lower().replace(" ", "-"), "quantization": quant,
            "max_completion_tokens": 16384, "max_prompt_tokens": None,
            "supported_parameters": ["max_tokens", "temperature"], "status": 0,
            "uptime_last_30m": round(rng.uniform(97, 100), 2),
        })
    return {"data": {"id": mid, "name": name, "created": 1735689600, "description": f"{name}.",
                     "architecture": {"modality": "text->text", "tokenizer": "Other", "instruct_type": None},
                     "endpoints": eps}}


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    listing = {"data": [_model(mid, spec) for mid, spec in sorted(LISTING.items())]}
    out = [RecordedResponse(SOURCE, "GET", f"{BASE}/models", 200, {"content-type": "application/json"},
                            json.dumps(listing).encode(), meta={"kind": "models"})]
    for mid in sorted(canonical.token_models()):
        body = _endpoints(mid, rng) if mid in LISTING else {"error": {"code": 404, "message": "Model not found"}}
        out.append(RecordedResponse(SOURCE, "GET", f"{BASE}/models/{mid}/endpoints", 200 if mid in LISTING else 404,
                                    {"content-type": "application/json"}, json.dumps(body).encode(),
                                    meta={"kind": "endpoints", "model": mid}))
    return out
