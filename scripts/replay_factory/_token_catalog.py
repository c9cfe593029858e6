"""The token-price catalogue shared by the token generators of the replay factory.

``token_catalog.tsv`` lists canonical models with a reference list price and, per model, the
offers of providers as LiteLLM names them (provider key, model key, USD per million tokens).
Every token generator renders a subset of it in its own API's wire format, so that one model
appears with one identity across sources, the way real sources overlap. Figures are static:
generators add no noise to list prices (list prices move by announcement, not by the hour).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CATALOG = Path(__file__).with_name("token_catalog.tsv")


@dataclass(frozen=True)
class Offer:
    provider: str  # litellm_provider
    key: str  # LiteLLM model key
    inp: float
    out: float
    cached: float | None

    @property
    def native_id(self) -> str:
        """The provider's own model id: the LiteLLM key without LiteLLM's provider prefix."""
        prefixes = {"together_ai": "together_ai/", "deepinfra": "deepinfra/", "fireworks_ai": "fireworks_ai/",
                    "groq": "groq/", "cerebras": "cerebras/", "sambanova": "sambanova/", "nebius": "nebius/",
                    "lambda_ai": "lambda_ai/", "hyperbolic": "hyperbolic/", "novita": "novita/", "baseten": "baseten/",
                    "crusoe": "crusoe/", "friendliai": "friendliai/", "nscale": "nscale/", "gmi": "gmi/",
                    "scaleway": "scaleway/", "ovhcloud": "ovhcloud/", "cloudflare": "cloudflare/", "azure": "azure/",
                    "azure_ai": "azure_ai/", "gemini": "gemini/", "xai": "xai/", "mistral": "mistral/",
                    "moonshot": "moonshot/", "zai": "zai/", "dashscope": "dashscope/", "minimax": "minimax/",
                    "perplexity": "perplexity/", "deepseek": "deepseek/"}
        if self.provider.startswith("vertex_ai"):
            return self.key.removeprefix("vertex_ai/")
        p = prefixes.get(self.provider)
        return self.key.removeprefix(p) if p else self.key


@dataclass(frozen=True)
class Model:
    id: str  # canonical id (index.canonical.token_model of every spelling below)
    openrouter_id: str | None
    name: str
    context: int | None
    hugging_face_id: str | None
    inp: float
    out: float
    cached: float | None
    offers: tuple[Offer, ...] = field(default=())

    def offers_by(self, *providers: str) -> list[Offer]:
        return [o for o in self.offers if o.provider in providers]

    @property
    def display_name(self) -> str:
        """``Anthropic: Claude Sonnet 4.5`` -> ``Claude Sonnet 4.5``; derived from the id otherwise."""
        if self.name:
            return self.name.split(": ", 1)[-1]
        words = self.id.split("/")[-1].replace("-", " ").split()
        return " ".join(w.upper() if w in {"gpt", "glm", "r1"} else w.capitalize() for w in words)


def _num(text: str) -> float | None:
    return float(text) if text else None


@cache
def models() -> tuple[Model, ...]:
    out: list[Model] = []
    current: dict | None = None
    offers: list[Offer] = []

    def flush() -> None:
        if current is not None:
            out.append(Model(**current, offers=tuple(offers)))

    for line in CATALOG.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if parts[0] == "M":
            flush()
            _, mid, or_id, name, ctx, hf, inp, outp, cached = parts
            current = {"id": mid, "openrouter_id": or_id or None, "name": name, "context": int(ctx) if ctx else None,
                       "hugging_face_id": hf or None, "inp": float(inp), "out": float(outp), "cached": _num(cached)}
            offers = []
        elif parts[0] == "O":
            _, prov, key, inp, outp, cached = parts
            offers.append(Offer(prov, key, float(inp), float(outp), _num(cached)))
    flush()
    return tuple(out)


def by_id() -> dict[str, Model]:
    return {m.id: m for m in models()}


def pick(key: str, share: float) -> bool:
    """A stable pseudo-random choice (not tied to any rng): True for about ``share`` of keys."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share
