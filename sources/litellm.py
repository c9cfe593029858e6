"""LiteLLM's model price map: list prices of many providers in one JSON file.

``GET https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json``
is an object keyed by LiteLLM's model name (``gpt-4o``, ``azure/eu/gpt-4o``,
``us.anthropic.claude-sonnet-4-5-20250929-v1:0``, ``together_ai/meta-llama/...``). Each value
names its ``litellm_provider`` (the venue: ``bedrock_converse`` is Amazon Bedrock, ``azure`` and
``azure_ai`` Microsoft Azure, ``vertex_ai-*`` Google Cloud, ``together_ai`` Together...), its
``mode`` and its prices in USD PER TOKEN (``input_cost_per_token``, ``output_cost_per_token``,
``cache_read_input_token_cost``): multiplied by 1e6 for USD per million tokens.

Scope: ``mode`` chat or completion only (embeddings, images, audio, rerank are other units);
``sample_spec`` is documentation; ``ft:`` keys are fine-tuned-model rates, not a model's price.
Within scope nothing is dropped: a price of 0 (free tier, local runtime) or a missing per-token
price (priced per request, character or second) is a quarantined row with its reason.
Batch and priority tiers are other products and are not read. A long-context price
(``input_cost_per_token_above_200k_tokens`` and its output and cache-read companions) is its
own row: ``context_tier`` = the prompt size above which it applies (200000), the id suffixed
`` [prompt>200k]``; a side the tier does not list keeps the base price (LiteLLM lists only what
changes), except the cached-input price, which is left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import TOKEN_PRICE_SCHEMA, empty_frame, rows_frame
from sources._tokens import price, token_row
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere

URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
PER_MILLION = 1_000_000
MODES = frozenset({"chat", "completion"})
TIER_FIELD = re.compile(r"^(input|output)_cost_per_token_above_(\d+)k_tokens$")

# litellm_provider -> venue id, where canonical.venue_id(provider) would not find it.
VENUES: dict[str, str] = {
    "text-completion-openai": "openai",
    "azure": "azure", "azure_ai": "azure", "azure_text": "azure",
    "bedrock": "aws", "bedrock_converse": "aws", "bedrock_mantle": "aws", "sagemaker": "aws", "amazon_nova": "aws",
    "gemini": "google",
    "together_ai": "together", "fireworks_ai": "fireworks", "lambda_ai": "lambda", "friendliai": "friendli",
    "gmi": "gmicloud", "codestral": "mistral", "text-completion-codestral": "mistral",
    "cohere_chat": "cohere", "dashscope": "alibaba", "qwen_ai_platform": "alibaba", "qwencloud": "alibaba",
    "moonshot": "moonshotai", "zai": "zai", "bigmodel": "zai", "xai": "xai", "meta_llama": "meta",
    "vercel_ai_gateway": "vercel", "watsonx": "ibm", "xiaomi_mimo": "xiaomi",
}

# Providers that sell their own models under bare names (``gpt-4o``): the maker namespace to add.
MAKERS: dict[str, str] = {
    "openai": "openai", "text-completion-openai": "openai", "anthropic": "anthropic", "gemini": "google",
    "vertex_ai-language-models": "google", "xai": "x-ai", "deepseek": "deepseek", "mistral": "mistralai",
    "codestral": "mistralai", "text-completion-codestral": "mistralai", "moonshot": "moonshotai", "zai": "z-ai",
    "dashscope": "qwen", "qwen_ai_platform": "qwen", "qwencloud": "qwen", "cohere_chat": "cohere",
    "cohere": "cohere", "perplexity": "perplexity", "minimax": "minimax", "amazon_nova": "amazon", "ai21": "ai21",
    "xiaomi_mimo": "xiaomi",
}


def venue_for(provider: str) -> str:
    if provider.startswith("vertex_ai"):
        return "gcp"
    return VENUES.get(provider) or canonical.venue_id(provider)


def model_key(key: str, provider: str) -> str:
    """The model part of a LiteLLM key, ready for canonical.token_model.

    A provider's own prefix that token_model does not know (``kyma/``, ``aihubmix/``) is
    removed here; known routing prefixes stay, so token_model can also drop the region segment
    after them (``azure/eu/``). A bare name gets the lab's namespace when its family prefix does
    not name a maker already (Alibaba's API also sells ``deepseek-v4-flash``: DeepSeek's model).
    """
    first, _, rest = key.partition("/")
    own = {provider, provider.replace("_", "-"), provider.split("-")[0]}
    if rest and f"{first}/" not in canonical.ROUTE_PREFIXES and first in own:
        key = rest
    if "/" not in key and provider in MAKERS and canonical.family_maker(key) is None:
        key = f"{MAKERS[provider]}/{key}"  # a lab's own name; a known family keeps its own maker (resold models)
    return key


def together_serving_suffix(model_id: str) -> tuple[str, str | None]:
    """Together's serving variants: ``-Turbo`` is its FP8 endpoint, ``-tput`` its throughput tier.

    Returns (id without the suffix, quantization it implies); the weights are the same model.
    """
    low = model_id.lower()
    for suffix, quant in (("-turbo", "fp8"), ("-tput", None)):
        if low.endswith(suffix) and not low.startswith(("gpt-", "openai/gpt-")):
            return model_id[: -len(suffix)], quant
    return model_id, None


class LiteLLM(Source):
    name = "litellm"
    kind = "token"
    description = "LiteLLM model price map: list prices of ~100 providers (USD per token)"
    venues = ("openai", "anthropic", "aws", "azure", "gcp", "google", "together", "fireworks", "deepinfra", "groq",
              "mistral", "xai", "deepseek", "nebius", "cerebras", "sambanova", "and every other litellm_provider")
    parser_checked = "2026-11-21"  # against the whole file as shipped in litellm 1.109.1 (shared fixture)
    timeout_s = 60.0

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        return [await request(client, self.name, "GET", URL, meta={"kind": "price_map"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            rows.extend(self._rows(resp.json(), resp, observed_at))
        if not rows:
            return empty_frame(TOKEN_PRICE_SCHEMA)
        return rows_frame(rows, TOKEN_PRICE_SCHEMA)

    def _rows(self, payload: Any, resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        if not isinstance(payload, dict):
            raise SourceError(self.name, f"expected an object keyed by model name, got {type(payload).__name__}",
                              field="<body>", url=resp.url)
        entries = {k: v for k, v in payload.items() if k != "sample_spec"}
        if not entries:
            raise SourceError(self.name, "no model entries (only sample_spec or nothing)", field="<body>",
                              url=resp.url)
        specs = [v for v in entries.values() if isinstance(v, dict)]
        require_field_somewhere(self.name, specs, ("litellm_provider", "mode", "input_cost_per_token",
                                                   "output_cost_per_token"), resp.url)
        rows = []
        for key, spec in entries.items():
            if not isinstance(spec, dict):
                rows.append(self._bad(key, "unknown", f"entry is not an object: {str(spec)[:60]}", resp, observed_at))
                continue
            if spec.get("mode") not in MODES or key.startswith("ft:"):
                continue  # out of scope (see module docstring), not a bad record
            provider = spec.get("litellm_provider")
            if not isinstance(provider, str) or not provider:
                rows.append(self._bad(key, "unknown", "litellm_provider missing", resp, observed_at))
                continue
            rows.append(self._row(key, provider, spec, resp, observed_at))
            rows.extend(self._tier_rows(key, provider, spec, resp, observed_at))
        return rows

    def _tier_rows(self, key: str, provider: str, spec: dict[str, Any], resp: RawResponse,
                   observed_at: datetime) -> list[dict[str, Any]]:
        """One row per long-context tier the entry lists (see the module docstring)."""
        tiers = sorted({int(m.group(2)) for f in spec if (m := TIER_FIELD.match(f))})
        rows = []
        for k in tiers:
            tier = dict(spec)
            for side in ("input", "output"):
                if f"{side}_cost_per_token_above_{k}k_tokens" in spec:
                    tier[f"{side}_cost_per_token"] = spec[f"{side}_cost_per_token_above_{k}k_tokens"]
            tier["cache_read_input_token_cost"] = spec.get(f"cache_read_input_token_cost_above_{k}k_tokens")
            row = self._row(key, provider, tier, resp, observed_at)
            row["source_model_id"] = f"{key} [prompt>{k}k]"
            row["context_tier"] = k * 1000
            rows.append(row)
        return rows

    def _row(self, key: str, provider: str, spec: dict[str, Any], resp: RawResponse,
             observed_at: datetime) -> dict[str, Any]:
        mkey = model_key(key, provider)
        quant = canonical.quantization_hint(key)
        if provider == "together_ai":
            mkey, together_quant = together_serving_suffix(mkey)
            quant = quant or together_quant
        inp, r_in = price(spec.get("input_cost_per_token"), "input_cost_per_token", PER_MILLION)
        out, r_out = price(spec.get("output_cost_per_token"), "output_cost_per_token", PER_MILLION)
        cached, r_cached = price(spec.get("cache_read_input_token_cost"), "cache_read_input_token_cost", PER_MILLION)
        reasons: list[str | None] = [r_in, r_out]
        if inp is None and out is None and not any(reasons):
            reasons.append("no per-token price (priced per request, character or second)")
        context = as_float(spec.get("max_input_tokens")) or as_float(spec.get("max_tokens"))
        return token_row(source=self.name, provider=venue_for(provider), model_key=mkey, source_model_id=key,
                         observed_at=observed_at, resp=resp, inp=inp, out=out,
                         cached=cached if r_cached is None else None, context=context, quantization=quant,
                         reasons=reasons)

    def _bad(self, key: str, provider: str, reason: str, resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
        return token_row(source=self.name, provider=provider, model_key=key, source_model_id=key,
                         observed_at=observed_at, resp=resp, reasons=[reason])


SOURCE = LiteLLM()
