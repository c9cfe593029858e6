"""Azure Retail Prices API: GPU virtual machines (ND H100 v5, ND H200 v5, NC H100 v5, A100 v4...).

API: ``GET https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&$filter=...``,
public, no key. One query per VM size (``ARM_SKUS``):
``serviceName eq 'Virtual Machines' and armSkuName eq '<size>'``. Answers are pages of up to
1000 ``Items`` in an envelope ``{BillingCurrency, CustomerEntityId, CustomerEntityType, Items,
NextPageLink, Count}``; ``NextPageLink`` (an absolute URL, null on the last page) is followed
as given.

What becomes a row (venue ``azure``, a hyperscaler; one row per region and price):

- ``type: Consumption``, ``skuName`` ending ``Spot`` -> ``spot``; other Consumption rows ->
  ``on_demand``. ``retailPrice`` is USD per VM-hour ("1 Hour").
- ``type: Reservation`` -> ``reserved_1y`` / ``reserved_3y`` by ``reservationTerm``. For
  reservations ``retailPrice`` is the price of the WHOLE term (``unitOfMeasure`` still says
  "1 Hour"), so the hourly price is ``retailPrice / (8760 h x years)`` (Azure bills 730 h a
  month). A term other than 1 or 3 years is kept with class ``reserved_<n>y`` and quarantined.
- Dropped as not our product: Windows meters (``productName`` ending ``Windows`` or ``Win``,
  which share meter and SKU names with Linux), legacy ``Low Priority`` meters (replaced by
  Spot) and ``DevTestConsumption`` (Dev/Test subscriptions only).

Per-GPU price = VM price / GPUs in the size (``[instances]`` in data/gpu_models.toml); a size
not listed there stays ``unknown:<armSkuName>`` and is quarantined for want of a GPU count.
List prices: tier T3.
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
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list, time_problem

URL = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"  # pages of 1000 items (100 without it)
ARM_SKUS = (
    "Standard_ND96isr_H100_v5",
    "Standard_ND96isr_H200_v5",
    "Standard_NC40ads_H100_v5",
    "Standard_NC80adis_H100_v5",
    "Standard_NCC40ads_H100_v5",
    "Standard_ND96asr_v4",
    "Standard_ND96amsr_A100_v4",
    "Standard_NC24ads_A100_v4",
    "Standard_NC48ads_A100_v4",
    "Standard_NC96ads_A100_v4",
    "Standard_ND96isr_MI300X_v5",
)
MAX_PAGES = 50  # per size; a real size has a handful of pages at most
HOURS_PER_YEAR = 8760
REQUIRED = ("armSkuName", "retailPrice", "type", "armRegionName")
WINDOWS = re.compile(r"\bWin(dows)?$", re.IGNORECASE)
HOURS_UNIT = re.compile(r"^\s*(\d+)\s*Hours?\s*$", re.IGNORECASE)
TERM = re.compile(r"^\s*(\d+)\s*Years?\s*$", re.IGNORECASE)


def odata_filter(arm_sku: str) -> str:
    return f"serviceName eq 'Virtual Machines' and armSkuName eq '{arm_sku}'"


def first_page_params(arm_sku: str) -> dict[str, str]:
    return {"api-version": API_VERSION, "$filter": odata_filter(arm_sku)}


def first_page_url(arm_sku: str) -> str:
    """The first page's URL exactly as fetch requests it (used by the replay generator)."""
    return str(httpx.URL(URL, params=first_page_params(arm_sku)))


def _skip_reason(item: dict[str, Any]) -> str | None:
    """Why an item is not a quote we index (None: keep it)."""
    if WINDOWS.search(str(item.get("productName") or "").strip()):
        return "windows"
    names = f"{item.get('meterName') or ''} {item.get('skuName') or ''}"
    if "low priority" in names.lower():
        return "low priority"
    if item.get("type") == "DevTestConsumption":
        return "dev/test"
    return None


