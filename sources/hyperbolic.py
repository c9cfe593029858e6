"""Hyperbolic on-demand GPU rental options (marketplace of supplier capacity).

API: ``GET https://api.hyperbolic.ai/v2/alpha/on-demand/rental-options``, anonymous, a bare
JSON list. One option is one rentable configuration: ``costPerHourCents`` is US cents for
the whole option (``gpuCount`` GPUs), so per-GPU USD = cents / 100 / gpuCount.
``gpuType`` (``h100``/``h200``) with ``gpuFormFactor`` (``sxm5``/``pcie``) names the board;
``totalAvailable`` is the stock when present (absent = unknown, not zero);
``enabled: false`` means not offered. ``providerCostPerHourCents`` is Hyperbolic's supplier
cost, not a price to the renter, and is ignored. The hourly price bundles the node's CPU,
RAM and disk as quoted, hence price basis ``bundled``.
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
from sources._gpu_common import resolve_gpu
from sources.base import RawResponse, Source, as_float, number_repeats, request, require_field_somewhere, require_list

VENUE = "hyperbolic"
URL = "https://api.hyperbolic.ai/v2/alpha/on-demand/rental-options"
REQUIRED = ("costPerHourCents", "gpuCount", "gpuType")
FORM_FACTORS = {"sxm": "SXM", "sxm4": "SXM", "sxm5": "SXM", "sxm6": "SXM", "pcie": "PCIe", "nvl": "NVL"}


def _offer_id(o: dict[str, Any], i: int) -> str:
    parts = [o.get("region"), o.get("gpuType"), o.get("gpuFormFactor"), o.get("gpuCount"), o.get("machineType"),
             o.get("connectionType"), o.get("ethernetVariant")]
    return ":".join(str(p) for p in parts if p is not None) or f"option-{i}"


class Hyperbolic(Source):
    name = "hyperbolic"
    kind = "gpu"
    description = "Hyperbolic on-demand rental options (anonymous API): per-option cents per hour"
    venues = ("hyperbolic",)
    parser_checked = "2026-08-29"

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        return [await request(client, self.name, "GET", URL, headers={"accept": "application/json"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            options = require_list(self.name, resp.json(), None, resp.url)
            require_field_somewhere(self.name, options, REQUIRED, resp.url)
            found = []
            for i, o in enumerate(options):
                if not isinstance(o, dict):
                    raise SourceError(self.name, f"option is {type(o).__name__}, not an object", field="[]",
                                      url=resp.url)
                found.append(self._row(o, _offer_id(o, i), resp, observed_at))
            rows.extend(number_repeats(found, "offer_id", "#"))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _row(self, o: dict[str, Any], oid: str, resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
        problems = [f"missing field {f}" for f in REQUIRED if o.get(f) is None]
        cents = as_float(o.get("costPerHourCents"))
        count = as_float(o.get("gpuCount"))
        if o.get("costPerHourCents") is not None and cents is None:
            problems.append(f"costPerHourCents is not a number: {o.get('costPerHourCents')!r}")
        if o.get("gpuCount") is not None and (count is None or count != int(count)):
            problems.append(f"gpuCount is not a whole number: {o.get('gpuCount')!r}")
        if o.get("enabled") is False:
            problems.append("option disabled (enabled=false): not offered")
        gpu_type = str(o.get("gpuType") or "").upper()
        ff_raw = str(o.get("gpuFormFactor") or "")
        raw_name = f"{gpu_type} {ff_raw}".strip()
        model = resolve_gpu(gpu_type, FORM_FACTORS.get(ff_raw.lower()), raw=raw_name)
        price = cents / 100 if cents is not None else None
        per_gpu = price / count if price is not None and count else None
        avail = as_float(o.get("totalAvailable"))
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": VENUE,
            "venue_class": canonical.venue_class(VENUE, "marketplace"),
            "offer_id": oid,
            "gpu_model": model,
            "gpu_count": int(count) if count is not None and count == int(count) else None,
            "price_usd_per_hour": price,
            "price_usd_per_gpu_hour": per_gpu,
            "pricing_class": "on_demand",
            "region": o.get("region"),
            "available_units": int(avail) if avail is not None else None,
            "tier": "T2",
            "price_basis": "bundled",
            "currency": "USD",
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }


SOURCE = Hyperbolic()
