"""Google Cloud Compute Engine GPU machines, priced from the Cloud Billing Catalog (hyperscaler).

API: ``GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus``
with ``?key=<API key>&currencyCode=USD&pageSize=5000`` (``SPOTINDEX_GCP_KEY``; the key is a query
parameter, redacted in everything we store), ``nextPageToken`` followed as ``pageToken``.
Google bills an accelerator-optimized machine
as the sum of three resources, each a SKU per region: the GPUs ("Nvidia H100 80GB GPU
running in Iowa"), the vCPUs ("A3 Instance Core running in Iowa") and the memory ("A3
Instance Ram running in Iowa", per GiB-hour). So a machine's hourly price is assembled:

    price(a3-highgpu-8g) = 8 x GPU + 208 x core + 1872 x RAM     (per region, per usage type)

from the machine shapes in ``MACHINES`` (Google's published vCPU / memory / GPU counts).
``category.usageType`` ``OnDemand`` gives ``on_demand`` rows, ``Preemptible`` (the
"Spot Preemptible ..." SKUs) ``spot`` rows; commitments, DWS (flex-start / calendar),
sole-tenancy and reserved SKUs are not matched. Prices: ``pricingInfo[0].pricingExpression
.tieredRates`` first tier, ``unitPrice.units`` (an int64 as a JSON STRING) + ``nanos`` / 1e9,
in ``usageUnit`` "h" (GPU, core) or "GiBy.h" (RAM). Local SSD and boot disk are billed
apart and excluded: price basis ``compute``. One row per machine, region and usage type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources._gpu_common import obj as _obj
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

VENUE = "gcp"
SERVICE = "services/6F81-5844-456A"  # Compute Engine
URL = f"https://cloudbilling.googleapis.com/v1/{SERVICE}/skus"
PAGE_SIZE = 5000
MAX_PAGES = 40
SKU_RE = re.compile(r"^(?P<spot>Spot Preemptible )?(?P<what>.+?) (?P<res>GPU|Instance Core|Instance Ram) running in ",
                    re.IGNORECASE)
EXCLUDED_WORDS = ("Sole Tenancy", "Reserved", "Commitment", "Custom", "DWS", "Calendar", "Flex")
USAGE = {"OnDemand": "on_demand", "Preemptible": "spot"}
UNITS = {"gpu": "h", "core": "h", "ram": "GiBy.h"}


@dataclass(frozen=True)
class Machine:
    family: str  # the core / RAM SKU family, as the SKU description writes it ("A3" in "A3 Instance Core")
    gpu_sku: str  # the GPU SKU name ("Nvidia H100 80GB" in "Nvidia H100 80GB GPU running in ...")
    vcpus: int
    ram_gib: float
    gpus: int


MACHINES: dict[str, Machine] = {
    "a3-highgpu-1g": Machine("A3", "Nvidia H100 80GB", 26, 234, 1),
    "a3-highgpu-2g": Machine("A3", "Nvidia H100 80GB", 52, 468, 2),
    "a3-highgpu-4g": Machine("A3", "Nvidia H100 80GB", 104, 936, 4),
    "a3-highgpu-8g": Machine("A3", "Nvidia H100 80GB", 208, 1872, 8),
    "a3-megagpu-8g": Machine("A3Plus", "Nvidia H100 80GB Plus", 208, 1872, 8),
    "a3-ultragpu-8g": Machine("A3Ultra", "Nvidia H200 141GB", 224, 2952, 8),
    "a4-highgpu-8g": Machine("A4", "Nvidia B200", 224, 3968, 8),
    "a2-ultragpu-8g": Machine("A2", "Nvidia Tesla A100 80GB", 96, 1360, 8),
}


def page_params(token: str | None, key: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"currencyCode": "USD", "pageSize": PAGE_SIZE}
    if key:
        params["key"] = key
    if token:
        params["pageToken"] = token
    return params


def _price(sku: dict[str, Any]) -> tuple[float | None, str | None, str | None]:
    """(USD per unit, currency, usage unit) of a SKU's current first tier."""
    infos = sku.get("pricingInfo")
    if not isinstance(infos, list) or not infos or not isinstance(infos[0], dict):
        return None, None, None
    expr = infos[0].get("pricingExpression") or {}
    rates = expr.get("tieredRates") or []
    first = next((r for r in rates if isinstance(r, dict) and as_float(r.get("startUsageAmount", 0)) == 0), None)
    unit = (first or {}).get("unitPrice") or {}
    units, nanos = as_float(unit.get("units", "0")), as_float(unit.get("nanos", 0))
    value = units + nanos / 1e9 if units is not None and nanos is not None else None
    return value, unit.get("currencyCode"), expr.get("usageUnit")


