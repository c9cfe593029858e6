"""Together ``/v1/models``: a bare array of models, serverless prices in USD per million tokens."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from scripts.replay_factory._token_catalog import Model, Offer, models
from sources.together import URL

SOURCE = "together"
EVERY_HOURS = 24  # list prices

ORGS = {"meta-llama": "Meta", "deepseek-ai": "DeepSeek", "Qwen": "Qwen", "mistralai": "mistralai",
        "google": "Google", "moonshotai": "Moonshot AI", "zai-org": "Z.ai", "MiniMaxAI": "MiniMax",
        "nvidia": "NVIDIA", "openai": "OpenAI", "arcee-ai": "Arcee AI", "NousResearch": "Nous Research"}


def _model(mid: str, kind: str, name: str, ctx: int | None, pricing: dict[str, Any]) -> dict[str, Any]:
    org = mid.split("/")[0]
    return {"id": mid, "object": "model", "created": 1767225600, "type": kind, "running": False,
            "display_name": name, "organization": ORGS.get(org, org), "link": f"https://huggingface.co/{mid}",
            "license": "other", "context_length": ctx,
            "config": {"chat_template": None, "stop": ["<|eot_id|>"], "bos_token": None, "eos_token": None},
            "pricing": pricing}


def _record(m: Model, o: Offer) -> dict[str, Any]:
    pricing: dict[str, Any] = {"hourly": 0, "input": o.inp, "output": o.out, "base": 0, "finetune": 0}
    if o.cached:
        pricing["cached_input"] = o.cached
    return _model(o.native_id, "chat", m.display_name, m.context, pricing)


EXTRAS = [
    _model("BAAI/bge-large-en-v1.5", "embedding", "BAAI-Bge-Large-1p5", 512,
           {"hourly": 0, "input": 0.02, "output": 0, "base": 0, "finetune": 0}),
    _model("black-forest-labs/FLUX.1-schnell", "image", "FLUX.1 Schnell", None,
           {"hourly": 0, "input": 0, "output": 0, "base": 0, "finetune": 0}),
    _model("meta-llama/Llama-Guard-4-12B", "moderation", "Llama Guard 4 12B", 1048576,
           {"hourly": 0, "input": 0.2, "output": 0.2, "base": 0, "finetune": 0}),
    _model("Qwen/Qwen2.5-32B-Instruct", "chat", "Qwen2.5 32B Instruct", 32768,
           {"hourly": 3.99, "input": 0, "output": 0, "base": 0, "finetune": 0}),  # dedicated endpoints only
]


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    records = [_record(m, o) for m in models() for o in m.offers_by("together_ai")] + EXTRAS
    records.sort(key=lambda r: r["id"].lower())
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"},
                             json.dumps(records, separators=(",", ":")).encode(), meta={"kind": "models"})]
