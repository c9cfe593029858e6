"""RunPod GPU catalogue (GraphQL ``gpuTypes``): secure, community and spot prices.

API: ``POST https://api.runpod.io/graphql`` with the query in ``QUERY``. The catalogue is
public: no key is needed (``SPOTINDEX_RUNPOD_KEY``, if set, is sent as a bearer token and
only raises rate limits). Every price is USD per GPU-hour (RunPod rents single GPUs), so
``gpu_count`` is 1 and instance price = per-GPU price.

One venue, ``runpod`` (a neocloud), with the surfaces told apart by pricing class:

- ``securePrice``        -> ``on_demand``   (RunPod's own data centres, "Secure Cloud")
- ``communityPrice``     -> ``marketplace`` (third-party hosts listed by RunPod, "Community
  Cloud": the price RunPod shows is the floor of those hosts' asks, a marketplace quote)
- ``secureSpotPrice`` / ``communitySpotPrice`` -> ``spot`` (interruptible), with the
  surface in ``offer_id`` (``runpod:secure:<gpu>:spot`` / ``runpod:community:<gpu>:spot``)

Community Cloud is kept under venue ``runpod`` rather than a separate venue: RunPod sets the
price, bills the customer and runs the platform, as Vast.ai does for its hosts.

A price of 0 or null means "not offered on that surface" (A100-SXM4-40GB has no Secure
Cloud capacity, ``securePrice: 0``), never free: such a surface yields a quarantined row
saying so, as does a price that is not a number. The ``id`` is the long, stable
GPU label (``NVIDIA H100 80GB HBM3``) and is what we map; ``displayName`` (``H100 SXM``) is
the fallback. Prices are catalogue prices (tier T3); the catalogue says nothing about
stock, so ``available_units`` stays null.
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
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

URL = "https://api.runpod.io/graphql"
QUERY = "{gpuTypes{id displayName memoryInGb securePrice communityPrice secureSpotPrice communitySpotPrice}}"
# field -> (surface, pricing class)
PRICE_FIELDS: dict[str, tuple[str, str]] = {
    "securePrice": ("secure", "on_demand"),
    "communityPrice": ("community", "marketplace"),
    "secureSpotPrice": ("secure", "spot"),
    "communitySpotPrice": ("community", "spot"),
}
REQUIRED = ("id", "securePrice", "communityPrice")


def request_body() -> dict[str, str]:
    return {"query": QUERY}


def _model(g: dict[str, Any]) -> str:
    by_id = canonical.gpu_model(g.get("id")) if g.get("id") else canonical.UNKNOWN_PREFIX
    if not by_id.startswith(canonical.UNKNOWN_PREFIX):
        return by_id
    by_name = canonical.gpu_model(g.get("displayName")) if g.get("displayName") else by_id
    return by_id if by_name.startswith(canonical.UNKNOWN_PREFIX) else by_name


class RunPod(Source):
    name = "runpod"
    kind = "gpu"
    description = "RunPod GraphQL gpuTypes: Secure Cloud, Community Cloud and spot prices per GPU-hour"
    key_env = "SPOTINDEX_RUNPOD_KEY"
    key_optional = True  # the gpuTypes catalogue is public
    venues = ("runpod",)
    parser_checked = "2026-08-22"

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        key = self.api_key()
        headers = {"Authorization": f"Bearer {key}"} if key else None
        return [await request(client, self.name, "POST", URL, json_body=request_body(), headers=headers,
                              meta={"query": "gpuTypes"})]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            payload = resp.json()
            if isinstance(payload, dict) and payload.get("errors") and not payload.get("data"):
                first = payload["errors"][0] if isinstance(payload["errors"], list) else payload["errors"]
                msg = first.get("message") if isinstance(first, dict) else first
                raise SourceError(self.name, f"GraphQL error: {str(msg)[:160]}", field="errors", url=resp.url)
            data = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(data, dict):
                raise SourceError(self.name, "missing object 'data'", field="data", url=resp.url)
            gpus = require_list(self.name, data, "gpuTypes", resp.url)
            require_field_somewhere(self.name, gpus, REQUIRED, resp.url)
            for g in gpus:
                if not isinstance(g, dict):
                    raise SourceError(self.name, f"gpuType is {type(g).__name__}, not an object",
                                      field="gpuTypes[]", url=resp.url)
                rows.extend(self._rows(g, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _rows(self, g: dict[str, Any], resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        gpu_id = str(g.get("id") or g.get("displayName") or "?")
        common = {
            "observed_at": observed_at,
            "source": self.name,
            "venue": "runpod",
            "venue_class": canonical.venue_class("runpod", "neocloud"),
            "gpu_model": _model(g),
            "gpu_count": 1,
            "region": None,
            "available_units": None,
            "tier": "T3",
            "price_basis": "compute",
            "currency": "USD",
            "raw_sha256": resp.sha256,
        }
        rows = []
        for fname, (surface, pclass) in PRICE_FIELDS.items():
            value = g.get(fname)  # the query asks for all four: an absent key is a null
            price = as_float(value)
            if value is None or price == 0:
                reason = f"{fname} is {value!r}: not offered on {surface} cloud (0/null is not a price)"
            elif price is None:
                reason = f"{fname} is not a number: {value!r}"
            else:
                reason = None
            suffix = ":spot" if pclass == "spot" else ""
            rows.append({**common, "offer_id": f"runpod:{surface}:{gpu_id}{suffix}", "pricing_class": pclass,
                         "price_usd_per_hour": price or None, "price_usd_per_gpu_hour": price or None,
                         "quarantine_reason": reason})
        return rows

SOURCE = RunPod()
