"""Shadeform /instances/types: every cloud's GPU types with pass-through prices (cents) and region stock."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from scripts.replay_factory._gpu_market import PROVIDERS, hourly_factor
from sources.shadeform import URL

SOURCE = "shadeform"
EVERY_HOURS = 1

# shadeform cloud key -> (market venue id, regions, {board: cloud instance type template with {n}})
CLOUDS: dict[str, tuple[str, list[tuple[str, str]], dict[str, str]]] = {
    "aws": ("aws", [("us-east-1", "US, Virginia"), ("us-west-2", "US, Oregon")],
            {"H100": "p5.48xlarge", "H200": "p5en.48xlarge", "A100": "p4de.24xlarge"}),
    "azure": ("azure", [("eastus", "US, Virginia"), ("southcentralus", "US, Texas")],
              {"H100": "Standard_ND96isr_H100_v5", "H200": "Standard_ND96isr_H200_v5"}),
    "lambdalabs": ("lambda", [("us-east-1", "US, Virginia"), ("us-west-1", "US, California"),
                              ("us-south-1", "US, Texas")],
                   {"H100": "gpu_{n}x_h100_sxm5", "H100P": "gpu_{n}x_h100_pcie", "B200": "gpu_{n}x_b200_sxm6",
                    "A100": "gpu_{n}x_a100_sxm4_80gb"}),
    "runpod": ("runpod", [("US-KS-2", "US, Kansas"), ("EU-RO-1", "Romania")],
               {"H100": "NVIDIA H100 80GB HBM3", "H200": "NVIDIA H200", "A100": "NVIDIA A100-SXM4-80GB"}),
    "hyperstack": ("hyperstack", [("CANADA-1", "Canada, Montreal"), ("NORWAY-1", "Norway, Oslo"),
                                  ("US-1", "US, Wichita, KS")],
                   {"H100": "n3-H100-SXM5x{n}", "H100P": "n3-H100x{n}", "H200": "n3-H200-SXM5x{n}",
                    "A100": "n3-A100x{n}"}),
    "datacrunch": ("verda", [("FIN-01", "Finland, Helsinki"), ("ICE-01", "Iceland, Keflavik")],
                   {"H100": "{n}H100.80S.{v}V", "H200": "{n}H200.141S.{v}V", "B200": "{n}B200.180S.{v}V"}),
    "massedcompute": ("massedcompute", [("us-central-2", "US, Kansas City, MO")],
                      {"H100": "gpu_{n}x_h100_sxm5", "H100P": "gpu_{n}x_h100", "A100": "gpu_{n}x_a100_80gb"}),
    "crusoe": ("crusoe", [("us-east1", "US, Virginia"), ("us-southcentral1", "US, Texas")],
               {"H100": "h100-80gb-sxm-ib.{n}x", "H200": "h200-141gb-sxm-ib.{n}x", "L40S": "l40s-48gb.{n}x"}),
    "nebius": ("nebius", [("eu-north1", "Finland"), ("us-central1", "US, Kansas City, MO")],
               {"H100": "gpu-h100-sxm.{n}gpu", "H200": "gpu-h200-sxm.{n}gpu", "B200": "gpu-b200-sxm.{n}gpu"}),
    "vultr": ("vultr", [("ewr", "US, New Jersey"), ("sea", "US, Seattle")],
              {"H100": "vbm-112c-2048gb-8-h100-gpu"}),
    "paperspace": ("paperspace", [("ny2", "US, New York")], {"H100": "H100x{n}", "A100": "A100-80Gx{n}"}),
    "scaleway": ("scaleway", [("fr-par-2", "France, Paris")], {"H100": "H100-SXM-{n}-80G", "H100P": "H100-{n}-80G"}),
    "latitude": ("latitude", [("DAL", "US, Dallas"), ("FRA", "Germany, Frankfurt")],
                 {"H100": "g3.h100.large", "H200": "g4.h200.large"}),
    "tensordock": ("tensordock", [("us-tx-1", "US, Texas"), ("ca-qc-1", "Canada, Quebec")],
                   {"H100": "h100-sxm5-80gb x{n}", "H100P": "h100-pcie-80gb x{n}"}),
    "voltagepark": ("voltagepark", [("us-west-2", "US, Seattle")], {"H100": "h100-sxm5-80gb-x{n}"}),
    "digitalocean": ("digitalocean", [("nyc2", "US, New York"), ("tor1", "Canada, Toronto")],
                     {"H100": "gpu-h100x{n}-640gb", "H200": "gpu-h200x{n}-1128gb", "L40S": "gpu-l40sx1-48gb"}),
    "denvr": ("denvr", [("houston-usa-1", "US, Houston")], {"H100": "H100_80GB_SXM_{n}x", "A100": "A100_80GB_{n}x"}),
    "fluidstack": ("fluidstack", [("norway_4_eu", "Norway"), ("canada_1_na", "Canada")],
                   {"H100": "H100_SXM5_80GB::{n}", "H200": "H200_SXM5_141GB::{n}"}),
    "sesterce": ("sesterce", [("us-east-2", "US, Ohio"), ("fr-par-1", "France, Paris")],
                 {"H100": "{n}x-H100-SXM5", "H200": "{n}x-H200-SXM5"}),
    "nscale": ("nscale", [("glomfjord-1", "Norway, Glomfjord")], {"H100": "h100-sxm-{n}x", "H200": "h200-sxm-{n}x"}),
    "imwt": ("imwt", [("us-west-1", "US, Oregon")], {"H100": "H100x{n}", "A100": "A100x{n}"}),
}
EXTRA_PRICES = {"imwt": {"H100": 2.55, "A100": 1.60}}
BOARDS = {"H100": ("H100", "sxm5", 80), "H100P": ("H100", "pcie", 80), "H200": ("H200", "sxm5", 141),
          "B200": ("B200", "sxm6", 180), "A100": ("A100_80G", "sxm4", 80), "L40S": ("L40S", "pcie", 48)}
FIXED_COUNT = {"p5.48xlarge": 8, "p5en.48xlarge": 8, "p4de.24xlarge": 8, "Standard_ND96isr_H100_v5": 8,
               "Standard_ND96isr_H200_v5": 8, "vbm-112c-2048gb-8-h100-gpu": 8}


def _types(captured_at: datetime, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for cloud, (venue, regions, boards) in CLOUDS.items():
        _, prices, _, drifts = PROVIDERS.get(venue, ("", EXTRA_PRICES.get(venue, {}), None, False))
        for board, template in boards.items():
            if board not in prices:
                continue
            gpu_type, interconnect, vram = BOARDS[board]
            counts = [FIXED_COUNT[template]] if template in FIXED_COUNT else ([1, 8] if "{n}" in template else [8])
            for n in counts:
                per_gpu = prices[board] * hourly_factor(venue, board, captured_at, drifts) * 1.0
                cents = int(round(per_gpu * n * 100))
                name = template.format(n=n, v=22 * n if board != "B200" else 30 * n)
                out.append({
                    "cloud": cloud,
                    "shade_instance_type": f"{gpu_type}_{interconnect}x{n}" if n > 1 else f"{gpu_type}_{interconnect}",
                    "cloud_instance_type": name,
                    "configuration": {"memory_in_gb": 225 * n, "storage_in_gb": 1000 * n, "vcpus": 26 * n,
                                      "num_gpus": n, "gpu_type": gpu_type, "interconnect": interconnect,
                                      "vram_per_gpu_in_gb": vram,
                                      "os_options": ["ubuntu22.04_cuda12.2_shade_os", "ubuntu24.04_cuda12.8_shade_os"],
                                      "gpu_manufacturer": "nvidia", "nvlink": interconnect.startswith("sxm")},
                    "hourly_price": cents,
                    "deployment_type": "baremetal" if cloud in ("latitude", "vultr", "voltagepark") else "vm",
                    "availability": [{"region": r, "available": rng.random() > 0.35, "display_name": d}
                                     for r, d in regions],
                    "boot_time": {"min_boot_in_sec": 180, "max_boot_in_sec": 900},
                })
    out.append({"cloud": "hyperstack", "shade_instance_type": "CPU", "cloud_instance_type": "n1-cpu-small",
                "configuration": {"memory_in_gb": 4, "storage_in_gb": 100, "vcpus": 4, "num_gpus": 0,
                                  "gpu_type": "CPU", "interconnect": "", "vram_per_gpu_in_gb": 0, "os_options": []},
                "hourly_price": 4, "deployment_type": "vm",
                "availability": [{"region": "CANADA-1", "available": True, "display_name": "Canada, Montreal"}],
                "boot_time": {"min_boot_in_sec": 60, "max_boot_in_sec": 120}})
    return sorted(out, key=lambda t: t["hourly_price"])


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    body = {"instance_types": _types(captured_at, rng)}
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"},
                             json.dumps(body, separators=(",", ":")).encode())]
