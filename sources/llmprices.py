"""llm-prices.com's current prices: the labs' own list prices, hand-maintained by Simon Willison.

``GET https://www.llm-prices.com/current-v1.json`` answers ``{"updated_at": ..., "prices": [{"id",
"vendor", "name", "input", "output", "input_cached"}]}``, built from the per-vendor files of
github.com/simonw/llm-prices (``data/<vendor>.json``: each model's ``price_history``; the current
file holds the entries whose ``to_date`` is open). Prices are USD PER MILLION TOKENS.

The venue is the vendor itself (``openai``, ``anthropic``, ``google``...; ``amazon`` is Bedrock's
Nova list price, so venue ``aws``). Model ids are the vendor's bare names (``gpt-4o``,
``claude-sonnet-4.5``): the vendor's namespace is added before canonical.token_model.
Ids ending in a context size (``claude-sonnet-4.5-200k``, ``gpt-5.4-272k``) are the price of
prompts above that size: a tier of the model, not a model, and not read (as LiteLLM's
``*_above_200k_tokens`` fields are not).
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
from sources.base import (
    CATALOG_MAX_AGE,
    RawResponse,
    Source,
    number_repeats,
    request,
    require_field_somewhere,
    require_list,
    time_problem,
    with_reason,
)

URL = "https://www.llm-prices.com/current-v1.json"
LONG_CONTEXT_TIER = re.compile(r"-\d+k$")

# vendor -> (venue id, maker namespace of its model ids)
VENDORS: dict[str, tuple[str, str]] = {
    "openai": ("openai", "openai"), "anthropic": ("anthropic", "anthropic"), "google": ("google", "google"),
    "amazon": ("aws", "amazon"), "mistral": ("mistral", "mistralai"), "deepseek": ("deepseek", "deepseek"),
    "xai": ("xai", "x-ai"), "meta-ai": ("meta", "meta-llama"), "minimax": ("minimax", "minimax"),
    "moonshot-ai": ("moonshotai", "moonshotai"), "qwen": ("alibaba", "qwen"), "cohere": ("cohere", "cohere"),
}


class LlmPrices(Source):
    name = "llmprices"
    kind = "token"
    description = "llm-prices.com current list prices of the model labs (USD per million tokens)"
    venues = tuple(sorted({v for v, _ in VENDORS.values()}))
    parser_checked = "2026-11-21"  # against the vendor files of simonw/llm-prices @723ef0b (shared fixture)

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        return [await request(client, self.name, "GET", URL, meta={"kind": "current"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            prices = require_list(self.name, payload, "prices", resp.url)
            if not prices:
                raise SourceError(self.name, "the price list is empty", field="prices", url=resp.url)
            require_field_somewhere(self.name, prices, ("id", "vendor", "input", "output"), resp.url)
            stale = time_problem(payload.get("updated_at") if isinstance(payload, dict) else None, observed_at,
                                 "price list updated_at", CATALOG_MAX_AGE)
            found = [self._row(rec, resp, observed_at) for rec in prices
                     if not (isinstance(rec, dict) and isinstance(rec.get("id"), str)
                             and LONG_CONTEXT_TIER.search(rec["id"]))]  # a long-context tier (module docstring)
            # the same id twice for one vendor: both kept, told apart (an identical copy is a duplicate)
            rows.extend(with_reason(number_repeats(found, "source_model_id", " #", ("provider",)), stale))
        if not rows:
            return empty_frame(TOKEN_PRICE_SCHEMA)
        return rows_frame(rows, TOKEN_PRICE_SCHEMA)

    def _row(self, rec: Any, resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
        if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not isinstance(rec.get("vendor"), str):
            return token_row(source=self.name, provider="unknown", model_key="", source_model_id=str(rec)[:60],
                             observed_at=observed_at, resp=resp, reasons=["record without a string id and vendor"])
        vendor = rec["vendor"].lower()
        venue, maker = VENDORS.get(vendor, (canonical.venue_id(vendor), vendor))
        mid = rec["id"]
        inp, r_in = price(rec.get("input"), "input", 1.0)
        out, r_out = price(rec.get("output"), "output", 1.0)
        cached, r_cached = price(rec.get("input_cached"), "input_cached", 1.0)
        key = mid if "/" in mid or canonical.family_maker(mid) else f"{maker}/{mid}"
        return token_row(source=self.name, provider=venue, model_key=key, source_model_id=mid,
                         observed_at=observed_at, resp=resp, inp=inp, out=out,
                         cached=cached if r_cached is None else None, reasons=[r_in, r_out])


SOURCE = LlmPrices()
