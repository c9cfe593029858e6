"""OpenRouter: the model listing and each model's per-provider endpoints (token prices).

``GET https://openrouter.ai/api/v1/models`` lists every model with its default route's
price; ``GET /api/v1/models/{author}/{slug}/endpoints`` lists each serving provider with
its own price and quantization. Prices are strings in USD per token (x 1e6 for USD per
million tokens). ``"0"`` is a free tier and ``"-1"`` a variable router price: neither is a
price, so such rows are quarantined with that reason, never stored as zero.

Venues: the listing's price is venue ``openrouter`` (what OpenRouter charges by default);
each endpoint's provider is its own venue (``deepinfra``, ``together``...), with the
endpoint's quantization. A model whose ``/endpoints`` answers 404 (not served, or renamed)
does not fail the source: the 404 is kept as a raw response and reported as one quarantined
row naming the model, and the other models carry on.
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
from sources.base import RawResponse, Source, as_float, number_repeats, request, require_field_somewhere, require_list

BASE = "https://openrouter.ai/api/v1"
PER_MILLION = 1_000_000


def endpoint_models() -> list[str]:
    """Models whose per-provider endpoints we fetch: every canonical model in models.toml."""
    return sorted(canonical.token_models())


NOT_SERVED = (404,)  # an /endpoints answer that means "no such model here", recorded and reported


def _price(pricing: dict[str, Any], key: str) -> tuple[float | None, str | None]:
    """USD per million tokens from a per-token string, and a reason when it is not a price."""
    raw = pricing.get(key)
    if raw is None:
        return None, None
    value = as_float(raw)
    if value is None:
        return None, f"pricing.{key} is not a number: {raw!r}"
    if value == 0:
        return None, f"pricing.{key} is 0 (free tier): not a price"
    if value < 0:
        return None, f"pricing.{key} is {raw} (variable router price): not a price"
    return value * PER_MILLION, None


def _split_variant(model_id: str) -> str:
    """``google/gemma-3-12b-it:free`` -> ``google/gemma-3-12b-it`` (the variant is a route, not a model)."""
    return model_id.split(":", 1)[0]


def _row(source: str, provider: str, model_id: str, pricing: Any, context: Any, quant: Any,
         resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
    if not isinstance(pricing, dict):
        pricing = {}
    inp, r_in = _price(pricing, "prompt")
    out, r_out = _price(pricing, "completion")
    cached, r_cached = _price(pricing, "input_cache_read")
    reasons = [r for r in (r_in, r_out) if r]
    if not pricing:
        reasons.append("missing field pricing")
    model = canonical.token_model(_split_variant(model_id))
    ctx = as_float(context)
    return {
        "observed_at": observed_at,
        "source": source,
        "provider": provider,
        "model": model,
        "model_family": canonical.model_family(model),
        "source_model_id": model_id,
        "usd_per_mtok_input": inp,
        "usd_per_mtok_output": out,
        "usd_per_mtok_cached_input": cached if r_cached is None else None,
        "context_window": int(ctx) if ctx else None,
        "quantization": quant.lower() if isinstance(quant, str) and quant and quant.lower() != "unknown" else None,
        "currency": "USD",
        "raw_sha256": resp.sha256,
        "quarantine_reason": "; ".join(reasons) or None,
    }


class OpenRouter(Source):
    name = "openrouter"
    kind = "token"
    description = "OpenRouter model listing and per-provider endpoints (USD per token)"
    key_env = "SPOTINDEX_OPENROUTER_KEY"
    key_optional = True  # the listing and endpoints are public; a key only raises rate limits
    venues = ("openrouter", "every provider serving a listed model")
    parser_checked = "2026-05-01"
    timeout_s = 300.0  # one /endpoints request per canonical model, spaced per host when live

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        headers = {"Authorization": f"Bearer {self.api_key()}"} if self.api_key() else None
        out = [await request(client, self.name, "GET", f"{BASE}/models", headers=headers, meta={"kind": "models"})]
        for model_id in endpoint_models():
            out.append(await request(client, self.name, "GET", f"{BASE}/models/{model_id}/endpoints",
                                     headers=headers, meta={"kind": "endpoints", "model": model_id},
                                     accept_status=NOT_SERVED))
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            is_endpoints = "/endpoints" in resp.url or resp.meta.get("kind") == "endpoints"
            if is_endpoints and resp.status in NOT_SERVED:
                rows.append(self._not_served_row(resp, observed_at))
                continue
            payload = resp.json()
            if is_endpoints:
                rows.extend(self._endpoint_rows(payload, resp, observed_at))
            else:
                rows.extend(self._listing_rows(payload, resp, observed_at))
        if not rows:
            return empty_frame(TOKEN_PRICE_SCHEMA)
        return rows_frame(rows, TOKEN_PRICE_SCHEMA)

    def _listing_rows(self, payload: Any, resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        # The live API wraps the list in {"data": [...]}; archived copies may be the bare list.
        models = payload if isinstance(payload, list) else require_list(self.name, payload, "data", resp.url)
        require_field_somewhere(self.name, models, ("id", "pricing"), resp.url)
        rows = []
        for m in models:
            if not isinstance(m, dict) or not isinstance(m.get("id"), str):
                raise SourceError(self.name, f"model entry without a string id: {str(m)[:80]}", field="data[].id",
                                  url=resp.url)
            rows.append(_row(self.name, "openrouter", m["id"], m.get("pricing"), m.get("context_length"), None,
                             resp, observed_at))
        return rows

    def _not_served_row(self, resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
        """A 404 from /endpoints: one quarantined row, so the miss is counted, not silent."""
        model_id = resp.meta.get("model") or resp.url.rsplit("/models/", 1)[-1].removesuffix("/endpoints")
        row = _row(self.name, "openrouter", model_id, {}, None, None, resp, observed_at)
        row["quarantine_reason"] = (f"/endpoints answered HTTP {resp.status}: OpenRouter lists no provider "
                                    f"for {model_id}")
        return row

    def _endpoint_rows(self, payload: Any, resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise SourceError(self.name, "missing object 'data'", field="data", url=resp.url)
        endpoints = require_list(self.name, data, "endpoints", resp.url)
        require_field_somewhere(self.name, endpoints, ("provider_name", "pricing"), resp.url)
        model_id = str(data.get("id") or resp.meta.get("model") or "")
        rows: list[dict[str, Any]] = []
        per_provider: dict[str, int] = {}
        for e in endpoints:
            if isinstance(e, dict):
                provider = canonical.venue_id(str(e.get("provider_name") or e.get("name") or "unknown"))
                per_provider[provider] = per_provider.get(provider, 0) + 1
        for e in endpoints:
            if not isinstance(e, dict):
                bad = _row(self.name, "unknown", model_id, {}, None, None, resp, observed_at)
                bad["quarantine_reason"] = f"endpoint entry is not an object: {str(e)[:80]}"
                rows.append(bad)
                continue
            provider = canonical.venue_id(str(e.get("provider_name") or e.get("name") or "unknown"))
            row = _row(self.name, provider, str(e.get("model_id") or model_id), e.get("pricing"),
                       e.get("context_length"), e.get("quantization"), resp, observed_at)
            if per_provider[provider] > 1:  # one provider, several endpoints (fp8 and bf16...): keep each
                row["source_model_id"] += f" [{e.get('tag') or e.get('quantization') or e.get('name')}]"
            rows.append(row)
        # even the tag repeats: number them, never drop one (an identical copy is a duplicate)
        return number_repeats(rows, "source_model_id", " #", ("provider",))


SOURCE = OpenRouter()
