"""Lambda Cloud API: instance types, prices and live capacity (venue ``lambda``, a neocloud).

API: ``GET https://cloud.lambda.ai/api/v1/instance-types`` (the old host
cloud.lambdalabs.com is deprecated), bearer API key ``SPOTINDEX_LAMBDA_KEY``, required (the
source is skipped without it). No pagination: ``{"data": {<type name>: {"instance_type":
{name, description, gpu_description, price_cents_per_hour, specs: {vcpus, memory_gib,
storage_gib, gpus}}, "regions_with_capacity_available": [{name, description}]}}}``.

``price_cents_per_hour`` is US cents per INSTANCE-hour: USD per hour = cents / 100, per-GPU =
that / ``specs.gpus``. Prices are the same in every region. Rows (all ``on_demand``):

- one per region listed in ``regions_with_capacity_available``: an executable listing (tier
  T2) with ``region`` set and ``available_units`` = the instance's GPUs (a lower bound: the
  API says "capacity available", not how much);
- when no region has capacity, one row with ``region`` null, ``available_units`` 0 and tier
  T3 (the list price of a sold-out type is still Lambda's price).

The GPU comes from ``gpu_description`` (``H100 (80 GB SXM5)``; aliases in
data/gpu_models.toml), else from the type name (``gpu_1x_h100_sxm5``). A bare ``A100`` (no
memory or form factor) is not guessed and stays ``unknown:A100``. CPU-only types
(``specs.gpus`` 0) are not GPU offers and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere

URL = "https://cloud.lambda.ai/api/v1/instance-types"
REQUIRED = ("instance_type",)
TYPE_REQUIRED = ("name", "price_cents_per_hour", "specs")

def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (missing nested objects read as empty)."""
    return value if isinstance(value, dict) else {}



def _model(it: dict[str, Any]) -> str:
    desc = it.get("gpu_description")
    by_desc = canonical.gpu_model(desc) if desc else canonical.UNKNOWN_PREFIX
    if not by_desc.startswith(canonical.UNKNOWN_PREFIX):
        return by_desc
    by_name = canonical.gpu_model(it.get("name")) if it.get("name") else by_desc
    if not by_name.startswith(canonical.UNKNOWN_PREFIX):
        return by_name
    return by_desc if desc else by_name


class LambdaLabs(Source):
    name = "lambdalabs"
    kind = "gpu"
    description = "Lambda Cloud API instance-types: on-demand prices and regions with capacity"
    key_env = "SPOTINDEX_LAMBDA_KEY"
    venues = ("lambda",)
    parser_checked = "2026-08-03"  # Lambda Cloud API OpenAPI 1.10.0 (InstanceTypes schema and example)

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        key = self.api_key()
        headers = {"Authorization": f"Bearer {key}"} if key else None
        return [await request(client, self.name, "GET", URL, headers=headers, meta={"kind": "instance-types"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            if not isinstance(payload, dict) or "data" not in payload:
                found = sorted(payload)[:8] if isinstance(payload, dict) else type(payload).__name__
                raise SourceError(self.name, f"missing; response has {found}", field="data", url=resp.url)
            data = payload["data"]
            if not isinstance(data, dict):
                raise SourceError(self.name, f"expected an object keyed by instance type, got {type(data).__name__}",
                                  field="data", url=resp.url)
            entries = list(data.items())
            for key, entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("instance_type", {}), dict):
                    raise SourceError(self.name, f"entry {key!r} is not an object with an instance_type object",
                                      field=f"data.{key}", url=resp.url)
            require_field_somewhere(self.name, [e for _, e in entries], REQUIRED, resp.url)
            types = [e["instance_type"] for _, e in entries if isinstance(e.get("instance_type"), dict)]
            require_field_somewhere(self.name, types, TYPE_REQUIRED, resp.url)
            for key, entry in entries:
                rows.extend(self._rows(str(key), entry, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _rows(self, key: str, entry: dict[str, Any], resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        it = entry.get("instance_type")
        it = it if isinstance(it, dict) else {}
        specs = _obj(it.get("specs"))
        gpus = as_float(specs.get("gpus"))
        if gpus == 0:
            return []  # CPU-only instance type: not a GPU offer
        problems = [f"missing field {f}" for f in TYPE_REQUIRED if it.get(f) is None]
        cents_raw = it.get("price_cents_per_hour")
        cents = as_float(cents_raw)
        if cents_raw is not None and cents is None:
            problems.append(f"price_cents_per_hour is not a number: {cents_raw!r}")
        if cents == 0:
            problems.append("price_cents_per_hour is 0: not offered, not free")
            cents = None
        if specs.get("gpus") is not None and gpus is None:
            problems.append(f"specs.gpus is not a number: {specs.get('gpus')!r}")
        count = int(gpus) if gpus is not None and gpus == int(gpus) and gpus > 0 else None
        usd = cents / 100 if cents is not None else None
        name = str(it.get("name") or key)
        common = {
            "observed_at": observed_at,
            "source": self.name,
            "venue": "lambda",
            "venue_class": canonical.venue_class("lambda", "neocloud"),
            "gpu_model": _model(it),
            "gpu_count": count,
            "price_usd_per_hour": usd,
            "price_usd_per_gpu_hour": usd / count if usd is not None and count else None,
            "pricing_class": "on_demand",
            "price_basis": "compute",
            "currency": "USD",
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }
        regions = entry.get("regions_with_capacity_available")
        names = [r.get("name") for r in regions if isinstance(r, dict) and r.get("name")] \
            if isinstance(regions, list) else []
        if not names:
            return [{**common, "offer_id": name, "region": None, "available_units": 0, "tier": "T3"}]
        return [{**common, "offer_id": f"{name}@{region}", "region": region, "available_units": count, "tier": "T2"}
                for region in names]


SOURCE = LambdaLabs()
