"""Vultr plan catalog: Cloud GPU (``vcg``) and bare-metal GPU plans (neocloud list prices).

API (public, no key): ``GET https://api.vultr.com/v2/plans?type=vcg&per_page=500`` and
``GET https://api.vultr.com/v2/plans-metal?per_page=500``; cursor pagination through
``meta.links.next`` (empty string on the last page), passed back as ``cursor=``.
``hourly_cost`` is USD per INSTANCE-hour; bare-metal plans also carry
``hourly_cost_preemptible`` (an interruptible price: a ``spot`` row). ``locations`` lists
the regions where the plan is sold: one row per plan and region (an empty list means sold
nowhere now: one row with ``available_units = 0``).

GPU identity: ``vcg`` plans give ``gpu_type`` (``NVIDIA_A100``) and ``gpu_vram_gb``; a plan
with less VRAM than one whole board is a fractional vGPU slice, not a GPU-hour, and is
quarantined with that reason. Bare-metal plans encode the GPU only in the id
(``vbm-112c-2048gb-8-h100-gpu``: 8 x H100); the ids we know are listed as instance types in
data/gpu_models.toml (Vultr's 8-GPU bare metal is HGX, i.e. SXM), other ids keep the GPU
name as written, ``unknown:`` when it is ambiguous.
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
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources._gpu_common import resolve_gpu
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

VENUE = "vultr"
API = "https://api.vultr.com/v2"
PER_PAGE = 500
MAX_PAGES = 20
# What each listing is: (path, list key, query params without the cursor).
LISTINGS = (("/plans", "plans", {"type": "vcg", "per_page": PER_PAGE}),
            ("/plans-metal", "plans_metal", {"per_page": PER_PAGE}))
# Memory of one whole board per Vultr gpu_type family (GB), to tell a whole GPU from a vGPU slice.
BOARD_MEMORY_GB = {"A100": 80, "H100": 80, "L40S": 48, "A40": 48, "A16": 16, "GH200": 96, "MI300X": 192,
                   "MI325X": 256, "B200": 180}
METAL_ID = re.compile(r"-(?:(\d+)-)?([a-z0-9]+)-gpu$")


def listing_params(params: dict[str, Any], cursor: str | None) -> dict[str, Any]:
    return {**params, "cursor": cursor} if cursor else dict(params)


def _next_cursor(payload: Any) -> str | None:
    meta = payload.get("meta") if isinstance(payload, dict) else None
    links = meta.get("links") if isinstance(meta, dict) else None
    nxt = links.get("next") if isinstance(links, dict) else None
    return nxt if isinstance(nxt, str) and nxt else None


class Vultr(Source):
    name = "vultr"
    kind = "gpu"
    description = "Vultr plan catalog (public API): Cloud GPU and bare-metal GPU plans, on-demand and preemptible"
    venues = (VENUE,)
    parser_checked = "2026-08-19"

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out = []
        for path, key, params in LISTINGS:
            cursor = None
            for _ in range(MAX_PAGES):
                resp = await request(client, self.name, "GET", API + path, params=listing_params(params, cursor),
                                     meta={"listing": key})
                out.append(resp)
                try:
                    cursor = _next_cursor(resp.json())
                except SourceError:
                    cursor = None  # parse reports the bad body
                if not cursor:
                    break
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            key = resp.meta.get("listing") or ("plans_metal" if "/plans-metal" in resp.url else "plans")
            plans = require_list(self.name, payload, key, resp.url)
            require_field_somewhere(self.name, plans, ("id", "hourly_cost", "locations"), resp.url)
            for p in plans:
                if not isinstance(p, dict):
                    raise SourceError(self.name, f"plan is {type(p).__name__}, not an object", field=f"{key}[]",
                                      url=resp.url)
                rows.extend(self._metal_rows(p, resp, observed_at) if key == "plans_metal"
                            else self._vcg_rows(p, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _vcg_rows(self, p: dict[str, Any], resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        if p.get("type") not in (None, "vcg") or not p.get("gpu_type"):
            return []  # a CPU plan: not a GPU quote
        gpu_type = str(p["gpu_type"])
        family = gpu_type.split("_", 1)[1] if "_" in gpu_type else gpu_type
        vram = as_float(p.get("gpu_vram_gb"))
        board = BOARD_MEMORY_GB.get(family.upper())
        problems = []
        count: int | None = None
        if vram is None or board is None:
            problems.append(f"cannot tell whole GPUs: gpu_vram_gb={p.get('gpu_vram_gb')!r}, board memory of "
                            f"{gpu_type} unknown")
        elif vram < board:
            problems.append(f"fractional vGPU ({vram:g} GB of a {board} GB board): not a whole GPU-hour")
        elif vram % board:
            problems.append(f"gpu_vram_gb {vram:g} is not a whole number of {board} GB boards")
        else:
            count = int(vram // board)
        model = resolve_gpu(family, None, raw=gpu_type)
        return self._located(p, model, count, problems, resp, observed_at, spot=False)

    def _metal_rows(self, p: dict[str, Any], resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        pid = str(p.get("id") or "")
        inst = canonical.instance_type(pid)
        problems: list[str] = []
        if inst is not None:
            model, count = inst.gpu_model, inst.gpu_count
        else:
            m = METAL_ID.search(pid)
            if not m:
                return []  # a CPU bare-metal plan
            count = int(m.group(1)) if m.group(1) else 1
            model = resolve_gpu(m.group(2).upper(), None, raw=pid)
        return self._located(p, model, count, problems, resp, observed_at, spot=True)

    def _located(self, p: dict[str, Any], model: str, count: int | None, problems: list[str], resp: RawResponse,
                 observed_at: datetime, spot: bool) -> list[dict[str, Any]]:
        locations = p.get("locations")
        if not isinstance(locations, list):
            problems = [*problems, f"locations is not a list: {locations!r}"]
            locations = []
        prices = [("on_demand", "hourly_cost")]
        if spot and p.get("hourly_cost_preemptible") is not None:
            prices.append(("spot", "hourly_cost_preemptible"))
        out = []
        for pricing_class, field in prices:
            price = as_float(p.get(field))
            row_problems = list(problems)
            if p.get(field) is not None and price is None:
                row_problems.append(f"{field} is not a number: {p.get(field)!r}")
            for region in locations or [None]:
                out.append({
                    "observed_at": observed_at,
                    "source": self.name,
                    "venue": VENUE,
                    "venue_class": canonical.venue_class(VENUE, "neocloud"),
                    "offer_id": f"{p.get('id')}:{region or '-'}" + (":preemptible" if pricing_class == "spot" else ""),
                    "gpu_model": model,
                    "gpu_count": count,
                    "price_usd_per_hour": price,
                    "price_usd_per_gpu_hour": price / count if price is not None and count else None,
                    "pricing_class": pricing_class,
                    "region": region,
                    "available_units": None if region else 0,
                    "tier": "T3",
                    "price_basis": "bundled",
                    "currency": "USD",
                    "raw_sha256": resp.sha256,
                    "quarantine_reason": "; ".join(row_problems) or None,
                })
        return out


SOURCE = Vultr()
