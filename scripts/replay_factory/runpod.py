"""RunPod GraphQL ``gpuTypes`` answers: per-GPU list prices, spot prices drifting hour to hour."""

from __future__ import annotations

import json
import random
from datetime import datetime

from index.replay import RecordedResponse
from sources.runpod import URL, request_body

SOURCE = "runpod"
EVERY_HOURS = 1  # spot prices move within the day

# id: (displayName, memoryInGb, securePrice, communityPrice); 0 = not offered on that surface
GPU_TYPES: dict[str, tuple[str, int, float, float]] = {
    "AMD Instinct MI300X OAM": ("MI300X", 192, 2.49, 0.0),
    "NVIDIA A100 80GB PCIe": ("A100 PCIe", 80, 1.64, 1.19),
    "NVIDIA A100-SXM4-40GB": ("A100 SXM 40GB", 40, 0.0, 0.99),
    "NVIDIA A100-SXM4-80GB": ("A100 SXM", 80, 1.74, 1.39),
    "NVIDIA B200": ("B200", 180, 5.98, 5.19),
    "NVIDIA B300 SXM6 AC": ("B300", 288, 6.94, 0.0),
    "NVIDIA GeForce RTX 3090": ("RTX 3090", 24, 0.46, 0.22),
    "NVIDIA GeForce RTX 4090": ("RTX 4090", 24, 0.69, 0.34),
    "NVIDIA GeForce RTX 5090": ("RTX 5090", 32, 0.94, 0.69),
    "NVIDIA H100 80GB HBM3": ("H100 SXM", 80, 2.69, 2.19),
    "NVIDIA H100 NVL": ("H100 NVL", 94, 2.59, 2.29),
    "NVIDIA H100 PCIe": ("H100 PCIe", 80, 2.39, 1.99),
    "NVIDIA H200": ("H200 SXM", 141, 3.59, 3.19),
    "NVIDIA H200 NVL": ("H200 NVL", 143, 3.39, 0.0),
    "NVIDIA L4": ("L4", 24, 0.43, 0.0),
    "NVIDIA L40": ("L40", 48, 0.99, 0.69),
    "NVIDIA L40S": ("L40S", 48, 0.86, 0.79),
    "NVIDIA RTX 6000 Ada Generation": ("RTX 6000 Ada", 48, 0.77, 0.74),
    "NVIDIA RTX A6000": ("RTX A6000", 48, 0.49, 0.33),
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": ("RTX PRO 6000", 96, 1.89, 1.69),
}


def _spot(price: float, rng: random.Random) -> float:
    """Interruptible price: 55-80% of the list price this hour, 0 when the surface is not offered."""
    return round(price * rng.uniform(0.55, 0.8), 2) if price else 0


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    gpu_types = []
    for gid, (display, mem, secure, community) in GPU_TYPES.items():
        gpu_types.append({"id": gid, "displayName": display, "memoryInGb": mem, "securePrice": secure,
                          "communityPrice": community, "secureSpotPrice": _spot(secure, rng),
                          "communitySpotPrice": _spot(community, rng)})
    body = json.dumps({"data": {"gpuTypes": gpu_types}}, indent=1).encode()
    return [RecordedResponse(SOURCE, "POST", URL, 200, {"content-type": "application/json"}, body,
                             request_body=json.dumps(request_body()).encode(), meta={"query": "gpuTypes"})]
