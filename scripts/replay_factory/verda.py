"""Verda ``/v1/instance-types`` and ``/v1/instance-availability`` (on-demand and spot) answers.

Replay runs without credentials, so fetch asks for no OAuth token: none is recorded.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime
from typing import Any

import httpx

from index.replay import RecordedResponse
from sources.verda import AVAILABILITY_URL, TYPES_URL, availability_params

SOURCE = "verda"
EVERY_HOURS = 1  # availability moves within the day

LOCATIONS = ("FIN-01", "FIN-02", "FIN-03", "ICE-01")
# instance_type: (name, model, gpu description, gpus, GPU GB total, cores, RAM GB, USD/h, spot USD/h)
TYPES: dict[str, tuple[str, str, str, int, int, int, int, str, str]] = {
    "1H100.80S.30V": ("H100 SXM5 80GB", "H100", "1x H100 SXM5 80GB", 1, 80, 30, 120, "2.29", "1.10"),
    "2H100.80S.60V": ("H100 SXM5 80GB", "H100", "2x H100 SXM5 80GB", 2, 160, 60, 240, "4.58", "2.20"),
    "8H100.80S.176V": ("H100 SXM5 80GB", "H100", "8x H100 SXM5 80GB", 8, 640, 176, 1480, "18.32", "8.80"),
    "1H200.141S.44V": ("H200 SXM5 141GB", "H200", "1x H200 SXM5 141GB", 1, 141, 44, 182, "3.39", "1.59"),
    "8H200.141S.176V": ("H200 SXM5 141GB", "H200", "8x H200 SXM5 141GB", 8, 1128, 176, 1450, "27.12", "12.72"),
    "1B200.30V": ("B200 SXM6 180GB", "B200", "1x B200 SXM6 180GB", 1, 180, 30, 184, "3.99", "1.79"),
    "8B200.240V": ("B200 SXM6 180GB", "B200", "8x B200 SXM6 180GB", 8, 1440, 240, 1472, "31.92", "14.32"),
    "1A100.22V": ("A100 SXM4 80GB", "A100", "1x A100 SXM4 80GB", 1, 80, 22, 120, "1.29", "0.52"),
    "8A100.176V": ("A100 SXM4 80GB", "A100", "8x A100 SXM4 80GB", 8, 640, 176, 960, "10.32", "4.16"),
    "1L40S.20V": ("L40S 48GB", "L40S", "1x L40S 48GB", 1, 48, 20, 60, "0.91", "0.40"),
    "1RTX6000ADA.10V": ("RTX 6000 Ada 48GB", "RTX 6000 Ada", "1x RTX 6000 Ada 48GB", 1, 48, 10, 60, "0.76", "0.28"),
    "1V100.6V": ("Tesla V100 16GB", "Tesla V100", "1x Tesla V100 16GB", 1, 16, 6, 23, "0.39", "0.14"),
    "CPU.32V.128G": ("AMD EPYC", "CPU Node", "", 0, 0, 32, 128, "0.80", "0.40"),
}


def _type(itype: str) -> dict[str, Any]:
    name, model, desc, gpus, gpu_gb, cores, ram, price, spot = TYPES[itype]
    return {
        "best_for": [], "cpu": {"description": f"{cores} CPU", "number_of_cores": cores}, "currency": "usd",
        "deploy_warning": None, "description": "Dedicated Hardware Instance", "display_name": None,
        "gpu": {"description": desc, "number_of_gpus": gpus},
        "gpu_memory": {"description": f"{gpu_gb}GB GPU RAM" if gpu_gb else "", "size_in_gigabytes": gpu_gb},
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"verda:{itype}")), "instance_type": itype,
        "manufacturer": "AMD" if gpus == 0 else "NVIDIA",
        "memory": {"description": f"{ram}GB RAM", "size_in_gigabytes": ram}, "model": model, "name": name,
        "p2p": "900GB/s" if gpus == 8 else None, "price_per_hour": price, "spot_price": spot,
        "storage": {"description": "dynamic"}, "supported_os": ["ubuntu-22.04", "ubuntu-24.04"],
    }


def _availability(rng: random.Random, chance: float) -> list[dict[str, Any]]:
    return [{"location_code": loc, "availabilities": [t for t in TYPES if rng.random() < chance]}
            for loc in LOCATIONS]


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    headers = {"content-type": "application/json"}
    types = json.dumps([_type(t) for t in TYPES], indent=1).encode()
    out = [RecordedResponse(SOURCE, "GET", TYPES_URL, 200, headers, types, meta={"kind": "instance-types"})]
    for spot, chance in ((False, 0.35), (True, 0.5)):
        url = str(httpx.URL(AVAILABILITY_URL, params=availability_params(spot)))
        body = json.dumps(_availability(rng, chance)).encode()
        out.append(RecordedResponse(SOURCE, "GET", url, 200, headers, body,
                                    meta={"kind": "availability", "spot": "true" if spot else "false"}))
    return out
