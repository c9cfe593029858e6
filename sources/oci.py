"""Oracle Cloud Infrastructure price list (cetools products API): GPU list prices.

API: ``GET https://apexapps.oracle.com/pls/apex/cetools/api/v1/products/?currencyCode=USD``,
public, no key, one response of ~600 items (~190 KB); only ``partNumber`` and
``currencyCode`` filter server-side, so the GPU rows are picked here. Shape: ``{lastUpdated,
items: [{partNumber, displayName, metricName, serviceCategory, currencyCodeLocalizations:
[{currencyCode, prices: [{model, value}]}]}]}``.

A row is an item whose ``metricName`` is ``GPU Per Hour`` and whose ``serviceCategory``
starts with ``Compute - GPU``, except the lookalikes that are not GPU compute in an OCI
region: ``NVIDIA AI Enterprise`` (a software licence billed per GPU), ``Cloud@Customer``
(on-premises), VMware (per node), Roving Edge (per day). The price (model
``PAY_AS_YOU_GO``) is USD per GPU-hour and the same in every region (``region`` is null).

The GPU is the text after ``GPU -`` in ``displayName`` (spacing varies: ``OCI- Compute``,
``Compute  - GPU - A10``). Where that name is only sold as one bare-metal shape, the shape
gives the canonical model and the GPU count (``H100`` -> ``BM.GPU.H100.8``: 8 x $10 = $80 per
instance-hour); otherwise ``gpu_count`` is 1 (the priced unit is one GPU) and the name is
looked up as a GPU alias. Oracle's generation codes (``E3``, ``E4``, ``X7``, ``Standard -
V2``, ``H100T``) are not guessed: they stay ``unknown:<name>``. No spot rows: OCI's
preemptible capacity is a fixed 50% discount that the price list does not publish.
Venue ``oci`` (hyperscaler); list prices, tier T3.
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
from sources.base import (
    CATALOG_MAX_AGE,
    RawResponse,
    Source,
    as_float,
    request,
    require_field_somewhere,
    require_list,
    time_problem,
    with_reason,
)

URL = "https://apexapps.oracle.com/pls/apex/cetools/api/v1/products/"
PARAMS = {"currencyCode": "USD"}
GPU_METRIC = "gpu per hour"
EXCLUDE = re.compile(r"AI Enterprise|Cloud@Customer|VMware|Roving Edge", re.IGNORECASE)
GPU_NAME = re.compile(r"GPU\s*[-.]\s*(?P<name>.+?)\s*$", re.IGNORECASE)
# GPU name in the price list -> the bare-metal shape it is sold as (data/gpu_models.toml [instances]).
SHAPES = {
    "H100": "BM.GPU.H100.8",
    "H200": "BM.GPU.H200.8",
    "B200": "BM.GPU.B200.8",
    "A100 - v2": "BM.GPU.A100-v2.8",
    "MI300X": "BM.GPU.MI300X.8",
    "L40S": "BM.GPU.L40S.4",
    "GB200": "BM.GPU.GB200.4",
}
REQUIRED = ("partNumber", "displayName", "metricName", "currencyCodeLocalizations")


def _gpu_name(display: str) -> str | None:
    m = GPU_NAME.search(re.sub(r"\s+", " ", display))
    return m.group("name").strip() if m else None


def _is_gpu_item(item: dict[str, Any]) -> bool:
    metric = str(item.get("metricName") or "").strip().lower()
    category = str(item.get("serviceCategory") or "").strip()
    display = str(item.get("displayName") or "")
    return (metric == GPU_METRIC and category.lower().startswith("compute - gpu")
            and not EXCLUDE.search(display) and not EXCLUDE.search(category))


def _price(item: dict[str, Any]) -> tuple[Any, str | None, str | None]:
    """(raw value, currency, problem) of the pay-as-you-go price, preferring USD."""
    locs = item.get("currencyCodeLocalizations")
    if not isinstance(locs, list) or not locs:
        return None, None, "currencyCodeLocalizations missing or empty"
    loc = next((c for c in locs if isinstance(c, dict) and c.get("currencyCode") == "USD"), locs[0])
    if not isinstance(loc, dict):
        return None, None, "currencyCodeLocalizations[] is not an object"
    prices = loc.get("prices")
    if not isinstance(prices, list):
        return None, loc.get("currencyCode"), "prices missing"
    payg = [p for p in prices if isinstance(p, dict) and p.get("model") == "PAY_AS_YOU_GO"]
    if not payg:
        return None, loc.get("currencyCode"), "no PAY_AS_YOU_GO price"
    return payg[0].get("value"), loc.get("currencyCode"), None


class Oci(Source):
    name = "oci"
    kind = "gpu"
    description = "Oracle Cloud price list (cetools products): GPU per-hour list prices"
    venues = ("oci",)
    parser_checked = "2026-08-22"

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        return [await request(client, self.name, "GET", URL, params=PARAMS, meta={"currency": "USD"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            items = require_list(self.name, payload, "items", resp.url)
            require_field_somewhere(self.name, items, REQUIRED, resp.url)
            stale = time_problem(payload.get("lastUpdated"), observed_at, "price list lastUpdated", CATALOG_MAX_AGE)
            for item in items:
                if not isinstance(item, dict):
                    raise SourceError(self.name, f"item is {type(item).__name__}, not an object", field="items[]",
                                      url=resp.url)
                if _is_gpu_item(item):
                    rows.extend(with_reason([self._row(item, resp, observed_at)], stale))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _row(self, item: dict[str, Any], resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
        display = str(item.get("displayName") or "")
        name = _gpu_name(display)
        value, currency, problem = _price(item)
        problems = [problem] if problem else []
        per_gpu = as_float(value)
        if value is not None and per_gpu is None:
            problems.append(f"price is not a number: {value!r}")
        if per_gpu == 0:
            problems.append("price is 0: not offered, not free")
            per_gpu = None
        shape = canonical.instance_type(SHAPES[name]) if name in SHAPES else None
        if shape:
            model, count = shape.gpu_model, shape.gpu_count
        else:
            model = canonical.gpu_model(name) if name else canonical.UNKNOWN_PREFIX
            if model.startswith(canonical.UNKNOWN_PREFIX):  # keep the whole display name: "E3" alone says nothing
                model = canonical.UNKNOWN_PREFIX + " ".join(display.split())
            count = 1
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": "oci",
            "venue_class": canonical.venue_class("oci", "hyperscaler"),
            "offer_id": f"{item.get('partNumber')}:{shape.name}" if shape else str(item.get("partNumber")),
            "gpu_model": model,
            "gpu_count": count,
            "price_usd_per_hour": per_gpu * count if per_gpu is not None else None,
            "price_usd_per_gpu_hour": per_gpu,
            "pricing_class": "on_demand",
            "region": None,
            "available_units": None,
            "tier": "T3",
            "price_basis": "compute",
            "currency": currency,
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }


SOURCE = Oci()
