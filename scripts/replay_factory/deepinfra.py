"""DeepInfra ``/models/list``: a bare array of hosted models, token prices in US cents per token."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index import canonical
from index.replay import RecordedResponse
from scripts.replay_factory._token_catalog import Model, Offer, models
from sources.deepinfra import URL

SOURCE = "deepinfra"
EVERY_HOURS = 24  # list prices

# Models on the list that are not token prices, or not offered: what the real list also holds.
EXTRAS: list[dict[str, Any]] = [
    {"model_name": "BAAI/bge-m3", "type": "embeddings", "reported_type": "embeddings", "tags": ["embeddings"],
     "max_tokens": 8192, "deprecated": None, "replaced_by": None, "private": 0, "quantization": None,
     "pricing": {"type": "input_tokens", "cents_per_input_token": 1e-06}},
    {"model_name": "black-forest-labs/FLUX-1-schnell", "type": "text-to-image", "reported_type": "text-to-image",
     "tags": [], "max_tokens": None, "deprecated": None, "replaced_by": None, "private": 0, "quantization": None,
     "pricing": {"type": "image_units", "cents_per_image_unit": 0.05}},
    {"model_name": "openai/whisper-large-v3-turbo", "type": "automatic-speech-recognition",
     "reported_type": "automatic-speech-recognition", "tags": [], "max_tokens": None, "deprecated": None,
     "replaced_by": None, "private": 0, "quantization": None, "pricing": {"type": "time", "cents_per_sec": 0.0045}},
    {"model_name": "meta-llama/Meta-Llama-3-70B-Instruct", "type": "text-generation",
     "reported_type": "text-generation", "tags": ["chat"], "max_tokens": 8192, "deprecated": 1751328000,
     "replaced_by": "meta-llama/Llama-3.3-70B-Instruct", "private": 0, "quantization": "bf16",
     "pricing": {"type": "tokens", "cents_per_input_token": 3e-05, "cents_per_output_token": 4e-05}},
    {"model_name": "deepinfra-dedicated/llama-3.1-405b-h200x8", "type": "text-generation",
     "reported_type": "text-generation", "tags": ["dedicated"], "max_tokens": 131072, "deprecated": None,
     "replaced_by": None, "private": 1, "quantization": "fp8", "pricing": {"type": "time", "cents_per_sec": 0.64}},
]


def _cents(usd_per_m: float) -> float:
    return float(f"{usd_per_m / 10_000:.6g}")


def _record(m: Model, o: Offer) -> dict[str, Any]:
    mid = o.native_id
    pricing: dict[str, Any] = {"type": "tokens", "cents_per_input_token": _cents(o.inp),
                               "cents_per_output_token": _cents(o.out)}
    if o.cached:
        pricing["rate_per_input_token_cached"] = round(o.cached / o.inp, 4)
    closed = mid.split("/")[0] in ("anthropic", "google", "openai") and not m.hugging_face_id
    quant = canonical.quantization_hint(mid) or (None if closed else ("fp4" if "Turbo" in mid else "fp8"))
    return {"model_name": mid, "type": "text-generation", "reported_type": "text-generation",
            "tags": ["chat", "tools"], "max_tokens": m.context or 131072, "deprecated": None, "replaced_by": None,
            "private": 0, "quantization": quant, "pricing": pricing}


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    records = [_record(m, o) for m in models() for o in m.offers_by("deepinfra")]
    records += EXTRAS
    records.sort(key=lambda r: r["model_name"].lower())
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"},
                             json.dumps(records, separators=(",", ":")).encode(), meta={"kind": "models"})]
