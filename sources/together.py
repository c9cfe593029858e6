"""Together AI's model list with serverless prices (one venue, ``together``; API key needed).

``GET https://api.together.xyz/v1/models`` with ``Authorization: Bearer $SPOTINDEX_TOGETHER_KEY``
answers a bare JSON array: ``id`` (``meta-llama/Llama-3.3-70B-Instruct-Turbo``), ``type`` (``chat``,
``language``, ``code``, ``image``, ``embedding``, ``moderation``, ``rerank``, ``audio``...),
``display_name``, ``organization``, ``context_length`` and ``pricing`` with ``input`` and ``output``
in USD PER MILLION TOKENS (``hourly`` is a dedicated endpoint's price per hour, ``base`` and
``finetune`` are fine-tuning prices; ``cached_input`` when Together quotes one).

Scope: ``chat``, ``language`` and ``code`` models. A model with input and output at 0 is
not offered serverless (dedicated only, or retired): quarantined with that reason.
Together's serving variants keep the model's identity: ``-Turbo`` is its FP8 endpoint (recorded
as quantization ``fp8``), ``-FP8``/``-FP4`` suffixes say the same; ``-tput`` is a throughput tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import TOKEN_PRICE_SCHEMA, empty_frame, rows_frame
from sources._tokens import price, token_row
from sources.base import RawResponse, Source, request, require_field_somewhere, require_list
from sources.litellm import together_serving_suffix

URL = "https://api.together.xyz/v1/models"
TEXT_TYPES = frozenset({"chat", "language", "code"})


class Together(Source):
    name = "together"
    kind = "token"
    description = "Together AI model list with serverless prices (USD per million tokens)"
    key_env = "SPOTINDEX_TOGETHER_KEY"
    venues = ("together",)
    parser_checked = "2026-11-21"  # against /v1/models records quoted in public client tests (no shared fixture)

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        key = self.api_key()
        headers = {"Authorization": f"Bearer {key}"} if key else None  # replay runs without the key
        return [await request(client, self.name, "GET", URL, headers=headers, meta={"kind": "models"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            # v1 answers a bare array; an OpenAI-style {"data": [...]} envelope is accepted too.
            records = payload if isinstance(payload, list) else require_list(self.name, payload, "data", resp.url)
            if not records:
                raise SourceError(self.name, "the model list is empty", field="<body>", url=resp.url)
            require_field_somewhere(self.name, records, ("id", "type", "pricing"), resp.url)
            for rec in records:
                row = self._row(rec, resp, observed_at)
                if row is not None:
                    rows.append(row)
        if not rows:
            return empty_frame(TOKEN_PRICE_SCHEMA)
        return rows_frame(rows, TOKEN_PRICE_SCHEMA)

    def _row(self, rec: Any, resp: RawResponse, observed_at: datetime) -> dict[str, Any] | None:
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str):
            return token_row(source=self.name, provider="together", model_key="", source_model_id=str(rec)[:60],
                             observed_at=observed_at, resp=resp, reasons=["record without a string id"])
        if rec.get("type") not in TEXT_TYPES:
            return None  # images, embeddings, audio, rerank: not token prices
        mid = rec["id"]
        base, serving_quant = together_serving_suffix(mid)
        pricing = rec.get("pricing")
        reasons: list[str | None] = []
        inp = out = cached = None
        if not isinstance(pricing, dict):
            reasons.append("pricing missing or not an object")
        else:
            inp, r_in = price(pricing.get("input"), "pricing.input", 1.0)
            out, r_out = price(pricing.get("output"), "pricing.output", 1.0)
            cached, r_cached = price(pricing.get("cached_input"), "pricing.cached_input", 1.0)
            if inp is None and out is None and (pricing.get("hourly") or 0):
                reasons.append("no serverless price: dedicated endpoints only (pricing.hourly)")
            else:
                reasons += [r_in, r_out]
            cached = cached if r_cached is None else None
        return token_row(source=self.name, provider="together", model_key=base, source_model_id=mid,
                         observed_at=observed_at, resp=resp, inp=inp, out=out, cached=cached,
                         context=rec.get("context_length"),
                         quantization=canonical.quantization_hint(mid) or serving_quant, reasons=reasons)


SOURCE = Together()
