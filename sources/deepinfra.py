"""DeepInfra's model list: every hosted model with its price (one venue, ``deepinfra``).

``GET https://api.deepinfra.com/models/list`` (public; a key is sent when set) answers a bare
JSON array of models: ``model_name`` (a Hugging Face id, ``meta-llama/Llama-3.3-70B-Instruct``),
``type`` (``text-generation``, ``embeddings``, ``text-to-image``...), ``max_tokens``, ``quantization``
(``fp8``, ``bf16``... when DeepInfra says), ``deprecated`` (unix time or null) and ``pricing``.
Token models have ``pricing.type == "tokens"`` with ``cents_per_input_token`` and
``cents_per_output_token``: US CENTS PER TOKEN, so USD per million tokens = cents x 10,000.
``rate_per_input_token_cached`` is the cached-input price as a fraction of the input price.

Scope: ``text-generation`` models. Other types (images, audio, embeddings) are other units and
are not read. A text model priced otherwise than per token (per GPU-second: a dedicated
deployment), with a zero price, or retired (``deprecated`` in the past) is quarantined.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import TOKEN_PRICE_SCHEMA, empty_frame, rows_frame
from sources._tokens import price, token_row
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

URL = "https://api.deepinfra.com/models/list"
CENTS_PER_TOKEN_TO_USD_PER_MTOK = 10_000  # / 100 cents * 1e6 tokens
TEXT_TYPES = frozenset({"text-generation"})


class DeepInfra(Source):
    name = "deepinfra"
    kind = "token"
    description = "DeepInfra model list (US cents per token)"
    key_env = "SPOTINDEX_DEEPINFRA_KEY"
    key_optional = True  # the list is public
    venues = ("deepinfra",)
    parser_checked = "2026-11-21"  # against /models/list records quoted in public client tests (no shared fixture)

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        headers = {"Authorization": f"Bearer {self.api_key()}"} if self.api_key() else None
        return [await request(client, self.name, "GET", URL, headers=headers, meta={"kind": "models"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            records = payload if isinstance(payload, list) else require_list(self.name, payload, "data", resp.url)
            if not records:
                raise SourceError(self.name, "the model list is empty", field="<body>", url=resp.url)
            require_field_somewhere(self.name, records, ("model_name", "pricing", "type"), resp.url)
            for rec in records:
                row = self._row(rec, resp, observed_at)
                if row is not None:
                    rows.append(row)
        if not rows:
            return empty_frame(TOKEN_PRICE_SCHEMA)
        return rows_frame(rows, TOKEN_PRICE_SCHEMA)

    def _row(self, rec: Any, resp: RawResponse, observed_at: datetime) -> dict[str, Any] | None:
        if not isinstance(rec, dict) or not isinstance(rec.get("model_name"), str):
            return token_row(source=self.name, provider="deepinfra", model_key="", source_model_id=str(rec)[:60],
                             observed_at=observed_at, resp=resp, reasons=["record without a string model_name"])
        kind = rec.get("type") or rec.get("reported_type")
        if kind not in TEXT_TYPES:
            return None  # images, audio, embeddings: not token prices (module docstring)
        mid = rec["model_name"]
        pricing = rec.get("pricing")
        reasons: list[str | None] = []
        inp = out = cached = None
        if not isinstance(pricing, dict):
            reasons.append("pricing missing or not an object")
        elif pricing.get("type") != "tokens":
            reasons.append(f"priced by {pricing.get('type')!r}, not per token (a dedicated deployment)")
        else:
            inp, r_in = price(pricing.get("cents_per_input_token"), "cents_per_input_token",
                              CENTS_PER_TOKEN_TO_USD_PER_MTOK)
            out, r_out = price(pricing.get("cents_per_output_token"), "cents_per_output_token",
                               CENTS_PER_TOKEN_TO_USD_PER_MTOK)
            reasons += [r_in, r_out]
            ratio = as_float(pricing.get("rate_per_input_token_cached"))
            if inp is not None and ratio is not None and 0 < ratio <= 1:
                cached = round(inp * ratio, 10)
        retired = as_float(rec.get("deprecated"))
        if retired and retired > 0 and datetime.fromtimestamp(retired, UTC) <= observed_at:
            reasons.append(f"deprecated since {datetime.fromtimestamp(retired, UTC):%Y-%m-%d}: no longer offered")
        quant = rec.get("quantization") if isinstance(rec.get("quantization"), str) else None
        return token_row(source=self.name, provider="deepinfra", model_key=mid, source_model_id=mid,
                         observed_at=observed_at, resp=resp, inp=inp, out=out, cached=cached,
                         context=rec.get("max_tokens"), quantization=quant or canonical.quantization_hint(mid),
                         reasons=reasons)


SOURCE = DeepInfra()
