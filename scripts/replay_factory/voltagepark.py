"""Voltage Park bare-metal locations: stable published prices, free-GPU counts that move."""

from __future__ import annotations

import json
import random
from datetime import datetime

from index.replay import RecordedResponse
from sources.voltagepark import URL

SOURCE = "voltagepark"
EVERY_HOURS = 1

LOCATIONS = [
    ("a3111bd4-550a-47d0-838a-0a52bff2ae3f", "1.99", "2.49"),
    ("5c0e7f2a-9d4b-4f3e-8a61-2b7d90c4e1f8", "1.99", "2.49"),
    ("e81b2c47-3f60-4c2d-b9a5-7d1e0f6a3c92", "2.09", None),
]


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    results = []
    for loc_id, eth, ib in LOCATIONS:
        results.append({
            "id": loc_id,
            "gpu_count_ethernet": rng.choice([0, 0, 8, 16, 24]),
            "gpu_price_ethernet": eth,
            "gpu_count_infiniband": rng.choice([0, 0, 0, 8, 32]) if ib else 0,
            "gpu_price_infiniband": ib,
            "reserved_gpu_count_infiniband_cluster_one": None,
            "reserved_gpu_count_infiniband_cluster_two": None,
            "specs_per_node": {"gpu_model": "h100-sxm5-80gb", "gpu_count": 8, "cpu_model": "Intel Xeon Platinum 8470",
                               "cpu_count": 104, "ram_gb": 1024, "storage_gb": 18000},
        })
    body = {"results": results, "total_result_count": len(results), "has_previous": False, "has_next": False}
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"},
                             json.dumps(body, separators=(",", ":")).encode())]
