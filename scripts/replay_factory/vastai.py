"""Vast.ai bundles responses: a stable population of hosts whose asks drift hour to hour."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

import httpx

from index.replay import RecordedResponse
from sources.vastai import GPU_NAMES, URL, query

SOURCE = "vastai"
EVERY_HOURS = 1

# gpu_name -> (per-GPU compute ask range in USD, gpu_ram MB, hosts listed)
MARKET: dict[str, tuple[float, float, int, int]] = {
    "H100 SXM": (1.45, 2.45, 81559, 14),
    "H100 PCIE": (1.20, 2.05, 81559, 8),
    "H100 NVL": (1.55, 2.30, 95830, 6),
    "H200": (2.15, 3.40, 143771, 9),
    "H200 NVL": (2.40, 3.50, 143771, 5),
    "B200": (3.30, 5.10, 183359, 6),
    "A100 SXM4": (0.75, 1.35, 81920, 10),
    "A100 PCIE": (0.65, 1.15, 81920, 6),
    "RTX PRO 6000 S": (0.95, 1.45, 97887, 6),
    "L40S": (0.50, 0.85, 46068, 6),
}
GEOS = ["California, US", "Texas, US", ", US", "Quebec, CA", "Norway, NO", "Japan, JP", "Taiwan, TW",
        "Czechia, CZ", "New Jersey, US", "Washington, US", "Finland, FI", "Sweden, SE"]


def _hosts(gpu_name: str) -> list[dict[str, Any]]:
    lo, hi, ram, n = MARKET[gpu_name]
    rng = random.Random(f"vast-hosts:{gpu_name}")
    hosts = []
    for i in range(n):
        num = rng.choice([1, 1, 1, 2, 4, 8, 8])
        hosts.append({"machine_id": 100_000 + rng.randrange(60_000), "host_id": 400_000 + rng.randrange(300_000),
                      "id": 40_000_000 + rng.randrange(9_000_000) + i, "num_gpus": num,
                      "ask": round(rng.uniform(lo, hi), 4), "geo": rng.choice(GEOS), "ram": ram,
                      "verification": rng.choice(["verified", "verified", "unverified"]),
                      "reliability": round(rng.uniform(0.9, 0.999), 5)})
    return hosts


def _offer(h: dict[str, Any], gpu_name: str, rng: random.Random) -> dict[str, Any]:
    per_gpu = round(h["ask"] * rng.uniform(0.985, 1.015), 6)
    dph_base = per_gpu * h["num_gpus"]
    storage = round(rng.uniform(0.00005, 0.0004) * h["num_gpus"], 8)
    total = dph_base + storage
    return {
        "id": h["id"], "ask_contract_id": h["id"], "bundle_id": h["id"] * 41 % 2_147_483_647,
        "bundled_results": None, "compute_cap": 900 if "H" in gpu_name else 800,
        "cpu_arch": "amd64", "cpu_cores": 26 * h["num_gpus"], "cpu_cores_effective": 26.0 * h["num_gpus"],
        "cpu_name": "Xeon® Platinum 8480+", "cpu_ram": 226489 * h["num_gpus"], "disk_space": 1799.1,
        "dph_base": dph_base, "dph_total": total, "driver_version": "580.105.08",
        "geolocation": h["geo"], "gpu_arch": "nvidia", "gpu_frac": 1.0,
        "gpu_name": gpu_name, "gpu_ram": h["ram"], "gpu_total_ram": h["ram"] * h["num_gpus"],
        "host_id": h["host_id"], "inet_down": round(rng.uniform(800, 9000), 1),
        "inet_up": round(rng.uniform(500, 8000), 1),
        "is_bid": False, "machine_id": h["machine_id"],
        "min_bid": round(dph_base * rng.uniform(0.35, 0.7), 6), "num_gpus": h["num_gpus"],
        "reliability": h["reliability"], "rentable": True, "rented": False,
        "storage_cost": 0.15, "storage_total_cost": storage, "verification": h["verification"],
        "search": {"gpuCostPerHour": dph_base, "diskHour": storage, "slaPremiumPerHour": 0.0, "totalHour": total,
                   "discountTotalHour": 0, "discountedTotalPerHour": total},
        "resource_type": "gpu", "time_remaining": "", "rn": 1,
    }


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    out = []
    for gpu_name in GPU_NAMES:
        hosts = [h for h in _hosts(gpu_name) if rng.random() > 0.15]  # some hosts are rented out this hour
        offers = sorted((_offer(h, gpu_name, rng) for h in hosts), key=lambda o: o["dph_total"])
        body = json.dumps({"offers": offers}, ensure_ascii=False).encode()
        params = {"q": json.dumps(query(gpu_name))}
        url = str(httpx.URL(URL, params=params))
        out.append(RecordedResponse(SOURCE, "GET", url, 200, {"content-type": "application/json"}, body,
                                    meta={"gpu_name": gpu_name}))
    return out