class Azure(Source):
    name = "azure"
    kind = "gpu"
    description = "Azure Retail Prices API: GPU VM sizes, on-demand, spot and 1y/3y reservations (Linux)"
    venues = ("azure",)
    parser_checked = "2026-06-01"  # shared fixture: retail prices response, effectiveStartDate 2026-06-01
    timeout_s = 120.0  # a dozen sizes, each one to a few pages

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out: list[RawResponse] = []
        for sku in ARM_SKUS:
            resp = await request(client, self.name, "GET", URL, params=first_page_params(sku),
                                 meta={"arm_sku": sku, "page": "1"})
            out.append(resp)
            for page in range(2, MAX_PAGES + 2):
                payload = resp.json()
                nxt = payload.get("NextPageLink") if isinstance(payload, dict) else None
                if not nxt:
                    break
                if page > MAX_PAGES:
                    raise SourceError(self.name, f"more than {MAX_PAGES} pages for {sku}: NextPageLink loops?",
                                      field="NextPageLink", url=resp.url)
                if not isinstance(nxt, str) or not nxt.startswith("https://"):
                    raise SourceError(self.name, f"NextPageLink is not an https URL: {str(nxt)[:80]!r}",
                                      field="NextPageLink", url=resp.url)
                resp = await request(client, self.name, "GET", nxt, meta={"arm_sku": sku, "page": str(page)})
                out.append(resp)
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            items = require_list(self.name, payload, "Items", resp.url)
            require_field_somewhere(self.name, items, REQUIRED, resp.url)
            billing = payload.get("BillingCurrency") if isinstance(payload, dict) else None
            for item in items:
                if not isinstance(item, dict):
                    raise SourceError(self.name, f"item is {type(item).__name__}, not an object", field="Items[]",
                                      url=resp.url)
                if _skip_reason(item):
                    continue
                rows.append(self._row(item, billing, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _row(self, item: dict[str, Any], billing: Any, resp: RawResponse, observed_at: datetime) -> dict[str, Any]:
        problems: list[str] = []
        for fname in REQUIRED:
            if item.get(fname) is None:
                problems.append(f"missing field {fname}")
        sku = str(item.get("armSkuName") or "")
        inst = canonical.instance_type(sku) if sku else None
        price = as_float(item.get("retailPrice"))
        if item.get("retailPrice") is not None and price is None:
            problems.append(f"retailPrice is not a number: {item.get('retailPrice')!r}")
        kind = item.get("type")
        term = str(item.get("reservationTerm") or "")
        hourly: float | None = None
        if kind == "Reservation":
            m = TERM.match(term)
            years = int(m.group(1)) if m else None
            pclass = f"reserved_{years}y" if years else "reserved_?"
            if not years:
                problems.append(f"reservationTerm not understood: {term!r}")
            elif price is not None:
                hourly = price / (HOURS_PER_YEAR * years)
        elif kind == "Consumption":
            names = f"{item.get('meterName') or ''} {item.get('skuName') or ''}"
            pclass = "spot" if re.search(r"\bSpot\b", names) else "on_demand"
            unit = HOURS_UNIT.match(str(item.get("unitOfMeasure") or "1 Hour"))
            if not unit:
                problems.append(f"unitOfMeasure is not hourly: {item.get('unitOfMeasure')!r}")
            elif price is not None:
                hourly = price / int(unit.group(1))
        else:
            pclass = str(kind)
            problems.append(f"price type not understood: {kind!r}")
        if price == 0:
            problems.append("retailPrice is 0: not offered, not free")
            hourly = None
        if future := time_problem(item.get("effectiveStartDate"), observed_at, "effectiveStartDate", None,
                                  "not yet the price in effect"):
            problems.append(future)
        count = inst.gpu_count if inst else None
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": "azure",
            "venue_class": canonical.venue_class("azure", "hyperscaler"),
            "offer_id": f"{item.get('armRegionName')}:{sku}:{item.get('meterId')}:{kind}:{term}".rstrip(":"),
            "gpu_model": inst.gpu_model if inst else f"{canonical.UNKNOWN_PREFIX}{sku}",
            "gpu_count": count,
            "price_usd_per_hour": hourly,
            "price_usd_per_gpu_hour": hourly / count if hourly is not None and count else None,
            "pricing_class": pclass,
            "region": item.get("armRegionName"),
            "available_units": None,
            "tier": "T3",
            "price_basis": "compute",
            "currency": item.get("currencyCode") or billing,
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }


SOURCE = Azure()
