"""Hyperstack (NexGen Cloud) pricebook: on-demand price per GPU-hour of every GPU flavor (neocloud).

API: ``GET https://infrahub-api.nexgencloud.com/v1/pricebook`` with header ``api_key``
(``SPOTINDEX_HYPERSTACK_KEY``). Unlike the rest of the API it answers a bare JSON array
of ``{id, name, value, original_value, discount_applied, start_time, end_time}``: ``value``
is the current USD price per hour of one unit of ``name`` (``original_value`` before any
discount). For GPUs the unit is one GPU with its share of the VM's vCPU and RAM, so a
row is one GPU (price basis ``bundled``). Entries outside their ``start_time``/``end_time``
window at the observation time are not current prices and are skipped.

GPU names follow ``<chip>-<memory>G-<form factor>[-NVLink]`` (``H100-80G-SXM5``,
``H100-80G-PCIe-NVLink``: PCIe boards bridged by NVLink, not the 94 GB H100 NVL) or a
plain board name (``RTX-A6000``, ``L40``). Pricebook entries that are not GPUs (storage,
IPs, CPU-only flavors) are not GPU quotes; a GPU-looking name we do not list (``RTX-A4000``)
stays a quote with ``unknown:<name>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources._gpu_common import form_factor_hint, resolve_gpu
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

VENUE = "hyperstack"
URL = "https://infrahub-api.nexgencloud.com/v1/pricebook"
GPU_NAME = re.compile(r"^(?P<chip>[A-Za-z0-9]+(?:-[A-Za-z]?\d+)?)-(?P<mem>\d+)G-(?P<ff>PCIe|SXM\d?)(?P<link>-NVLink)?$",
                      re.IGNORECASE)

GPU_LIKE = re.compile(r"^(RTX|GTX|Tesla|[ABHLTV]\d{1,3}|GB\d|GH\d|MI\d)", re.IGNORECASE)  # a GPU we do not list


def _gpu(name: str) -> str | None:
    """Canonical GPU for a pricebook name, or None when the entry is not a GPU."""
    m = GPU_NAME.match(name)
    if m:
        return resolve_gpu(m.group("chip").replace("-", " "), form_factor_hint(m.group("ff")),
                           float(m.group("mem")), raw=name)
    model = canonical.gpu_model(name.replace("-", " "))
    if model.startswith(canonical.UNKNOWN_PREFIX):
        return f"{canonical.UNKNOWN_PREFIX}{name}" if GPU_LIKE.match(name) else None
    return model


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class Hyperstack(Source):
    name = "hyperstack"
    kind = "gpu"
    description = "Hyperstack pricebook (API key): on-demand price per GPU-hour of every GPU flavor"
    key_env = "SPOTINDEX_HYPERSTACK_KEY"
    venues = (VENUE,)
    parser_checked = ""  # built from the API docs and upstream code: no real recorded response checked yet

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        key = self.api_key()
        headers = {"accept": "application/json", **({"api_key": key} if key else {})}
        return [await request(client, self.name, "GET", URL, headers=headers)]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            entries = require_list(self.name, resp.json(), None, resp.url)
            require_field_somewhere(self.name, entries, ("name", "value"), resp.url)
            for e in entries:
                if not isinstance(e, dict):
                    raise SourceError(self.name, f"entry is {type(e).__name__}, not an object", field="[]",
                                      url=resp.url)
                row = self._row(e, resp, observed_at)
                if row is not None:
                    rows.append(row)
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _row(self, e: dict[str, Any], resp: RawResponse, observed_at: datetime) -> dict[str, Any] | None:
        name = str(e.get("name") or "").strip()
        model = _gpu(name) if name else None
        if model is None:
            return None  # not a GPU: storage, IPs, CPU flavors
        start, end = _time(e.get("start_time")), _time(e.get("end_time"))
        if end and end <= observed_at:
            return None  # a past price, not the current one
        problems = []
        if start and start > observed_at:  # a scheduled price: quarantined with the reason, never loaded
            problems.append(f"not yet the price in effect: start_time {e.get('start_time')} is after the "
                            f"observation time {observed_at:%Y-%m-%dT%H:%MZ}")
        value = as_float(e.get("value"))
        if e.get("value") is None:
            problems.append("value is null: not offered")
        elif value is None:
            problems.append(f"value is not a number: {e.get('value')!r}")
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": VENUE,
            "venue_class": canonical.venue_class(VENUE, "neocloud"),
            "offer_id": f"{e.get('id')}:{name}",
            "gpu_model": model,
            "gpu_count": 1,
            "price_usd_per_hour": value,
            "price_usd_per_gpu_hour": value,
            "pricing_class": "on_demand",
            "region": None,
            "available_units": None,
            "tier": "T3",
            "price_basis": "bundled",
            "currency": "USD",
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }


SOURCE = Hyperstack()
