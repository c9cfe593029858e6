"""dstack gpuhunt catalog: the version file and a catalog.zip of per-provider CSVs (published daily)."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from datetime import datetime, timedelta

from index.replay import RecordedResponse
from scripts.replay_factory._gpu_market import PROVIDERS
from sources.gpuhunt import VERSION_URL, catalog_url

SOURCE = "gpuhunt"
EVERY_HOURS = 24

COLUMNS = ["instance_name", "location", "price", "cpu", "memory", "gpu_count", "gpu_name", "gpu_memory", "spot",
           "disk_size", "gpu_vendor", "flags", "cpu_arch", "provider_data"]

# provider csv -> (market venue, locations, [(instance name, gpu_name, board, gpu_count, gpu_memory, cpu, memory)],
#                  spot offered)
CATALOG: dict[str, tuple[str, list[str], list[tuple[str, str, str, int, float, int, float]], bool]] = {
    "aws": ("aws", ["us-east-1", "us-east-2", "us-west-2"], [
        ("p5.48xlarge", "H100", "H100", 8, 80, 192, 2048), ("p5.4xlarge", "H100", "H100", 1, 80, 16, 256),
        ("p5en.48xlarge", "H200", "H200", 8, 141, 192, 2048), ("p4de.24xlarge", "A100", "A100", 8, 80, 96, 1152),
        ("p6-b200.48xlarge", "B200", "B200", 8, 180, 192, 2048)], True),
    "azure": ("azure", ["eastus", "southcentralus", "westeurope"], [
        ("Standard_ND96isr_H100_v5", "H100", "H100", 8, 80, 96, 1900),
        ("Standard_ND96isr_H200_v5", "H200", "H200", 8, 141, 96, 1850),
        ("Standard_NC40ads_H100_v5", "H100NVL", "H100NVL", 1, 94, 40, 320),
        ("Standard_ND96amsr_A100_v4", "A100", "A100", 8, 80, 96, 1900)], True),
    "gcp": ("gcp", ["us-central1-a", "us-east4-b", "europe-west4-c"], [
        ("a3-highgpu-8g", "H100", "H100", 8, 80, 208, 1872), ("a3-megagpu-8g", "H100", "H100", 8, 80, 208, 1872),
        ("a3-ultragpu-8g", "H200", "H200", 8, 141, 224, 2952), ("a4-highgpu-8g", "B200", "B200", 8, 180, 224, 3968),
        ("a2-ultragpu-8g", "A100", "A100", 8, 80, 96, 1360), ("g2-standard-48", "L4", "L4", 4, 24, 48, 192)], True),
    "lambdalabs": ("lambda", ["us-east-1", "us-west-1", "us-south-1"], [
        ("gpu_8x_h100_sxm5", "H100", "H100", 8, 80, 208, 1800), ("gpu_1x_h100_pcie", "H100", "H100P", 1, 80, 26, 200),
        ("gpu_8x_b200_sxm6", "B200", "B200", 8, 180, 208, 2900),
        ("gpu_8x_a100_80gb_sxm4", "A100", "A100", 8, 80, 240, 1800)], False),
    "verda": ("verda", ["FIN-01", "FIN-02", "ICE-01"], [
        ("1H100.80S.30V", "H100", "H100", 1, 80, 30, 120), ("8H100.80S.176V", "H100", "H100", 8, 80, 176, 1480),
        ("8H200.141S.176V", "H200", "H200", 8, 141, 176, 1450), ("8B200.180S.240V", "B200", "B200", 8, 180, 240, 1800)],
        True),
    "nebius": ("nebius", ["eu-north1", "eu-west1", "us-central1"], [
        ("gpu-h100-sxm", "H100", "H100", 1, 80, 16, 200), ("gpu-h100-sxm", "H100", "H100", 8, 80, 128, 1600),
        ("gpu-h200-sxm", "H200", "H200", 8, 141, 128, 1600), ("gpu-b200-sxm", "B200", "B200", 8, 180, 160, 1792),
        ("gpu-l40s-a", "L40S", "L40S", 1, 48, 8, 32)], True),
    "oci": ("oci", ["us-ashburn-1", "us-chicago-1"], [
        ("BM.GPU.H100.8", "H100", "H100", 8, 80, 112, 2048), ("BM.GPU.H200.8", "H200", "H200", 8, 141, 112, 3072),
        ("BM.GPU.B200.8", "B200", "B200", 8, 180, 128, 4096)], False),
    "runpod": ("runpod", ["CA-MTL-1", "US-KS-2", "EU-RO-1"], [
        ("NVIDIA H100 80GB HBM3", "H100", "H100", 1, 80, 24, 251),
        ("NVIDIA H100 80GB HBM3", "H100", "H100", 8, 80, 192, 2008),
        ("NVIDIA H100 PCIe", "H100", "H100P", 1, 80, 16, 188), ("NVIDIA H200", "H200", "H200", 1, 141, 24, 276),
        ("NVIDIA A100-SXM4-80GB", "A100", "A100", 1, 80, 16, 125)], True),
    "cloudrift": ("cloudrift", ["us-east-nc-nr-1", "eu-central-1"], [
        ("rtx49-7c-kn.1", "RTX4090", "", 1, 24, 7, 48), ("rtx59-16c-nr.1", "RTX5090", "", 1, 32, 16, 64),
        ("rtxp6-24c-nr.1", "RTXPRO6000", "", 1, 96, 24, 128)], False),
}
CLOUDRIFT = {"rtx49-7c-kn.1": 0.39, "rtx59-16c-nr.1": 0.65, "rtxp6-24c-nr.1": 1.29}


def catalog_version(captured_at: datetime) -> str:
    """dstack publishes at 01:00 UTC: before ~02:00 the latest catalog is the previous day's."""
    day = captured_at if captured_at.hour >= 2 else captured_at - timedelta(days=1)
    return day.strftime("%Y%m%d")


