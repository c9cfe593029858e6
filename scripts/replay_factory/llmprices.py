"""llm-prices.com ``current-v1.json``: the labs' own list prices, USD per million tokens."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from scripts.replay_factory._token_catalog import models
from sources.llmprices import URL

SOURCE = "llmprices"
EVERY_HOURS = 24  # a hand-maintained file

# LiteLLM provider of a lab's own API -> llm-prices vendor
VENDORS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google", "xai": "xai", "deepseek": "deepseek",
           "mistral": "mistral", "moonshot": "moonshot-ai", "minimax": "minimax", "dashscope": "qwen"}
MAKERS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google", "xai": "x-ai", "deepseek": "deepseek",
          "mistral": "mistralai", "moonshot": "moonshotai", "minimax": "minimax", "dashscope": "qwen"}
# Long-context tiers the file lists as ids of their own (the adapter does not read them).
TIERS = [("anthropic", "claude-sonnet-4.5-200k", "Claude Sonnet 4.5 (>200k)", 6, 22.5, 0.6),
         ("openai", "gpt-5.4-272k", "GPT-5.4 (>272k)", 5, 22.5, 0.5)]


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    prices: list[dict[str, Any]] = []
    for m in models():
        for prov, vendor in VENDORS.items():
            offers = m.offers_by(prov)
            if not offers or m.id.split("/")[0] != MAKERS[prov]:  # a lab's file lists its own models
                continue
            o = min(offers, key=lambda o: len(o.key))  # the lab's plain id, not a dated alias
            prices.append({"id": m.id.split("/")[-1], "vendor": vendor, "name": m.display_name,
                           "input": o.inp, "output": o.out, "input_cached": o.cached})
            break
    for vendor, mid, name, inp, out, cached in TIERS:
        prices.append({"id": mid, "vendor": vendor, "name": name, "input": inp, "output": out,
                       "input_cached": cached})
    prices.sort(key=lambda p: (p["vendor"], p["id"]))
    body = {"updated_at": captured_at.strftime("%Y-%m-%d"), "prices": prices}
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"},
                             json.dumps(body, indent=2).encode(), meta={"kind": "current"})]