class Gcp(Source):
    name = "gcp"
    kind = "gpu"
    description = "Google Cloud billing catalog (API key): GPU machines assembled from GPU, vCPU and RAM SKUs"
    key_env = "SPOTINDEX_GCP_KEY"
    venues = (VENUE,)
    parser_checked = ""  # built from the API docs and upstream code: no real recorded response checked yet

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out = []
        token: str | None = None
        key = self.api_key()
        for _ in range(MAX_PAGES):
            resp = await request(client, self.name, "GET", URL, params=page_params(token, key))
            out.append(resp)
            try:
                payload = resp.json()
            except SourceError:
                break  # parse reports the bad body
            nxt = payload.get("nextPageToken") if isinstance(payload, dict) else None
            if not nxt or nxt == token:
                break
            token = nxt
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        # (resource, name, usage class) -> region -> (price, problem, sha)
        table: dict[tuple[str, str, str], dict[str, tuple[float | None, str | None, str]]] = {}
        for resp in raw:
            skus = require_list(self.name, resp.json(), "skus", resp.url)
            require_field_somewhere(self.name, skus, ("description", "category", "serviceRegions", "pricingInfo"),
                                    resp.url)
            for sku in skus:
                if not isinstance(sku, dict):
                    raise SourceError(self.name, f"sku is {type(sku).__name__}, not an object", field="skus[]",
                                      url=resp.url)
                self._index(sku, resp, table)
        rows: list[dict[str, Any]] = []
        for machine_type, m in MACHINES.items():
            for cls in USAGE.values():
                gpu = table.get(("gpu", m.gpu_sku.lower(), cls), {})
                core = table.get(("core", m.family.lower(), cls), {})
                ram = table.get(("ram", m.family.lower(), cls), {})
                for region in sorted(gpu):
                    rows.append(self._row(machine_type, m, cls, region, gpu[region], core.get(region),
                                          ram.get(region), observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _index(self, sku: dict[str, Any], resp: RawResponse,
               table: dict[tuple[str, str, str], dict[str, tuple[float | None, str | None, str]]]) -> None:
        desc = str(sku.get("description") or "")
        category = _obj(sku.get("category"))
        cls = USAGE.get(str(category.get("usageType")))
        m = SKU_RE.match(desc)
        if cls is None or not m or any(w.lower() in desc.lower() for w in EXCLUDED_WORDS):
            return
        if bool(m.group("spot")) != (cls == "spot"):
            return  # a description that contradicts its usage type: not one of ours
        res = {"gpu": "gpu", "instance core": "core", "instance ram": "ram"}[m.group("res").lower()]
        price, currency, unit = _price(sku)
        problem = None
        if price is None:
            problem = f"SKU {sku.get('skuId')} ({desc}) has no readable unit price"
        elif currency != "USD":
            problem = f"SKU {sku.get('skuId')} is priced in {currency!r}, not USD"
        elif unit != UNITS[res]:
            problem = f"SKU {sku.get('skuId')} usage unit is {unit!r}, expected {UNITS[res]!r}"
        raw_regions = sku.get("serviceRegions")
        regions: list[Any] = raw_regions if isinstance(raw_regions, list) else []
        slot = table.setdefault((res, m.group("what").strip().lower(), cls), {})
        for region in regions:
            slot[str(region)] = (price, problem, resp.sha256)

    def _row(self, machine_type: str, m: Machine, cls: str, region: str,
             gpu: tuple[float | None, str | None, str], core: tuple[float | None, str | None, str] | None,
             ram: tuple[float | None, str | None, str] | None, observed_at: datetime) -> dict[str, Any]:
        problems = [p for p in (gpu[1], core[1] if core else None, ram[1] if ram else None) if p]
        if core is None:
            problems.append(f"no {m.family} Instance Core price in {region}")
        if ram is None:
            problems.append(f"no {m.family} Instance Ram price in {region}")
        price = None
        if not problems and gpu[0] is not None and core and core[0] is not None and ram and ram[0] is not None:
            price = round(m.gpus * gpu[0] + m.vcpus * core[0] + m.ram_gib * ram[0], 6)
        inst = canonical.instance_type(machine_type)
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": VENUE,
            "venue_class": canonical.venue_class(VENUE, "hyperscaler"),
            "offer_id": f"{machine_type}:{region}:{cls}",
            "gpu_model": inst.gpu_model if inst else f"{canonical.UNKNOWN_PREFIX}{m.gpu_sku}",
            "gpu_count": m.gpus,
            "price_usd_per_hour": price,
            "price_usd_per_gpu_hour": price / m.gpus if price is not None else None,
            "pricing_class": cls,
            "region": region,
            "available_units": None,
            "tier": "T3",
            "price_basis": "compute",
            "currency": "USD",
            "raw_sha256": gpu[2],
            "quarantine_reason": "; ".join(problems) or None,
        }


SOURCE = Gcp()
