"""Voltage Park bare-metal locations (neocloud, H100 SXM nodes).

API: ``GET https://cloud-api.voltagepark.com/api/v1/bare-metal/locations``, unauthenticated.
``results[]`` holds one row per location with ``specs_per_node`` (``gpu_model`` such as
``h100-sxm5-80gb``, ``gpu_count`` per node) and two published prices, decimal STRINGS in
USD per GPU-hour: ``gpu_price_ethernet`` and ``gpu_price_infiniband``. Both are on-demand
(the same nodes with two network fabrics), so each becomes an ``on_demand`` row; the
instance is one node (per-GPU price x GPUs per node). ``gpu_count_ethernet`` /
``gpu_count_infiniband`` are the GPUs free now (0 while the price stays published).
There is no currency field: the prices are the USD figures Voltage Park prints.

Pagination: the response says ``has_next``; one page holds every location today and the
page parameter is undocumented, so a ``has_next: true`` fails the source loudly rather
than under-reporting silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources._gpu_common import obj as _obj
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

VENUE = "voltagepark"
URL = "https://cloud-api.voltagepark.com/api/v1/bare-metal/locations"
NETWORKS = (("ethernet", "gpu_price_ethernet", "gpu_count_ethernet"),
            ("infiniband", "gpu_price_infiniband", "gpu_count_infiniband"))
REQUIRED = ("id", "specs_per_node")


class VoltagePark(Source):
    name = "voltagepark"
    kind = "gpu"
    description = "Voltage Park bare-metal locations: on-demand per-GPU prices, ethernet and InfiniBand"
    venues = (VENUE,)
    parser_checked = "2026-08-22"

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        return [await request(client, self.name, "GET", URL, headers={"accept": "application/json"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            results = require_list(self.name, payload, "results", resp.url)
            if payload.get("has_next"):
                raise SourceError(self.name, "has_next is true: more locations than one page; pagination is not "
                                  "documented, refusing to under-report", field="has_next", url=resp.url)
            require_field_somewhere(self.name, results, REQUIRED, resp.url)
            if results and all(not any(r.get(p) is not None for _, p, _ in NETWORKS) for r in results
                               if isinstance(r, dict)):
                raise SourceError(self.name, "no price field in any location: the API schema changed?",
                                  field="gpu_price_ethernet", url=resp.url)
            for loc in results:
                if not isinstance(loc, dict):
                    raise SourceError(self.name, f"location is {type(loc).__name__}, not an object",
                                      field="results[]", url=resp.url)
                rows.extend(self._rows(loc, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _rows(self, loc: dict[str, Any], resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        specs = _obj(loc.get("specs_per_node"))
        node_gpus = as_float(specs.get("gpu_count"))
        base_problems = []
        if not specs:
            base_problems.append("specs_per_node missing")
        if node_gpus is None or node_gpus <= 0 or node_gpus != int(node_gpus):
            base_problems.append(f"specs_per_node.gpu_count unusable: {specs.get('gpu_count')!r}")
        out = []
        for network, price_field, count_field in NETWORKS:
            if price_field not in loc:
                continue
            problems = list(base_problems)
            per_gpu = as_float(loc.get(price_field))
            if loc.get(price_field) is None:
                problems.append(f"{price_field} is null: not offered")
            elif per_gpu is None:
                problems.append(f"{price_field} is not a number: {loc.get(price_field)!r}")
            free = as_float(loc.get(count_field))
            n = int(node_gpus) if node_gpus and node_gpus == int(node_gpus) and node_gpus > 0 else None
            out.append({
                "observed_at": observed_at,
                "source": self.name,
                "venue": VENUE,
                "venue_class": canonical.venue_class(VENUE, "neocloud"),
                "offer_id": f"{loc.get('id')}:{network}",
                "gpu_model": canonical.gpu_model(specs.get("gpu_model")),
                "gpu_count": n,
                "price_usd_per_hour": per_gpu * n if per_gpu is not None and n else None,
                "price_usd_per_gpu_hour": per_gpu,
                "pricing_class": "on_demand",
                "region": None,  # the location id is an opaque UUID
                "available_units": int(free) if free is not None else None,
                "tier": "T2",
                "price_basis": "bundled",
                "currency": "USD",
                "raw_sha256": resp.sha256,
                "quarantine_reason": "; ".join(problems) or None,
            })
        return out


SOURCE = VoltagePark()
