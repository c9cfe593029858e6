"""Lambda Cloud ``/api/v1/instance-types``: list prices in cents per instance-hour, capacity by region."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from sources.lambdalabs import URL

SOURCE = "lambdalabs"
EVERY_HOURS = 1  # capacity comes and goes within the day

REGIONS = {"us-east-1": "Virginia, USA", "us-west-1": "California, USA", "us-south-1": "Texas, USA",
           "us-midwest-1": "Illinois, USA", "europe-central-1": "Germany", "asia-northeast-1": "Tokyo, Japan"}
# name: (gpu_description, gpus, cents per instance-hour, vcpus, memory GiB, storage GiB, chance of capacity)
TYPES: dict[str, tuple[str, int, int, int, int, int, float]] = {
    "gpu_1x_h100_sxm5": ("H100 (80 GB SXM5)", 1, 329, 26, 225, 2816, 0.5),
    "gpu_2x_h100_sxm5": ("H100 (80 GB SXM5)", 2, 638, 52, 450, 5632, 0.3),
    "gpu_8x_h100_sxm5": ("H100 (80 GB SXM5)", 8, 2392, 208, 1800, 22528, 0.35),
    "gpu_1x_h100_pcie": ("H100 (80 GB PCIe)", 1, 249, 26, 200, 1024, 0.4),
    "gpu_1x_b200_sxm6": ("B200 (180 GB SXM6)", 1, 529, 26, 360, 2816, 0.3),
    "gpu_8x_b200_sxm6": ("B200 (180 GB SXM6)", 8, 3992, 208, 2900, 22528, 0.25),
    "gpu_1x_gh200": ("GH200 (96 GB)", 1, 149, 64, 432, 4096, 0.45),
    "gpu_8x_a100_80gb_sxm4": ("A100 (80 GB SXM4)", 8, 1432, 240, 1800, 19456, 0.4),
    "gpu_1x_a100_sxm4": ("A100 (40 GB SXM4)", 1, 129, 30, 200, 512, 0.5),
    "gpu_1x_a10": ("A10 (24 GB PCIe)", 1, 75, 30, 200, 1400, 0.7),
    "gpu_1x_a6000": ("A6000 (48 GB)", 1, 80, 14, 100, 512, 0.6),
    "gpu_8x_v100": ("V100 (16 GB)", 8, 440, 88, 448, 5800, 0.5),
    "gpu_1x_rtx6000": ("RTX 6000 (24 GB)", 1, 50, 14, 46, 512, 0.6),
}


def _entry(name: str, rng: random.Random) -> dict[str, Any]:
    desc, gpus, cents, vcpus, mem, disk, p = TYPES[name]
    regions = [{"name": r, "description": d} for r, d in REGIONS.items() if rng.random() < p / 2]
    return {"instance_type": {"name": name, "description": f"{gpus}x {desc}", "gpu_description": desc,
                              "price_cents_per_hour": cents,
                              "specs": {"vcpus": vcpus, "memory_gib": mem, "storage_gib": disk, "gpus": gpus}},
            "regions_with_capacity_available": regions}


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    body = json.dumps({"data": {name: _entry(name, rng) for name in TYPES}}, indent=1).encode()
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"}, body,
                             meta={"kind": "instance-types"})]
