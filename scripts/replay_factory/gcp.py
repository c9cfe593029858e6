"""Cloud Billing Catalog SKUs of Compute Engine: GPU, core and RAM SKUs per region, over two pages."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

import httpx

from index.replay import RecordedResponse
from sources.gcp import URL, page_params

SOURCE = "gcp"
EVERY_HOURS = 24

REGIONS = {  # region -> (display name in descriptions, price multiplier)
    "us-central1": ("Iowa", 1.0), "us-east4": ("Virginia", 1.0), "us-east5": ("Columbus", 1.0),
    "europe-west4": ("Netherlands", 1.1), "asia-northeast1": ("Tokyo", 1.16),
}
# (resource description head, resource group, usage unit, on-demand USD, spot USD, regions)
RESOURCES: list[tuple[str, str, str, float, float, list[str]]] = [
    ("Nvidia H100 80GB GPU", "GPU", "h", 2.80, 1.20, ["us-central1", "us-east4", "us-east5", "europe-west4",
                                                       "asia-northeast1"]),
    ("A3 Instance Core", "CPU", "h", 0.0185, 0.0078, list(REGIONS)),
    ("A3 Instance Ram", "RAM", "GiBy.h", 0.00245, 0.00105, list(REGIONS)),
    ("Nvidia H100 80GB Plus GPU", "GPU", "h", 2.95, 1.28, ["us-central1", "us-east4", "europe-west4"]),
    ("A3Plus Instance Core", "CPU", "h", 0.0185, 0.0078, ["us-central1", "us-east4", "europe-west4"]),
    ("A3Plus Instance Ram", "RAM", "GiBy.h", 0.00245, 0.00105, ["us-central1", "us-east4", "europe-west4"]),
    ("Nvidia H200 141GB GPU", "GPU", "h", 3.45, 1.52, ["us-central1", "us-east5", "europe-west4"]),
    ("A3Ultra Instance Core", "CPU", "h", 0.0200, 0.0084, ["us-central1", "us-east5", "europe-west4"]),
    ("A3Ultra Instance Ram", "RAM", "GiBy.h", 0.00265, 0.00112, ["us-central1", "us-east5", "europe-west4"]),
    ("Nvidia B200 GPU", "GPU", "h", 5.40, 2.35, ["us-central1", "us-east4"]),
    ("A4 Instance Core", "CPU", "h", 0.0210, 0.0089, ["us-central1", "us-east4"]),
    ("A4 Instance Ram", "RAM", "GiBy.h", 0.0028, 0.00118, ["us-central1", "us-east4"]),
    ("Nvidia Tesla A100 80GB GPU", "GPU", "h", 2.35, 0.98, ["us-central1", "us-east4", "europe-west4"]),
    ("A2 Instance Core", "CPU", "h", 0.0318, 0.0125, ["us-central1", "us-east4", "europe-west4"]),
    ("A2 Instance Ram", "RAM", "GiBy.h", 0.00426, 0.00168, ["us-central1", "us-east4", "europe-west4"]),
    ("N2 Instance Core", "CPU", "h", 0.031611, 0.00765, list(REGIONS)),
    ("N2 Instance Ram", "RAM", "GiBy.h", 0.004237, 0.001025, list(REGIONS)),
]


def _sku_id(rng: random.Random) -> str:
    return "-".join("".join(rng.choice("0123456789ABCDEF") for _ in range(4)) for _ in range(3))


def _money(usd: float) -> dict[str, Any]:
    units = int(usd)
    return {"currencyCode": "USD", "units": str(units), "nanos": int(round((usd - units) * 1e9))}


def _sku(desc: str, group: str, usage: str, unit: str, usd: float, regions: list[str], sid: str) -> dict[str, Any]:
    unit_desc = "hour" if unit == "h" else "gibibyte hour"
    return {
        "name": f"services/6F81-5844-456A/skus/{sid}", "skuId": sid, "description": desc,
        "category": {"serviceDisplayName": "Compute Engine", "resourceFamily": "Compute", "resourceGroup": group,
                     "usageType": usage},
        "serviceRegions": regions,
        "pricingInfo": [{"summary": "", "pricingExpression": {
            "usageUnit": unit, "displayQuantity": 1,
            "tieredRates": [{"startUsageAmount": 0, "unitPrice": _money(usd)}],
            "usageUnitDescription": unit_desc, "baseUnit": "s" if unit == "h" else "By.s",
            "baseUnitDescription": "second" if unit == "h" else "byte second",
            "baseUnitConversionFactor": 3600 if unit == "h" else 3865470566400},
            "currencyConversionRate": 1, "effectiveTime": "2026-11-20T03:12:08.417Z"}],
        "serviceProviderName": "Google",
        "geoTaxonomy": {"type": "REGIONAL", "regions": regions},
    }


def _skus() -> list[dict[str, Any]]:
    rng = random.Random("gcp-sku-ids")  # SKU ids are stable
    out = []
    for head, group, unit, od, spot, regions in RESOURCES:
        for region in regions:
            place, mult = REGIONS[region]
            out.append(_sku(f"{head} running in {place}", group, "OnDemand", unit, round(od * mult, 6), [region],
                            _sku_id(rng)))
            out.append(_sku(f"Spot Preemptible {head} running in {place}", group, "Preemptible", unit,
                            round(spot * mult, 6), [region], _sku_id(rng)))
    out.append(_sku("Commitment v1: Nvidia H100 80GB GPU in Americas for 1 Year", "GPU", "Commit1Yr", "h", 1.96,
                    ["us-central1", "us-east4"], _sku_id(rng)))
    out.append(_sku("Nvidia H100 80GB GPU (DWS Defined Duration) running in Iowa", "GPU", "OnDemand", "h", 2.24,
                    ["us-central1"], _sku_id(rng)))
    return sorted(out, key=lambda s: s["skuId"])


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    skus = _skus()
    half = len(skus) // 2
    token = "CAES" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                             for _ in range(40))
    pages = [(None, skus[:half], token), (token, skus[half:], "")]
    out = []
    for req_token, page, nxt in pages:
        url = str(httpx.URL(URL, params=page_params(req_token, None)))
        out.append(RecordedResponse(SOURCE, "GET", url, 200, {"content-type": "application/json; charset=UTF-8"},
                                    json.dumps({"skus": page, "nextPageToken": nxt}, indent=2).encode()))
    return out
