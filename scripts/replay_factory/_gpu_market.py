"""Shared late-2026 GPU price levels for the aggregator generators (computepulse, shadeform, gpuhunt).

One table so that the aggregators tell a coherent story: the same provider is priced about
the same wherever it is reported, aggregators a little stale or rounded. Figures are USD
per GPU-hour, on-demand, modelled on public list prices; they are realistic, not real.
The leading underscore keeps this module out of the generator list.
"""

from __future__ import annotations

import random
from datetime import datetime

# venue id -> (display name as Compute Pulse writes it, {board: USD per GPU-hour on-demand}, spot share or None,
#              hourly drift: True for marketplaces whose asks move every hour)
# board keys: H100 = H100 SXM, H100P = H100 PCIe, H100NVL, H200 = H200 SXM, H200NVL, B200, A100 = A100 SXM 80GB,
#             L40S, MI300X
PROVIDERS: dict[str, tuple[str, dict[str, float], float | None, bool]] = {
    "aws": ("AWS", {"H100": 3.93, "H200": 4.97, "B200": 7.10, "A100": 2.74}, 0.45, False),
    "azure": ("Microsoft Azure", {"H100": 6.98, "H200": 8.19, "H100NVL": 7.00, "A100": 3.67}, 0.40, False),
    "gcp": ("Google Cloud", {"H100": 3.88, "H200": 4.66, "B200": 6.25, "A100": 3.67, "L40S": 1.62}, 0.35, False),
    "oci": ("Oracle Cloud", {"H100": 10.00, "H200": 10.00, "B200": 14.00, "A100": 4.00}, None, False),
    "lambda": ("Lambda", {"H100": 2.99, "H100P": 2.49, "H200": 3.79, "B200": 4.99, "A100": 1.79}, None, False),
    "runpod": ("RunPod", {"H100": 2.69, "H100P": 1.99, "H100NVL": 2.59, "H200": 3.59, "B200": 5.98, "A100": 1.39,
                          "L40S": 0.86, "MI300X": 2.49}, 0.55, True),
    "vastai": ("Vast.ai", {"H100": 1.87, "H100P": 1.62, "H200": 2.65, "B200": 4.10, "A100": 0.98, "L40S": 0.62},
               0.45, True),
    "verda": ("Verda", {"H100": 2.29, "H200": 2.99, "B200": 3.79, "A100": 1.29}, 0.40, False),
    "vultr": ("Vultr", {"H100": 2.99, "B200": 5.49, "L40S": 1.67, "MI300X": 2.19}, None, False),
    "hyperbolic": ("Hyperbolic", {"H100": 3.19, "H200": 3.99, "H100P": 2.75}, None, True),
    "voltagepark": ("Voltage Park", {"H100": 1.99}, None, False),
    "nebius": ("Nebius", {"H100": 2.95, "H200": 3.50, "B200": 5.50, "L40S": 1.55}, 0.50, False),
    "hyperstack": ("Hyperstack", {"H100": 2.40, "H100P": 1.90, "H100NVL": 1.95, "H200": 3.50, "A100": 1.35,
                                  "L40S": 1.00}, 0.55, False),
    "coreweave": ("CoreWeave", {"H100": 6.16, "H200": 6.31, "B200": 8.60, "L40S": 2.25}, None, False),
    "crusoe": ("Crusoe", {"H100": 3.90, "H200": 4.29, "B200": 5.50, "A100": 1.95, "L40S": 1.45, "MI300X": 3.45},
               0.55, False),
    "digitalocean": ("DigitalOcean", {"H100": 3.39, "H200": 3.44, "L40S": 1.57, "MI300X": 1.99}, None, False),
    "paperspace": ("Paperspace", {"H100": 5.95, "H100P": 5.95, "A100": 3.09}, None, False),
    "jarvislabs": ("JarvisLabs", {"H100": 2.99, "H200": 3.80, "A100": 1.29, "L40S": 0.99}, None, False),
    "tensordock": ("TensorDock", {"H100": 2.25, "H100P": 1.80, "A100": 1.10}, 0.60, True),
    "fluidstack": ("Fluidstack", {"H100": 2.89, "H200": 3.29, "B200": 4.49}, None, False),
    "genesiscloud": ("Genesis Cloud", {"H100": 2.79, "H200": 3.19, "B200": 4.59}, None, False),
    "scaleway": ("Scaleway", {"H100": 2.73, "H100P": 2.52, "L40S": 1.40}, None, False),
    "ovhcloud": ("OVHcloud", {"H100": 2.99, "H100P": 2.99, "L40S": 1.80, "A100": 3.07}, None, False),
    "latitude": ("Latitude.sh", {"H100": 2.65, "H200": 3.25, "L40S": 1.28}, None, False),
    "massedcompute": ("Massed Compute", {"H100": 2.98, "H100P": 2.28, "A100": 1.72, "L40S": 1.10}, None, False),
    "hotaisle": ("Hot Aisle", {"MI300X": 1.99}, None, False),
    "sesterce": ("Sesterce", {"H100": 2.05, "H200": 2.70, "B200": 3.95, "A100": 1.45}, None, True),
    "gmicloud": ("GMI Cloud", {"H100": 2.10, "H200": 2.50, "B200": 4.00}, None, False),
    "together": ("Together AI", {"H100": 2.99, "H200": 3.79, "B200": 5.50}, None, False),
    "civo": ("Civo", {"H100": 2.49, "H200": 3.49, "L40S": 1.29, "A100": 1.79}, None, False),
    "e2enetworks": ("E2E Networks", {"H100": 2.49, "H200": 3.19, "L40S": 1.10}, None, False),
    "lium": ("Lium", {"H100": 1.80, "H200": 2.35, "B200": 3.60, "A100": 0.95}, None, True),
    "cudo": ("Cudo Compute", {"H100": 2.47, "H100P": 2.25, "H200": 3.40, "A100": 1.50}, None, False),
    "denvr": ("Denvr Dataworks", {"H100": 2.10, "H200": 2.85, "A100": 1.30}, None, False),
    "nscale": ("Nscale", {"H100": 2.60, "H200": 3.20, "MI300X": 2.10}, None, False),
    "ori": ("Ori", {"H100": 3.24, "H200": 3.50, "B200": 4.80, "L40S": 1.35}, None, False),
    "thundercompute": ("Thunder Compute", {"H100": 1.89, "A100": 0.78}, None, False),
    "sfcompute": ("SF Compute", {"H100": 1.55, "H200": 2.10, "B200": 3.30}, None, True),
    "cyfuture": ("Cyfuture AI", {"H100": 2.15, "H200": 2.90, "L40S": 0.95}, None, False),
}

