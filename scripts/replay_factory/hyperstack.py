"""Hyperstack pricebook: a bare array of per-unit hourly prices (GPUs, storage, IPs)."""

from __future__ import annotations

import json
import random
from datetime import datetime

from index.replay import RecordedResponse
from sources.hyperstack import URL

SOURCE = "hyperstack"
EVERY_HOURS = 24

# (id, name, value, original value) - USD per unit-hour as Hyperstack's rate card lists them in late 2026
PRICEBOOK = [
    (10, "RTX-A4000", 0.15, 0.15), (11, "RTX-A5000", 0.22, 0.22), (12, "RTX-A6000", 0.50, 0.50),
    (13, "L40", 1.00, 1.00), (14, "A100-80G-PCIe", 1.35, 1.35), (15, "A100-80G-PCIe-NVLink", 1.40, 1.40),
    (16, "H100-80G-PCIe", 1.90, 1.90), (17, "H100-80G-PCIe-NVLink", 1.95, 1.95),
    (18, "H100-80G-SXM5", 2.40, 2.40), (19, "H200-141G-SXM5", 3.50, 3.50), (20, "B200-192G-SXM", 5.90, 5.90),
    (21, "RTX-6000-ADA", 0.50, 0.50), (22, "L40S-48G-PCIe", 1.00, 1.00),
    (40, "Cloud-SSD", 0.000082, 0.000082), (41, "Public-IP", 0.0055, 0.0055),
]


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    entries = [{"id": i, "name": n, "value": v, "original_value": o, "discount_applied": v != o, "start_time": None,
                "end_time": None} for i, n, v, o in PRICEBOOK]
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"},
                             json.dumps(entries).encode())]
