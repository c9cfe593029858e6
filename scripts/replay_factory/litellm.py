"""LiteLLM's price map (one JSON object keyed by LiteLLM model name, USD per token)."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from scripts.replay_factory._token_catalog import Offer, models
from sources.litellm import URL

SOURCE = "litellm"
EVERY_HOURS = 24  # a file in a git repository: refreshed by commits, read once a day

SAMPLE_SPEC = {
    "code_interpreter_cost_per_session": 0.0,
    "deprecation_date": "date when the model becomes deprecated in the format YYYY-MM-DD",
    "input_cost_per_token": 0.0,
    "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
    "max_input_tokens": "max input tokens, if the provider specifies it",
    "max_output_tokens": "max output tokens, if the provider specifies it",
    "mode": "one of: chat, embedding, completion, image_generation, audio_transcription, audio_speech, "
            "image_generation, moderation, rerank, search",
    "output_cost_per_token": 0.0,
    "supports_function_calling": True,
    "supports_prompt_caching": True,
    "supports_vision": True,
}

# Entries outside the token scope, or not a price, as the real file has them.
EXTRAS: dict[str, dict[str, Any]] = {
    "text-embedding-3-large": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 1.3e-07,
                               "output_cost_per_token": 0.0, "max_input_tokens": 8191},
    "gpt-image-1": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_token": 5e-06,
                    "output_cost_per_token": 4e-05},
    "gemini/gemma-3-27b-it": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 0.0,
                              "output_cost_per_token": 0.0, "max_input_tokens": 131072},
    "zai/glm-4.7-flash": {"litellm_provider": "zai", "mode": "chat", "input_cost_per_token": 0,
                          "output_cost_per_token": 0, "max_input_tokens": 200000},
    "ollama/llama3.1": {"litellm_provider": "ollama", "mode": "chat", "input_cost_per_token": 0.0,
                        "output_cost_per_token": 0.0, "max_tokens": 8192},
    "vertex_ai/medlm-large": {"litellm_provider": "vertex_ai-language-models", "mode": "chat",
                              "input_cost_per_character": 5e-06, "output_cost_per_character": 1.5e-05},
    "ft:gpt-4.1-2025-04-14": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 3e-06,
                              "output_cost_per_token": 1.2e-05},
}


# Long-context tiers (USD per million tokens above the prompt size), as the real file lists them
# (litellm 1.109.1): input, output and cache-read prices above 200k / 272k prompt tokens.
LONG_CONTEXT: dict[str, tuple[int, float, float, float]] = {
    "gemini/gemini-2.5-pro": (200, 2.5, 15.0, 0.25),
    "gemini-2.5-pro": (200, 2.5, 15.0, 0.25),
    "gpt-5.4": (272, 5.0, 22.5, 0.5),
    "anthropic.claude-sonnet-4-5-20250929-v1:0": (200, 6.0, 22.5, 0.6),
}


def _per_token(usd_per_m: float | None) -> float | None:
    return None if usd_per_m is None else float(f"{usd_per_m / 1e6:.6g}")


def _entry(o: Offer, ctx: int | None) -> dict[str, Any]:
    e: dict[str, Any] = {"litellm_provider": o.provider, "mode": "chat",
                         "input_cost_per_token": _per_token(o.inp), "output_cost_per_token": _per_token(o.out)}
    if o.cached is not None:
        e["cache_read_input_token_cost"] = _per_token(o.cached)
    if ctx:
        e["max_input_tokens"] = ctx
    if o.key in LONG_CONTEXT:
        k, inp, out, cached = LONG_CONTEXT[o.key]
        e[f"input_cost_per_token_above_{k}k_tokens"] = _per_token(inp)
        e[f"output_cost_per_token_above_{k}k_tokens"] = _per_token(out)
        e[f"cache_read_input_token_cost_above_{k}k_tokens"] = _per_token(cached)
    return e


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    body: dict[str, Any] = {"sample_spec": SAMPLE_SPEC}
    for m in models():
        for o in m.offers:
            body[o.key] = _entry(o, m.context)
    body.update(EXTRAS)
    # The upstream file is indented; the bundled copy is compact to keep the snapshot small (same JSON).
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "text/plain; charset=utf-8"},
                             json.dumps(body, separators=(",", ":")).encode(), meta={"kind": "price_map"})]