# Providers billing in another currency on the aggregator (code, units of it per USD).
NATIVE_CURRENCY = {"scaleway": ("EUR", 0.92), "cyfuture": ("INR", 88.4)}

BOARD_META = {  # board -> (compute pulse gpu_model, gpu_variant, vram GB, slug)
    "H100": ("H100", "SXM", 80, "nvidia-h100"),
    "H100P": ("H100", "PCIe", 80, "nvidia-h100"),
    "H100NVL": ("H100", "NVL", 94, "nvidia-h100"),
    "H200": ("H200", "SXM", 141, "nvidia-h200"),
    "H200NVL": ("H200", "NVL", 141, "nvidia-h200"),
    "B200": ("B200", "SXM", 180, "nvidia-b200"),
    "A100": ("A100", "SXM", 80, "nvidia-a100"),
    "L40S": ("L40S", None, 48, "nvidia-l40s"),
    "MI300X": ("MI300X", None, 192, "amd-mi300x"),
}


def hourly_factor(venue: str, board: str, captured_at: datetime, drifts: bool) -> float:
    """A deterministic multiplier: 1.0 for list prices, a few percent of drift for marketplaces."""
    if not drifts:
        return 1.0
    rng = random.Random(f"gpu-market:{venue}:{board}:{captured_at.isoformat()}")
    return rng.uniform(0.96, 1.04)


def display_slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")