def _csv(provider: str, rng: random.Random) -> str:
    venue, locations, items, spot = CATALOG[provider]
    prices = PROVIDERS[venue][1] if venue in PROVIDERS else {}
    spot_share = PROVIDERS[venue][2] if venue in PROVIDERS else None
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for loc in locations:
        w.writerow({"instance_name": "cpu-standard-8", "location": loc, "price": 0.38, "cpu": 8, "memory": 32,
                    "gpu_count": 0, "gpu_name": "", "gpu_memory": "", "spot": False, "disk_size": "",
                    "gpu_vendor": "", "flags": "", "cpu_arch": "x86", "provider_data": "{}"})
        for name, gpu_name, board, n, mem, cpu, ram in items:
            per_gpu = CLOUDRIFT[name] if provider == "cloudrift" else prices.get(board)
            if per_gpu is None:
                per_gpu = {"L4": 0.85, "H100NVL": 6.98}.get(board, 1.0)
            regional = rng.uniform(1.0, 1.08)
            for is_spot in ([False, True] if spot and spot_share else [False]):
                price = per_gpu * n * regional * (spot_share * rng.uniform(0.9, 1.1) if is_spot else 1.0)
                w.writerow({"instance_name": name, "location": loc, "price": round(price, 5), "cpu": cpu,
                            "memory": ram, "gpu_count": n, "gpu_name": gpu_name, "gpu_memory": mem, "spot": is_spot,
                            "disk_size": "", "gpu_vendor": "nvidia", "flags": "", "cpu_arch": "x86",
                            "provider_data": "{}"})
    return buf.getvalue()


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    version = catalog_version(captured_at)
    buf = io.BytesIO()
    stamp = (int(version[:4]), int(version[4:6]), int(version[6:]), 1, 20, 0)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for provider in CATALOG:
            zf.writestr(zipfile.ZipInfo(f"{provider}.csv", stamp), _csv(provider, rng), zipfile.ZIP_DEFLATED)
        zf.writestr(zipfile.ZipInfo("version", stamp), version + "\n")
    return [
        RecordedResponse(SOURCE, "GET", VERSION_URL, 200, {"content-type": "binary/octet-stream"},
                         (version + "\n").encode(), meta={"part": "version"}),
        RecordedResponse(SOURCE, "GET", catalog_url(version), 200, {"content-type": "application/zip"},
                         buf.getvalue(), meta={"part": "catalog", "version": version}),
    ]
