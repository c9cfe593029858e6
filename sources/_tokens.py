"""Helpers shared by the token-price adapters: one row shape, one price check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from index import canonical
from sources.base import RawResponse, as_float


def price(raw: Any, field: str, factor: float) -> tuple[float | None, str | None]:
    """USD per million tokens from a raw value in the source's unit (``factor`` converts it),
    and the reason when it is not a price: absent -> (None, None); 0 means not offered or free,
    never a price of zero; a negative or non-numeric value is a bad record."""
    if raw is None:
        return None, None
    value = as_float(raw)
    if value is None:
        return None, f"{field} is not a number: {raw!r}"
    if value == 0:
        return None, f"{field} is 0 (free tier or not offered): not a price"
    if value < 0:
        return None, f"{field} is negative ({raw}): not a price"
    return round(value * factor, 10), None


def token_row(*, source: str, provider: str, model_key: str, source_model_id: str, observed_at: datetime,
              resp: RawResponse, inp: float | None = None, out: float | None = None, cached: float | None = None,
              context: Any = None, quantization: str | None = None, currency: str = "USD",
              reasons: list[str | None] | None = None, context_tier: int | None = None) -> dict[str, Any]:
    """A TOKEN_PRICE_SCHEMA row; ``model_key`` goes through canonical.token_model."""
    model = canonical.token_model(model_key)
    ctx = as_float(context)
    why = [r for r in (reasons or []) if r]
    if inp is None and out is None and not why:
        why.append("no input or output price")
    return {
        "observed_at": observed_at,
        "source": source,
        "provider": provider,
        "model": model,
        "model_family": canonical.model_family(model) if model else None,
        "source_model_id": source_model_id,
        "usd_per_mtok_input": inp,
        "usd_per_mtok_output": out,
        "usd_per_mtok_cached_input": cached,
        "context_window": int(ctx) if ctx and ctx > 0 else None,
        "context_tier": context_tier,
        "quantization": quantization.lower() if quantization else None,
        "currency": currency,
        "raw_sha256": resp.sha256,
        "quarantine_reason": "; ".join(why) or None,
    }
