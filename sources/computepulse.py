"""Compute Pulse listings (aggregator: one venue per provider it lists).

API (public, no key): ``GET https://compute-pulse.com/api/listings?gpu=<slug>&limit=200&offset=N&sort=price_asc``
(OpenAPI at https://compute-pulse.com/openapi.json). Envelope ``{data[], page{total, limit,
offset, next_offset}, meta{catalog_status, price_unit}, links}``; ``page.next_offset`` is
followed (null on the last page; it must advance, and at most ``MAX_PAGES`` pages per chip).

Each ``data[]`` row is the aggregator's observation of ANOTHER provider's price (a lead,
not a first-party print): venue = ``provider`` through data/venues.toml. Where that venue
has its own adapter, index.precedence keeps the first-party quote and these rows are the
fallback. ``price_per_gpu_hour`` is already per GPU (instance price = x ``gpu_count``).
``gpu_model`` (``H100``) with ``gpu_variant`` (``SXM``/``PCIe``/``NVL``) names the board; a
row without a variant keeps ``unknown:`` when the family name is ambiguous.
``billing_type``: on_demand, spot, reserved (term from ``min_duration_hours``), monthly
(= reserved_1m); ``custom`` and reserved rows without a standard term are quarantined.

Envelope pins: ``meta.price_unit`` must be "USD per GPU hour" and ``meta.catalog_status``
"live_or_cached" (the documented "seed_fallback" is canned bootstrap data, not an
observation): otherwise the source fails. A row whose ``links.gpu`` is not the queried
chip's page is quarantined. Non-USD rows carry ``currency`` + ``price_native``; the USD
figure is the aggregator's own FX conversion, so the row keeps the native price and code
and validation quarantines it (no rate of ours is recorded). Listing ids are reassigned on
the aggregator's hourly refresh; within one capture they are deduplicated across pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources._gpu_common import form_factor_hint, reserved_class, resolve_gpu, venue_fields
from sources._gpu_common import obj as _obj
from sources.base import (
    OBSERVATION_MAX_AGE,
    RawResponse,
    Source,
    as_float,
    request,
    require_field_somewhere,
    require_list,
    time_problem,
    with_reason,
)

URL = "https://compute-pulse.com/api/listings"
SLUGS = ("nvidia-h100", "nvidia-h200", "nvidia-b200", "nvidia-a100", "nvidia-l40s", "amd-mi300x")
LIMIT = 200
MAX_PAGES = 8
PRICE_UNIT = "USD per GPU hour"
LIVE_STATUS = "live_or_cached"
REQUIRED = ("id", "provider", "gpu_model", "gpu_count", "price_per_gpu_hour", "billing_type")


def page_params(slug: str, offset: int) -> dict[str, Any]:
    return {"gpu": slug, "limit": LIMIT, "offset": offset, "sort": "price_asc"}


def _next_offset(payload: Any, offset: int) -> int | None:
    page = payload.get("page") if isinstance(payload, dict) else None
    nxt = page.get("next_offset") if isinstance(page, dict) else None
    if isinstance(nxt, int) and not isinstance(nxt, bool) and nxt > offset:
        return nxt
    return None


def pricing_class(billing: Any, min_hours: Any) -> tuple[str | None, str | None]:
    """(pricing class, problem) for a billing_type and minimum duration."""
    if billing == "on_demand":
        return "on_demand", None
    if billing == "spot":
        return "spot", None
    if billing == "monthly":
        return "reserved_1m", None
    if billing == "reserved":
        cls = reserved_class(as_float(min_hours))
        if cls is None:
            return None, f"reserved listing without a standard term (min_duration_hours={min_hours!r})"
        return cls, None
    return None, f"billing_type {billing!r} is not an hourly price class"


class ComputePulse(Source):
    name = "computepulse"
    kind = "gpu"
    description = "Compute Pulse public listings API (aggregator): one venue per listed provider, fallback quotes"
    venues = ("coreweave", "crusoe", "nebius", "hyperstack", "digitalocean", "paperspace", "jarvislabs",
              "tensordock", "fluidstack", "genesiscloud", "scaleway", "ovhcloud", "latitude", "massedcompute",
              "hotaisle", "sesterce", "gmicloud", "together", "civo", "e2enetworks", "lium", "cudo", "denvr",
              "nscale", "ori", "thundercompute", "sfcompute", "cyfuture", "gcp", "vultr", "voltagepark",
              "hyperbolic", "vastai", "runpod", "lambda", "verda", "aws", "azure", "oci")
    parser_checked = "2026-08-22"

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out = []
        for slug in SLUGS:
            offset = 0
            for _ in range(MAX_PAGES):
                resp = await request(client, self.name, "GET", URL, params=page_params(slug, offset),
                                     headers={"accept": "application/json"}, meta={"gpu": slug})
                out.append(resp)
                try:
                    nxt = _next_offset(resp.json(), offset)
                except SourceError:
                    nxt = None  # parse reports the bad body
                if nxt is None:
                    break
                offset = nxt
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for resp in raw:
            payload = resp.json()
            listings = require_list(self.name, payload, "data", resp.url)
            meta = payload.get("meta")
            if not isinstance(meta, dict):
                raise SourceError(self.name, "missing or not an object", field="meta", url=resp.url)
            if meta.get("price_unit") != PRICE_UNIT:
                raise SourceError(self.name, f"is {meta.get('price_unit')!r}, expected {PRICE_UNIT!r}: refusing to "
                                  "read price_per_gpu_hour as USD per GPU-hour", field="meta.price_unit", url=resp.url)
            if meta.get("catalog_status") != LIVE_STATUS:
                raise SourceError(self.name, f"is {meta.get('catalog_status')!r}, not {LIVE_STATUS!r}: canned "
                                  "fallback data is not an observation", field="meta.catalog_status", url=resp.url)
            require_field_somewhere(self.name, listings, REQUIRED, resp.url)
            slug = resp.meta.get("gpu") or str(httpx.URL(resp.url).params.get("gpu") or "")
            for row in listings:
                if not isinstance(row, dict):
                    raise SourceError(self.name, f"listing is {type(row).__name__}, not an object", field="data[]",
                                      url=resp.url)
                key = (slug, str(row.get("id")))
                if row.get("id") is not None and key in seen:
                    # the same listing twice in one book (it moved between two page requests): first copy kept
                    rows.extend(with_reason([self._row(row, slug, resp, observed_at)],
                                            "duplicate: listing already read earlier in this book (first copy kept)"))
                    continue
                seen.add(key)
                rows.append(self._row(row, slug, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _row(self, r: dict[str, Any], slug: str, resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
        problems = [f"missing field {f}" for f in REQUIRED if r.get(f) is None]
        venue, vclass, vproblem = venue_fields(r.get("provider"))
        if vproblem and r.get("provider") is not None:
            problems.append(vproblem)
        links = _obj(r.get("links"))
        gpu_link = str(links.get("gpu") or "")
        if gpu_link and slug and not gpu_link.endswith(f"/gpu/{slug}"):
            problems.append(f"listing belongs to {gpu_link!r}, not the queried chip {slug!r}")
        count = as_float(r.get("gpu_count"))
        if r.get("gpu_count") is not None and (count is None or count <= 0 or count != int(count)):
            problems.append(f"gpu_count is not a positive whole number: {r.get('gpu_count')!r}")
            count = None
        cls, cls_problem = pricing_class(r.get("billing_type"), r.get("min_duration_hours"))
        if cls_problem and r.get("billing_type") is not None:
            problems.append(cls_problem)
        if when := time_problem(r.get("fetched_at"), observed_at, "listing fetched_at", OBSERVATION_MAX_AGE):
            problems.append(when)
        code = str(r.get("currency")).strip().upper() if r.get("currency") else "USD"
        if code == "USD":
            per_gpu = as_float(r.get("price_per_gpu_hour"))
            if r.get("price_per_gpu_hour") is not None and per_gpu is None:
                problems.append(f"price_per_gpu_hour is not a number: {r.get('price_per_gpu_hour')!r}")
        else:
            per_gpu = as_float(r.get("price_native"))  # the provider's own figure; validate quarantines non-USD
        family = str(r.get("gpu_model") or "").strip()
        variant = r.get("gpu_variant")
        raw_name = f"{family} {variant}".strip() if variant else family
        model = resolve_gpu(family, form_factor_hint(variant), as_float(r.get("vram_gb")), raw=raw_name)
        available = r.get("available")
        n = int(count) if count else None
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": venue,
            "venue_class": vclass,
            "offer_id": f"{slug}:{r.get('id')}",
            "gpu_model": model,
            "gpu_count": n,
            "price_usd_per_hour": per_gpu * n if per_gpu is not None and n else None,
            "price_usd_per_gpu_hour": per_gpu,
            "pricing_class": cls,
            "region": r.get("region") if r.get("region") not in (None, "", "unspecified") else None,
            "available_units": (n if available is True else 0 if available is False else None),
            "tier": "T3",
            "price_basis": "bundled",
            "currency": code,
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }


SOURCE = ComputePulse()
