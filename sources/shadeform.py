"""Shadeform instance types (aggregator: one venue per underlying cloud).

API: ``GET https://api.shadeform.ai/v1/instances/types`` with header ``X-API-KEY``
(``SPOTINDEX_SHADEFORM_KEY``). Response ``{"instance_types": [{cloud, shade_instance_type,
cloud_instance_type, configuration{num_gpus, gpu_type, interconnect, vram_per_gpu_in_gb,
vcpus, memory_in_gb, ...}, hourly_price, deployment_type, availability[{region, available,
display_name}], boot_time}]}``; no pagination.

``hourly_price`` is integer US CENTS per INSTANCE-hour, passed through from ``cloud``: per-GPU
USD = cents / 100 / num_gpus. Every deployment type (vm, baremetal, container) is an
on-demand rental. Shadeform launches these on the named cloud, so a row is an executable
listing (tier T2) whose venue is the cloud (data/venues.toml; ``lambdalabs`` = lambda,
``datacrunch`` = verda); where the cloud has its own adapter, index.precedence keeps that
quote and this one is the fallback. One row per instance type and region, with
``available_units`` = num_gpus when the region has capacity, 0 when not. CPU-only types
(num_gpus 0 / gpu_type CPU) are not GPU quotes. GPU identity: ``gpu_type`` (``H100``,
``A100_80G``) with ``interconnect`` (``sxm5``/``pcie``) and ``vram_per_gpu_in_gb``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources._gpu_common import form_factor_hint, resolve_gpu, venue_fields
from sources._gpu_common import obj as _obj
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

URL = "https://api.shadeform.ai/v1/instances/types"
REQUIRED = ("cloud", "configuration", "hourly_price")
DEPLOYMENTS = ("vm", "baremetal", "container")
MEMORY_SUFFIX = re.compile(r"^(.*?)[_\- ](\d+)G(?:B)?$", re.IGNORECASE)


def _gpu(config: dict[str, Any]) -> str:
    raw = str(config.get("gpu_type") or "").strip()
    family, mem = raw, as_float(config.get("vram_per_gpu_in_gb"))
    m = MEMORY_SUFFIX.match(raw)
    if m:
        family, mem = m.group(1), mem or float(m.group(2))
    return resolve_gpu(family, form_factor_hint(config.get("interconnect")), mem, raw=raw)


class Shadeform(Source):
    name = "shadeform"
    kind = "gpu"
    description = "Shadeform instance types (aggregator, API key): one venue per underlying cloud, fallback quotes"
    key_env = "SPOTINDEX_SHADEFORM_KEY"
    venues = ("hyperstack", "crusoe", "nebius", "massedcompute", "paperspace", "latitude", "digitalocean", "denvr",
              "fluidstack", "scaleway", "tensordock", "voltagepark", "vultr", "imwt", "sesterce", "nscale",
              "lambda", "verda", "runpod", "aws", "azure")
    parser_checked = ""  # built from the API docs and upstream code: no real recorded response checked yet

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        key = self.api_key()
        headers = {"accept": "application/json", **({"X-API-KEY": key} if key else {})}
        return [await request(client, self.name, "GET", URL, headers=headers)]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            types = require_list(self.name, resp.json(), "instance_types", resp.url)
            require_field_somewhere(self.name, types, REQUIRED, resp.url)
            for t in types:
                if not isinstance(t, dict):
                    raise SourceError(self.name, f"instance type is {type(t).__name__}, not an object",
                                      field="instance_types[]", url=resp.url)
                rows.extend(self._rows(t, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _rows(self, t: dict[str, Any], resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        config = _obj(t.get("configuration"))
        count = as_float(config.get("num_gpus"))
        if str(config.get("gpu_type") or "").upper() == "CPU" or count == 0:
            return []  # CPU-only instance type: not a GPU quote
        problems = [f"missing field {f}" for f in REQUIRED if t.get(f) is None]
        if t.get("configuration") is not None and not config:
            problems.append("configuration is not an object")
        if count is None or count < 0 or count != int(count):
            problems.append(f"configuration.num_gpus is not a whole number: {config.get('num_gpus')!r}")
            count = None
        venue, vclass, vproblem = venue_fields(t.get("cloud"))
        if vproblem and t.get("cloud") is not None:
            problems.append(vproblem)
        cents = as_float(t.get("hourly_price"))
        if t.get("hourly_price") is not None and cents is None:
            problems.append(f"hourly_price is not a number: {t.get('hourly_price')!r}")
        if t.get("deployment_type") not in (None, *DEPLOYMENTS):
            problems.append(f"deployment_type {t.get('deployment_type')!r} is not a known on-demand rental")
        price = cents / 100 if cents is not None else None
        n = int(count) if count else None
        common = {
            "observed_at": observed_at,
            "source": self.name,
            "venue": venue,
            "venue_class": vclass,
            "gpu_model": _gpu(config),
            "gpu_count": n,
            "price_usd_per_hour": price,
            "price_usd_per_gpu_hour": price / n if price is not None and n else None,
            "pricing_class": "on_demand",
            "tier": "T2",
            "price_basis": "bundled",
            "currency": "USD",
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }
        base_id = f"{t.get('cloud')}:{t.get('shade_instance_type') or t.get('cloud_instance_type')}"
        regions = [a for a in t.get("availability") or [] if isinstance(a, dict)
                   and a.get("rental_type", "on_demand") == "on_demand"]
        if not regions:
            return [{**common, "offer_id": base_id, "region": None, "available_units": None}]
        return [{**common, "offer_id": f"{base_id}:{a.get('region')}", "region": a.get("region"),
                 "available_units": (n if a.get("available") is True else 0 if a.get("available") is False
                                     else None)}
                for a in regions]


SOURCE = Shadeform()
