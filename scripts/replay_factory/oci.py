"""Oracle cetools ``/products/?currencyCode=USD``: GPU per-hour list prices among unrelated items."""

from __future__ import annotations

import json
import random
from datetime import datetime

import httpx

from index.replay import RecordedResponse
from sources.oci import PARAMS, URL

SOURCE = "oci"
EVERY_HOURS = 24  # list prices

# (partNumber, displayName, metricName, serviceCategory, USD value)
ITEMS: list[tuple[str, str, str, str, float]] = [
    ("B88298", "Compute - Standard - E4 - OCPU", "OCPU Per Hour", "Compute - Virtual Machine", 0.025),
    ("B88517", "Compute - Bare Metal GPU Standard - X7", "GPU Per Hour", "Compute - GPU", 1.275),
    ("B92740", "Compute - GPU - E3", "GPU Per Hour", "Compute - GPU", 3.05),
    ("B95907", "Compute - GPU - A100 - v2", "GPU Per Hour", "Compute - GPU", 4.0),
    ("B95909", "Compute  - GPU - A10", "GPU Per Hour", "Compute - GPU", 2.0),
    ("B98415", "Oracle Cloud Infrastructure - Compute - GPU - H100", "GPU Per Hour", "Compute - GPU", 10.0),
    ("B108806", "Oracle Cloud VMware Solution - BM.GPU.A10.64 - Monthly Commit", "Node Per Hour",
     "Compute - VMware", 16.0),
    ("B109479", "Compute - GPU - L40S", "GPU Per Hour", "Compute - GPU", 3.5),
    ("B109485", "OCI - Compute - GPU - MI300X", "GPU Per Hour", "Compute - GPU", 6.0),
    ("B110519", "OCI - Compute - GPU - H200", "GPU Per Hour", "Compute - GPU", 10.0),
    ("B110965", "Oracle Compute Cloud@Customer - Compute - GPU.L40S", "GPU Per Hour", "Compute Cloud@Customer", 3.5),
    ("B110978", "OCI - Compute - GPU - B200", "GPU Per Hour", "Compute - GPU", 14.0),
    ("B110979", "OCI - Compute - GPU - GB200", "GPU Per Hour", "Compute - GPU", 16.0),
    ("B111824", "OCI - NVIDIA AI Enterprise - H100", "GPU Per Hour", "Compute - GPU", 2.5),
    ("B111830", "OCI - NVIDIA AI Enterprise - H200", "GPU Per Hour", "Compute - GPU", 2.5),
    ("B112237", "Oracle Cloud Infrastructure - Compute - GPU - B300", "GPU Per Hour", "Compute - GPU", 15.0),
    ("B112613", "OCI - Compute - GPU - RTX PRO 6000", "GPU Per Hour", "Compute - GPU", 4.5),
    ("B91962", "Object Storage - Storage", "Gigabyte Storage Capacity Per Month", "Storage - Object Storage", 0.0255),
]


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    items = [{"partNumber": part, "displayName": display, "metricName": metric, "serviceCategory": category,
              "currencyCodeLocalizations": [{"currencyCode": "USD", "prices": [{"model": "PAY_AS_YOU_GO",
                                                                                 "value": value}]}]}
             for part, display, metric, category, value in ITEMS]
    body = json.dumps({"lastUpdated": "2026-11-12T08:41:37.204Z", "items": items}, indent=1).encode()
    url = str(httpx.URL(URL, params=PARAMS))
    return [RecordedResponse(SOURCE, "GET", url, 200, {"content-type": "application/json"}, body,
                             meta={"currency": "USD"})]
