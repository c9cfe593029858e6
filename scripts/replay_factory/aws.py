"""AWS EC2 per-region offer files, trimmed to the GPU instance types we index, in the bulk
file's own layout (``"key" : value``, products then terms, OnDemand and a few Reserved terms).
Live, ``fetch`` trims the real file (hundreds of MB) to the same subset."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime
from typing import Any

from index.replay import RecordedResponse
from sources.aws import REGIONS, offer_url

SOURCE = "aws"
EVERY_HOURS = 24  # list prices

LOCATION = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)"}
USAGE_PREFIX = {"us-east-1": "", "us-east-2": "USE2-", "us-west-2": "USW2-"}
# type: (USD per instance-hour Linux on-demand, GPUs, vCPU, memory, GPU memory, storage, processor, regions)
TYPES: dict[str, tuple[float, int, int, str, str, str, str, tuple[str, ...]]] = {
    "p5.4xlarge": (6.88, 1, 16, "256 GiB", "80 GB", "1 x 3840 SSD", "AMD EPYC 7R13 Processor",
                   ("us-east-1", "us-east-2", "us-west-2")),
    "p5.48xlarge": (55.04, 8, 192, "2048 GiB", "640 GB", "8 x 3840 SSD", "AMD EPYC 7R13 Processor",
                    ("us-east-1", "us-east-2", "us-west-2")),
    "p5e.48xlarge": (61.34, 8, 192, "2048 GiB", "1128 GB", "8 x 3840 SSD", "AMD EPYC 7R13 Processor",
                     ("us-east-2",)),
    "p5en.48xlarge": (63.30, 8, 192, "2048 GiB", "1128 GB", "8 x 3840 SSD",
                      "Intel Xeon Platinum 8488C", ("us-east-1", "us-east-2", "us-west-2")),
    "p4d.24xlarge": (21.96, 8, 96, "1152 GiB", "320 GB", "8 x 1000 SSD", "Intel Xeon Platinum 8275L",
                     ("us-east-1", "us-east-2", "us-west-2")),
    "p4de.24xlarge": (27.45, 8, 96, "1152 GiB", "640 GB", "8 x 1000 SSD", "Intel Xeon Platinum 8275L",
                      ("us-east-1", "us-west-2")),
    "p6-b200.48xlarge": (113.93, 8, 192, "2048 GiB", "1432 GB", "8 x 3840 SSD",
                         "Intel Xeon Platinum 8570", ("us-east-1", "us-west-2")),
}
# (operatingSystem, tenancy, capacitystatus, licenseModel, usage kind, price multiplier)
VARIANTS = [
    ("Linux", "Shared", "Used", "No License required", "BoxUsage", 1.0),
    ("Linux", "Dedicated", "Used", "No License required", "DedicatedUsage", 1.1),
    ("Linux", "Shared", "UnusedCapacityReservation", "No License required", "UnusedBox", 1.0),
    ("Linux", "Shared", "AllocatedCapacityReservation", "No License required", "Reservation", 0.0),
    ("Windows", "Shared", "Used", "No License required", "BoxUsage", None),
]
ON_DEMAND = "JRTCKXETXF"
HOURLY_RATE = "6YS6EN2CT7"
FIXED_SKU = {("us-east-1", "p5.48xlarge", 0): "3D4V8UAYEMB38GU2"}  # the real SKU of the headline product
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _sku(region: str, itype: str, variant: int) -> str:
    if (region, itype, variant) in FIXED_SKU:
        return FIXED_SKU[(region, itype, variant)]
    digest = hashlib.sha256(f"aws:{region}:{itype}:{variant}".encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:16])


def _product(region: str, itype: str, v: int) -> dict[str, Any]:
    price, gpus, vcpu, mem, gmem, storage, cpu, _ = TYPES[itype]
    os_name, tenancy, capacity, licence, usage, _ = VARIANTS[v]
    operation = "RunInstances:0002" if os_name == "Windows" else "RunInstances"
    attrs = {
        "enhancedNetworkingSupported": "Yes", "intelTurboAvailable": "No" if "AMD" in cpu else "Yes",
        "memory": mem, "dedicatedEbsThroughput": "80000 Mbps", "vcpu": str(vcpu), "classicnetworkingsupport": "false",
        "capacitystatus": capacity, "locationType": "AWS Region", "storage": storage,
        "instanceFamily": "GPU instance", "operatingSystem": os_name, "intelAvx2Available": "Yes",
        "regionCode": region, "physicalProcessor": cpu, "clockSpeed": "3.6 GHz" if "AMD" in cpu else "3.2 GHz",
        "ecu": "NA", "networkPerformance": "3200 Gigabit" if gpus == 8 else "100 Gigabit",
        "servicename": "Amazon Elastic Compute Cloud", "gpuMemory": gmem, "vpcnetworkingsupport": "true",
        "instanceType": itype, "tenancy": tenancy,
        "usagetype": f"{USAGE_PREFIX[region]}{usage}:{itype}", "normalizationSizeFactor": str(vcpu * 2),
        "intelAvxAvailable": "Yes", "processorFeatures": "AVX; AVX2", "servicecode": "AmazonEC2",
        "licenseModel": licence, "currentGeneration": "Yes", "preInstalledSw": "NA", "location": LOCATION[region],
        "processorArchitecture": "64-bit", "marketoption": "OnDemand", "operation": operation,
        "availabilityzone": "NA", "gpu": str(gpus),
    }
    return {"sku": _sku(region, itype, v), "productFamily": "Compute Instance", "attributes": attrs}


def _on_demand(region: str, itype: str, v: int, sku: str, rng: random.Random) -> dict[str, Any]:
    price, *_ = TYPES[itype]
    os_name, tenancy, capacity, _, _, mult = VARIANTS[v]
    usd = price * mult if mult is not None else price + 0.092 * TYPES[itype][2]
    rate = f"{sku}.{ON_DEMAND}.{HOURLY_RATE}"
    what = "Linux" if os_name == "Linux" else "Windows"
    desc = (f"${usd:.3f} per {'Dedicated ' if tenancy == 'Dedicated' else ''}On Demand {what} {itype} Instance Hour"
            if capacity == "Used" else f"${usd:.3f} per {capacity} {what} {itype} Instance Hour")
    return {f"{sku}.{ON_DEMAND}": {
        "priceDimensions": {rate: {"unit": "Hrs", "endRange": "Inf", "description": desc, "appliesTo": [],
                                   "rateCode": rate, "beginRange": "0", "pricePerUnit": {"USD": f"{usd:.10f}"}}},
        "sku": sku, "effectiveDate": "2026-07-01T00:00:00Z", "offerTermCode": ON_DEMAND, "termAttributes": {}}}


def _reserved(sku: str, itype: str) -> dict[str, Any]:
    price, *_ = TYPES[itype]
    code = "4NA7Y494T4"
    rate = f"{sku}.{code}.6YS6EN2CT7"
    usd = price * 0.62
    return {f"{sku}.{code}": {
        "priceDimensions": {rate: {"unit": "Hrs", "endRange": "Inf",
                                   "description": f"Linux/UNIX (Amazon VPC), {itype} reserved instance applied",
                                   "appliesTo": [], "rateCode": rate, "beginRange": "0",
                                   "pricePerUnit": {"USD": f"{usd:.10f}"}}},
        "sku": sku, "effectiveDate": "2026-07-01T00:00:00Z", "offerTermCode": code,
        "termAttributes": {"LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"}}}


def offer_file(region: str, rng: random.Random) -> dict[str, Any]:
    products: dict[str, Any] = {}
    on_demand: dict[str, Any] = {}
    reserved: dict[str, Any] = {}
    for itype, spec in TYPES.items():
        if region not in spec[-1]:
            continue
        for v in range(len(VARIANTS)):
            p = _product(region, itype, v)
            products[p["sku"]] = p
            on_demand[p["sku"]] = _on_demand(region, itype, v, p["sku"], rng)
            if v == 0:
                reserved[p["sku"]] = _reserved(p["sku"], itype)
    return {
        "formatVersion": "v1.0",
        "disclaimer": "This pricing list is for informational purposes only. All prices are subject to the "
                      "additional terms included in the pricing pages on http://aws.amazon.com. All Free Tier "
                      "prices are also subject to the terms included at https://aws.amazon.com/free/",
        "offerCode": "AmazonEC2",
        "version": "20261118190511",
        "publicationDate": "2026-11-18T19:05:11Z",
        "products": products,
        "terms": {"OnDemand": on_demand, "Reserved": reserved},
    }


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    out = []
    for region in REGIONS:
        body = json.dumps(offer_file(region, rng), indent=2, separators=(",", " : ")).encode()
        out.append(RecordedResponse(SOURCE, "GET", offer_url(region), 200, {"content-type": "application/json"},
                                    body, meta={"kind": "offer", "region": region}))
    return out
