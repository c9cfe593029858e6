"""OpenRouter ``/models`` listing and ``/models/{id}/endpoints`` responses (prices per token, as strings).

The listing holds every catalogue model OpenRouter sells (its own ids), plus the entries that
are not prices and must be quarantined (``:free`` variants at "0", routers at "-1"). The
endpoints of a model list one provider per offer in the token catalogue, under OpenRouter's
provider names, with a quantization; a canonical model OpenRouter does not serve answers 404.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime
from typing import Any

from index import canonical
from index.replay import RecordedResponse
from scripts.replay_factory._token_catalog import Model, Offer, models, pick
from sources.openrouter import BASE

SOURCE = "openrouter"
EVERY_HOURS = 24  # list prices: one capture a day is what the live job records too

# LiteLLM provider -> OpenRouter provider_name.
PROVIDER_NAMES: dict[str, str] = {
    "openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Google AI Studio", "bedrock_converse": "Amazon Bedrock",
    "azure": "Azure", "azure_ai": "Azure", "xai": "xAI", "deepseek": "DeepSeek", "mistral": "Mistral",
    "moonshot": "Moonshot AI", "zai": "Z.AI", "dashscope": "Alibaba", "minimax": "MiniMax", "cohere_chat": "Cohere",
    "perplexity": "Perplexity", "together_ai": "Together", "fireworks_ai": "Fireworks", "deepinfra": "DeepInfra",
    "groq": "Groq", "cerebras": "Cerebras", "sambanova": "SambaNova", "nebius": "Nebius AI Studio",
    "lambda_ai": "Lambda", "hyperbolic": "Hyperbolic", "novita": "Novita", "baseten": "BaseTen", "crusoe": "Crusoe",
    "friendliai": "Friendli", "nscale": "Nscale", "gmi": "GMICloud", "cloudflare": "Cloudflare",
}
MAKER_NAMES = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google AI Studio", "mistralai": "Mistral",
               "x-ai": "xAI", "deepseek": "DeepSeek", "moonshotai": "Moonshot AI", "z-ai": "Z.AI",
               "qwen": "Alibaba", "minimax": "MiniMax", "cohere": "Cohere", "amazon": "Amazon Bedrock"}
CLOSED_QUANT = "unknown"  # what OpenRouter says for providers that do not publish it
QUANT_BY_PROVIDER = {"Groq": "fp16", "Cerebras": "fp16", "SambaNova": "bf16", "Hyperbolic": "bf16",
                     "Lambda": "fp8", "Novita": "fp8", "Nebius AI Studio": "fp8", "Together": "fp8",
                     "Fireworks": "fp8", "DeepInfra": "fp8", "BaseTen": "fp8", "Crusoe": "bf16", "Friendli": "fp8",
                     "Nscale": "bf16", "GMICloud": "fp8", "Cloudflare": "fp8"}
# Providers seen only through OpenRouter: they serve open-weight models at a share of the reference price.
EXTRA_PROVIDERS = [("Chutes", 0.35, 0.80, "fp8"), ("Parasail", 0.40, 0.95, "fp8"), ("SiliconFlow", 0.30, 0.90, "fp8"),
                   ("AtlasCloud", 0.30, 1.00, "fp8"), ("Phala", 0.15, 1.10, "fp8"), ("NextBit", 0.15, 0.85, "int4")]
FIRST_PARTY = ("openai", "anthropic", "gemini", "xai", "deepseek", "mistral", "moonshot", "zai", "dashscope", "minimax")
FREE_VARIANTS = ["google/gemma-3-27b-it", "meta-llama/llama-3.3-70b-instruct", "openai/gpt-oss-120b",
                 "qwen/qwen3-coder", "z-ai/glm-4.5-air"]
ROUTERS = [("openrouter/auto", "Auto Router", "-1", 2000000), ("openrouter/free", "Free Models Router", "0", 200000)]


def listed() -> list[Model]:
    """Catalogue models on OpenRouter: those it listed in 2026, and the labs' later releases."""
    return [m for m in models() if m.openrouter_id or m.offers_by(*FIRST_PARTY)]


def listing_id(m: Model) -> str:
    return m.openrouter_id or m.id


def _s(usd_per_m: float | None) -> str:
    return "0" if not usd_per_m else f"{usd_per_m / 1e6:.12f}".rstrip("0").rstrip(".")


def _pricing(inp: float, out: float, cached: float | None) -> dict[str, str]:
    p = {"prompt": _s(inp), "completion": _s(out)}
    if cached:
        p["input_cache_read"] = _s(cached)
    return p


def _model(mid: str, name: str, pricing: dict[str, str], ctx: int, hf: str | None) -> dict[str, Any]:
    return {
        "id": mid, "canonical_slug": mid, "hugging_face_id": hf or "", "name": name, "created": 1767225600,
        "description": f"{name}.", "context_length": ctx,
        "architecture": {"modality": "text->text", "input_modalities": ["text"], "output_modalities": ["text"],
                         "tokenizer": "Other", "instruct_type": None},
        "pricing": pricing,
        "top_provider": {"context_length": ctx, "max_completion_tokens": 16384, "is_moderated": False},
        "per_request_limits": None, "supported_parameters": ["max_tokens", "temperature", "tools"],
        "default_parameters": {}, "knowledge_cutoff": None, "expiration_date": None,
        "links": {"details": f"/api/v1/models/{mid}/endpoints"},
    }


