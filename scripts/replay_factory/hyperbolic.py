"""Hyperbolic rental options: a bare JSON list whose stock and a few prices move hour to hour."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from sources.hyperbolic import URL

SOURCE = "hyperbolic"
EVERY_HOURS = 1

# (region, gpuType, formFactor, gpuCount, cents per option-hour, machineType, connection, ethernetVariant, cpu, vcpu)
OPTIONS: list[tuple[str, str, str, int, int, str, str, str | None, str, int]] = [
    ("us-east-1", "h100", "sxm5", 1, 299, "virtual-machine", "ethernet", "normal", "Intel Xeon Platinum", 20),
    ("us-east-2", "h200", "sxm5", 1, 379, "virtual-machine", "ethernet", "normal", "Intel Xeon Platinum", 24),
    ("ca-east-3", "h100", "sxm5", 1, 329, "virtual-machine", "ethernet", "normal", "Intel Xeon Platinum", 20),
    ("us-east-1", "h200", "sxm5", 1, 449, "virtual-machine", "ethernet", "normal", "Intel Xeon Platinum", 24),
    ("eu-north-6", "h100", "sxm5", 1, 319, "virtual-machine", "ethernet", "normal", "AMD EPYC", 30),
    ("ca-east-1", "h100", "pcie", 1, 249, "virtual-machine", "ethernet", "normal", "AMD EPYC", 28),
    ("uk-southeast-3", "h100", "sxm5", 8, 2392, "bare-metal", "infiniband", None, "Intel Xeon 8558", 96),
    ("eu-west-3", "h100", "sxm5", 8, 2392, "bare-metal", "infiniband", None, "Intel Xeon 8558", 96),
    ("eu-north-4", "h100", "sxm5", 8, 2472, "virtual-machine", "ethernet", "rocev2", "Intel Xeon Platinum", 160),
    ("eu-north-5", "h200", "sxm5", 8, 3032, "virtual-machine", "ethernet", "normal", "Intel Xeon Platinum", 160),
    ("jp-east-1", "h100", "sxm5", 8, 2472, "virtual-machine", "ethernet", "normal",
     "Intel(R) Xeon(R) Platinum 8460Y+", 160),
    ("us-central-2", "b200", "sxm6", 8, 4312, "bare-metal", "infiniband", None, "Intel Xeon 6960P", 144),
]


def _option(o: tuple, rng: random.Random) -> dict[str, Any]:
    region, gpu, ff, n, cents, machine, conn, eth, cpu, vcpu = o
    out: dict[str, Any] = {"enabled": True, "costPerHourCents": cents, "region": region, "gpuCount": n,
                           "gpuType": gpu, "gpuFormFactor": ff, "connectionType": conn}
    if eth:
        out["ethernetVariant"] = eth
    if rng.random() < 0.6:  # stock is reported for some options only (missing = unknown)
        out["totalAvailable"] = rng.randint(0, 6)
    out["machineType"] = machine
    node: dict[str, Any] = {"cpuModel": cpu, "gpuCount": n, "ramGb": 240 * n if n == 1 else 2000,
                            "storageGb": 720 * n if n == 1 else 24960}
    node["vcpuCount" if machine == "virtual-machine" else "cpuCount"] = vcpu
    out["nodes"] = [node]
    return out


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    options = [_option(o, rng) for o in OPTIONS if rng.random() > 0.1]  # some options are sold out this hour
    return [RecordedResponse(SOURCE, "GET", URL, 200, {"content-type": "application/json"},
                             json.dumps(options).encode())]
