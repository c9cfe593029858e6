"""Vultr plan listings (Cloud GPU and bare metal), in the real envelope with cursor meta."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

import httpx

from index.replay import RecordedResponse
from sources.vultr import API, LISTINGS, listing_params

SOURCE = "vultr"
EVERY_HOURS = 24

VCG = [  # id, vcpus, ram MB, disk GB, monthly, hourly, gpu_type, vram, locations
    ("vcg-a100-1c-6g-4vram", 1, 6144, 70, 90, 0.123, "NVIDIA_A100", 4, ["ewr"]),
    ("vcg-a100-3c-30g-20vram", 3, 30720, 350, 438, 0.6, "NVIDIA_A100", 20, ["ewr", "sjc"]),
    ("vcg-a100-12c-120g-80vram", 12, 122880, 1400, 1750, 2.397, "NVIDIA_A100", 80, ["ewr", "sjc", "fra"]),
    ("vcg-l40s-16c-180g-48vram", 16, 184320, 1200, 1219, 1.671, "NVIDIA_L40S", 48, ["ewr", "lax", "ams"]),
    ("vcg-l40s-32c-375g-96vram", 32, 384000, 2200, 2438, 3.342, "NVIDIA_L40S", 96, ["ewr", "lax"]),
    ("vcg-a40-6c-60g-24vram", 6, 61440, 1200, 438, 0.6, "NVIDIA_A40", 24, ["ord"]),
    ("vcg-a16-6c-64g-16vram", 6, 65536, 350, 343, 0.47, "NVIDIA_A16", 16, ["ewr", "fra", "nrt"]),
]
METAL = [  # id, cpus, model, ram MB, disk, disk count, hourly, preemptible hourly, locations
    ("vbm-112c-2048gb-8-h100-gpu", 112, "Platinum 8480+", 2097152, 960, 2, 23.92, 18.4, ["sea", "ewr", "lax"]),
    ("vbm-256c-2048gb-8-mi300x-gpu", 128, "EPYC 9534", 2321924, 3576, 8, 17.52, 14.72, ["ord"]),
    ("vbm-256c-2048gb-8-mi325x-gpu", 128, "EPYC 9534", 2321924, 3576, 8, 19.92, None, ["ord", "atl"]),
    ("vbm-128c-3072gb-8-b200-gpu", 128, "Platinum 8570", 3145728, 3840, 8, 43.92, None, ["ewr"]),
    ("vbm-24c-256gb-amd", 24, "EPYC 7443P", 262144, 480, 2, 0.268, None, ["ewr", "ord"]),
]


def _vcg(p: tuple) -> dict[str, Any]:
    pid, vcpu, ram, disk, monthly, hourly, gpu, vram, locs = p
    return {"id": pid, "vcpu_count": vcpu, "ram": ram, "disk": disk, "disk_count": 1, "bandwidth": 10240,
            "monthly_cost": monthly, "hourly_cost": hourly, "type": "vcg", "locations": locs,
            "gpu_vram_gb": vram, "gpu_type": gpu}


def _metal(p: tuple) -> dict[str, Any]:
    pid, cpus, model, ram, disk, ndisk, hourly, pre, locs = p
    out: dict[str, Any] = {"id": pid, "physical_cpus": 2, "cpu_count": cpus, "cpu_cores": cpus, "cpu_threads": cpus * 2,
                           "cpu_model": model, "cpu_mhz": 2000, "ram": ram, "disk": disk, "disk_count": ndisk,
                           "bandwidth": 15360, "monthly_cost": round(hourly * 672, 2), "hourly_cost": hourly,
                           "type": "NVMe", "locations": locs}
    if pre is not None:
        out["monthly_cost_preemptible"] = round(pre * 672, 2)
        out["hourly_cost_preemptible"] = pre
    return out


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    out = []
    for path, key, params in LISTINGS:
        plans = [_vcg(p) for p in VCG] if key == "plans" else [_metal(p) for p in METAL]
        body = {key: plans, "meta": {"total": len(plans), "links": {"next": "", "prev": ""}}}
        url = str(httpx.URL(API + path, params=listing_params(params, None)))
        out.append(RecordedResponse(SOURCE, "GET", url, 200, {"content-type": "application/json"},
                                    json.dumps(body, separators=(",", ":")).encode(), meta={"listing": key}))
    return out
