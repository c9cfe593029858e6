"""Vast.ai offer search (GPU marketplace).

API: ``GET https://console.vast.ai/api/v0/bundles/?q=<json>`` with a JSON query per GPU
model; no key needed (bursts get HTTP 429, so queries are spaced). Each offer is one
machine's ask: ``dph_base`` is the compute price per instance-hour, ``dph_total`` adds
the storage of the requested disk (``storage_total_cost``). We price compute only
(METHODOLOGY.md, priced unit), so per-GPU price = ``dph_base / num_gpus``. ``min_bid`` is
the interruptible floor per instance and becomes a ``spot`` row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

URL = "https://console.vast.ai/api/v0/bundles/"
# Vast's own gpu_name values for the models we index.
GPU_NAMES = ("H100 SXM", "H100 PCIE", "H100 NVL", "H200", "H200 NVL", "B200", "A100 SXM4", "A100 PCIE",
             "RTX PRO 6000 S", "L40S")
PAGE_LIMIT = 64
REQUIRED = ("id", "gpu_name", "num_gpus", "dph_base")


def query(gpu_name: str) -> dict[str, Any]:
    return {
        "gpu_name": {"eq": gpu_name},
        "rentable": {"eq": True},
        "type": "on-demand",
        "order": [["dph_total", "asc"]],
        "limit": PAGE_LIMIT,
    }


def _canonical_model(name: str | None, ram_mb: float | None) -> str:
    """Vast writes ``A100 SXM4`` for 40 and 80 GB boards; the RAM tells them apart."""
    if name and name.upper().startswith("A100") and ram_mb:
        size = "80GB" if ram_mb > 60_000 else "40GB"
        return canonical.gpu_model(f"{name} {size}")
    return canonical.gpu_model(name)


def _region(geo: Any) -> str | None:
    if not isinstance(geo, str) or not geo.strip():
        return None
    return geo.rsplit(",", 1)[-1].strip() or None


class VastAi(Source):
    name = "vastai"
    kind = "gpu"
    description = "Vast.ai marketplace offer search: on-demand asks and interruptible floors"
    venues = ("vastai",)
    parser_checked = "2026-08-22"

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out = []
        # Spacing between calls (Vast answers bursts with 429) is the framework's per-host limit.
        for gpu_name in GPU_NAMES:
            out.append(await request(client, self.name, "GET", URL, params={"q": json.dumps(query(gpu_name))},
                                     meta={"gpu_name": gpu_name}))
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            offers = require_list(self.name, resp.json(), "offers", resp.url)
            require_field_somewhere(self.name, offers, REQUIRED, resp.url)
            for o in offers:
                if not isinstance(o, dict):
                    raise SourceError(self.name, f"offer is {type(o).__name__}, not an object", field="offers[]",
                                      url=resp.url)
                rows.extend(self._rows(o, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _rows(self, o: dict[str, Any], resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        count = as_float(o.get("num_gpus"))
        base = as_float(o.get("dph_base"))
        bid = as_float(o.get("min_bid"))
        problems = []
        for fname in REQUIRED:
            if o.get(fname) is None:
                problems.append(f"missing field {fname}")
        if o.get("dph_base") is not None and base is None:
            problems.append(f"dph_base is not a number: {o.get('dph_base')!r}")
        available = int(count or 0) if o.get("rentable", True) and not o.get("rented", False) else 0
        common = {
            "observed_at": observed_at,
            "source": self.name,
            "venue": "vastai",
            "venue_class": "marketplace",
            "gpu_model": _canonical_model(o.get("gpu_name"), as_float(o.get("gpu_ram"))),
            "gpu_count": int(count) if count is not None and count == int(count) else None,
            "region": _region(o.get("geolocation")),
            "available_units": available,
            "tier": "T2",
            "price_basis": "compute",
            "currency": "USD",
            "raw_sha256": resp.sha256,
        }
        per_gpu = base / count if base is not None and count else None
        rows = [{**common, "offer_id": str(o.get("id")), "pricing_class": "on_demand", "price_usd_per_hour": base,
                 "price_usd_per_gpu_hour": per_gpu, "quarantine_reason": "; ".join(problems) or None}]
        if bid is not None and bid > 0 and not problems:
            rows.append({**common, "offer_id": f"{o.get('id')}:bid", "pricing_class": "spot",
                         "price_usd_per_hour": bid, "price_usd_per_gpu_hour": bid / count if count else None,
                         "quarantine_reason": None})
        return rows


SOURCE = VastAi()