def _name(m: Model) -> str:
    return m.name or f"{m.id.split('/')[0].title()}: {m.display_name}"


def endpoint_offers(m: Model) -> list[tuple[str, Offer | None, float, str]]:
    """(provider_name, offer or None, price multiple of the reference, quantization) per endpoint."""
    eps: list[tuple[str, Offer | None, float, str]] = []
    seen: dict[str, int] = {}
    for o in m.offers:
        name = PROVIDER_NAMES.get(o.provider) if not o.provider.startswith("vertex_ai") else "Google Vertex"
        if name is None or o.key.startswith(("eu.", "us.", "global.", "azure/eu/", "azure/us/", "azure/global")):
            continue
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 2:
            continue
        quant = canonical.quantization_hint(o.key) or QUANT_BY_PROVIDER.get(name, CLOSED_QUANT)
        if seen[name] == 2:  # a second endpoint of one provider: its other serving precision
            if not o.key.endswith("-Turbo"):
                continue
            quant = "fp8"
        eps.append((name, o, 1.0, quant))
    if m.hugging_face_id:
        for name, share, mult, quant in EXTRA_PROVIDERS:
            if pick(f"{m.id}:{name}", share):
                eps.append((name, None, mult, quant))
    return eps


def _uptime(mid: str, provider: str) -> float:
    """A stable uptime per endpoint: the two daily captures then share their bodies (smaller snapshot)."""
    return 96.0 + (int(hashlib.sha256(f"{mid}|{provider}".encode()).hexdigest()[:6], 16) % 400) / 100


def _endpoints(m: Model, rng: random.Random) -> dict[str, Any]:
    mid = listing_id(m)
    ctx = m.context or 131072
    eps = []
    for name, offer, mult, quant in endpoint_offers(m):
        inp, out, cached = (offer.inp, offer.out, offer.cached) if offer else (m.inp * mult, m.out * mult, None)
        tag = name.lower().replace(" ", "-").replace(".", "")
        if offer and offer.key.endswith("-Turbo"):
            tag += "/turbo"
        elif quant not in (CLOSED_QUANT, None):
            tag += f"/{quant}"
        eps.append({
            "name": f"{name} | {mid}", "model_id": mid, "model_name": _name(m), "context_length": ctx,
            "pricing": {**_pricing(inp, out, cached), "discount": 0},
            "provider_name": name, "tag": tag, "quantization": quant,
            "max_completion_tokens": 16384, "max_prompt_tokens": None,
            "supported_parameters": ["max_tokens", "temperature", "tools"], "status": 0,
            "uptime_last_30m": _uptime(mid, name), "supports_implicit_caching": bool(cached),
        })
    if not eps:  # a listed model is always served by someone: its maker, at the listing price
        maker = MAKER_NAMES.get(m.id.split("/")[0], "DeepInfra")
        eps.append({"name": f"{maker} | {mid}", "model_id": mid, "model_name": _name(m), "context_length": ctx,
                    "pricing": {**_pricing(m.inp, m.out, m.cached), "discount": 0}, "provider_name": maker,
                    "tag": maker.lower().replace(" ", "-"), "quantization": CLOSED_QUANT,
                    "max_completion_tokens": 16384, "max_prompt_tokens": None, "supported_parameters": ["max_tokens"],
                    "status": 0, "uptime_last_30m": _uptime(mid, maker)})
    return {"data": {"id": mid, "name": _name(m), "created": 1767225600, "description": f"{_name(m)}.",
                     "architecture": {"modality": "text->text", "tokenizer": "Other", "instruct_type": None},
                     "endpoints": eps}}


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    by_canonical = {m.id: m for m in listed()}
    entries = [_model(listing_id(m), _name(m), _pricing(m.inp, m.out, m.cached), m.context or 131072,
                      m.hugging_face_id) for m in by_canonical.values()]
    for mid in FREE_VARIANTS:
        m = by_canonical[mid]
        entries.append(_model(f"{listing_id(m)}:free", f"{_name(m)} (free)", _pricing(0, 0, None), 32768,
                              m.hugging_face_id))
    for mid, name, price, ctx in ROUTERS:
        entries.append(_model(mid, name, {"prompt": price, "completion": price}, ctx, None))
    listing = {"data": sorted(entries, key=lambda e: e["id"])}
    headers = {"content-type": "application/json"}
    out = [RecordedResponse(SOURCE, "GET", f"{BASE}/models", 200, headers,
                            json.dumps(listing, separators=(",", ":")).encode(), meta={"kind": "models"})]
    for mid in sorted(canonical.token_models()):
        m = by_canonical.get(mid)
        if m is not None:
            status, body = 200, _endpoints(m, rng)
        else:
            status, body = 404, {"error": {"code": 404, "message": f"No endpoints found for {mid}"}}
        out.append(RecordedResponse(SOURCE, "GET", f"{BASE}/models/{mid}/endpoints", status, headers,
                                    json.dumps(body).encode(), meta={"kind": "endpoints", "model": mid}))
    return out
