"""Azure Retail Prices pages for the GPU VM sizes: Linux and Windows, pay-as-you-go, Spot,
legacy Low Priority and 1/3-year reservations (term price), one page per size."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from sources.azure import ARM_SKUS, first_page_url

SOURCE = "azure"
EVERY_HOURS = 24  # list prices

# size: (product series, meter name, Linux USD per VM-hour in eastus, regions, has Low Priority meters)
H100_REGIONS = ("eastus", "eastus2", "southcentralus", "westus3", "westeurope", "swedencentral", "uksouth",
                "japaneast", "australiaeast")
A100_REGIONS = ("eastus", "eastus2", "southcentralus", "westus2", "westus3", "westeurope", "northeurope",
                "uksouth", "japaneast", "koreacentral", "centralindia")
SIZES: dict[str, tuple[str, str, float, tuple[str, ...], bool]] = {
    "Standard_ND96isr_H100_v5": ("NDSH100v5", "ND96isr H100 v5", 98.32, H100_REGIONS, False),
    "Standard_ND96isr_H200_v5": ("NDSH200v5", "ND96isr H200 v5", 101.92, ("eastus2", "southcentralus",
                                                                          "westus3", "swedencentral"), False),
    "Standard_NC40ads_H100_v5": ("NCadsH100v5", "NC40ads H100 v5", 6.98, H100_REGIONS, False),
    "Standard_NC80adis_H100_v5": ("NCadsH100v5", "NC80adis H100 v5", 13.96, H100_REGIONS, False),
    "Standard_NCC40ads_H100_v5": ("NCCadsH100v5", "NCC40ads H100 v5", 7.62, ("eastus2", "westeurope"), False),
    "Standard_ND96asr_v4": ("NDasrA100v4", "ND96asr A100 v4", 27.197, A100_REGIONS, True),
    "Standard_ND96amsr_A100_v4": ("NDamsrA100v4", "ND96amsr A100 v4", 32.77, A100_REGIONS, True),
    "Standard_NC24ads_A100_v4": ("NCadsA100v4", "NC24ads A100 v4", 3.673, A100_REGIONS, True),
    "Standard_NC48ads_A100_v4": ("NCadsA100v4", "NC48ads A100 v4", 7.346, A100_REGIONS, True),
    "Standard_NC96ads_A100_v4": ("NCadsA100v4", "NC96ads A100 v4", 14.692, A100_REGIONS, True),
    "Standard_ND96isr_MI300X_v5": ("NDisrMI300Xv5", "ND96isr MI300X v5", 48.0, ("eastus", "westus",
                                                                               "swedencentral"), False),
}
LOCATION = {"eastus": "US East", "eastus2": "US East 2", "southcentralus": "US South Central",
            "westus": "US West", "westus2": "US West 2", "westus3": "US West 3", "westeurope": "EU West",
            "northeurope": "EU North", "swedencentral": "SE Central", "uksouth": "UK South", "japaneast": "JA East",
            "australiaeast": "AU East", "koreacentral": "KR Central", "centralindia": "IN Central"}
REGION_FACTOR = {"eastus": 1.0, "eastus2": 1.0, "southcentralus": 1.0, "westus": 1.04, "westus2": 1.0,
                 "westus3": 1.0, "westeurope": 1.12, "northeurope": 1.08, "swedencentral": 1.06, "uksouth": 1.15,
                 "japaneast": 1.24, "australiaeast": 1.21, "koreacentral": 1.18, "centralindia": 1.1}
WINDOWS_UPLIFT_PER_VCPU = 0.046
SERVICE_ID = "DZH313Z7MMC8"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "azure:" + ":".join(parts)))


def _product_id(series: str, windows: bool) -> str:
    return "DZH318Z0" + hashlib.sha256(f"{series}:{windows}".encode()).hexdigest()[:4].upper()


def _vcpus(meter: str) -> int:
    return int("".join(ch for ch in meter.split()[0] if ch.isdigit()))


def _item(size: str, region: str, series: str, meter: str, price: float, kind: str, windows: bool,
          term: str | None = None, suffix: str = "") -> dict[str, Any]:
    product = f"Virtual Machines {series} Series" + (" Windows" if windows else "")
    name = meter + suffix
    pid = _product_id(series, windows)
    item: dict[str, Any] = {
        "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
        "armRegionName": region, "location": LOCATION[region],
        "effectiveStartDate": "2026-10-01T00:00:00Z" if kind == "Consumption" else "2026-07-01T00:00:00Z",
        "meterId": _id(size, region, name, str(windows)), "meterName": name, "productId": pid,
        "skuId": f"{pid}/{hashlib.sha256((size + suffix).encode()).hexdigest()[:4].upper()}",
        "productName": product, "skuName": name, "serviceName": "Virtual Machines", "serviceId": SERVICE_ID,
        "serviceFamily": "Compute", "unitOfMeasure": "1 Hour", "type": kind, "isPrimaryMeterRegion": True,
        "armSkuName": size,
    }
    if term:
        item["reservationTerm"] = term
    if kind == "Consumption" and not suffix and not windows:
        item["savingsPlan"] = [{"unitPrice": round(price * 0.41, 4), "retailPrice": round(price * 0.41, 4),
                                "term": "3 Years"},
                               {"unitPrice": round(price * 0.66, 4), "retailPrice": round(price * 0.66, 4),
                                "term": "1 Year"}]
    return item


def _items(size: str, rng: random.Random) -> list[dict[str, Any]]:
    series, meter, base, regions, low_priority = SIZES[size]
    win_uplift = WINDOWS_UPLIFT_PER_VCPU * _vcpus(meter)
    items = []
    for region in regions:
        payg = round(base * REGION_FACTOR[region], 4)
        spot = round(payg * rng.uniform(0.22, 0.42), 4)
        items.append(_item(size, region, series, meter, payg, "Consumption", False))
        items.append(_item(size, region, series, meter, spot, "Consumption", False, suffix=" Spot"))
        items.append(_item(size, region, series, meter, round(payg + win_uplift, 4), "Consumption", True))
        items.append(_item(size, region, series, meter, round(spot + win_uplift, 4), "Consumption", True,
                           suffix=" Spot"))
        if low_priority:
            items.append(_item(size, region, series, meter, round(payg * 0.2, 4), "Consumption", False,
                               suffix=" Low Priority"))
        items.append(_item(size, region, series, meter, round(payg * 0.6 * 8760, 2), "Reservation", False,
                           term="1 Year"))
        items.append(_item(size, region, series, meter, round(payg * 0.4 * 8760 * 3, 2), "Reservation", False,
                           term="3 Years"))
        if rng.random() < 0.3:
            items.append(_item(size, region, series, meter, payg, "DevTestConsumption", False))
    return items


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    out = []
    for size in ARM_SKUS:
        items = _items(size, rng)
        body = json.dumps({"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
                           "Items": items, "NextPageLink": None, "Count": len(items)}).encode()
        out.append(RecordedResponse(SOURCE, "GET", first_page_url(size), 200,
                                    {"content-type": "application/json; charset=utf-8"}, body,
                                    meta={"arm_sku": size, "page": "1"}))
    return out
