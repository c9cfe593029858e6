"""Verda Cloud (formerly DataCrunch): instance types with on-demand and spot prices.

API (``https://api.verda.com/v1``), OAuth2 client credentials:

1. ``POST /oauth2/token`` with JSON ``{"grant_type": "client_credentials", "client_id",
   "client_secret"}`` -> ``{"access_token", "token_type": "Bearer", "expires_in", ...}``;
2. ``GET /instance-types`` -> a list of types (``instance_type`` ``1H100.80S.30V``, ``gpu``
   ``{description: "1x H100 SXM5 80GB", number_of_gpus}``, ``price_per_hour`` and ``spot_price``
   as STRINGS in USD per INSTANCE-hour, ``currency`` ``"usd"``);
3. ``GET /instance-availability`` and ``GET /instance-availability?is_spot=true`` ->
   ``[{location_code, availabilities: [instance type, ...]}]``: which types can be launched
   where right now, on-demand and spot.

Two credentials: the Source base class knows one ``key_env``. Here ``key_env`` is the
secret, ``SPOTINDEX_VERDA_CLIENT_SECRET``, and ``client_id_env`` the id,
``SPOTINDEX_VERDA_CLIENT_ID``; ``missing_key()`` is true unless BOTH are set (the source is
skipped, not failed), ``key_envs`` lists both for tools and tests. Without credentials
(replay) fetch requests no token and sends no Authorization header. The token and the
credentials never reach a RawResponse: the token response is not kept (fetch returns only
the price and availability responses) and request bodies are redacted by the framework.

Rows (venue ``verda``, a neocloud): per GPU type, ``on_demand`` from ``price_per_hour`` and
``spot`` from ``spot_price``; prices are the same in every location, so each class gives one
row per location where the type is available (tier T2, ``available_units`` = its GPUs, a
lower bound) or, when it is available nowhere, one row with ``region`` null, 0 units, tier
T3 (null units if that class's availability was not recorded). Per-GPU = price /
``gpu.number_of_gpus``. The GPU is ``gpu.description`` without its ``Nx`` prefix
(``H100 SXM5 80GB``), else ``name``. CPU-only types (0 GPUs) are left out. A currency other
than USD is kept as the raw upper-cased code and quarantined by validation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list

BASE = "https://api.verda.com/v1"
TOKEN_URL = f"{BASE}/oauth2/token"
TYPES_URL = f"{BASE}/instance-types"
AVAILABILITY_URL = f"{BASE}/instance-availability"
REQUIRED = ("instance_type", "price_per_hour", "gpu")
COUNT_PREFIX = re.compile(r"^\s*\d+\s*x\s*", re.IGNORECASE)

def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (missing nested objects read as empty)."""
    return value if isinstance(value, dict) else {}



def availability_params(spot: bool) -> dict[str, str] | None:
    return {"is_spot": "true"} if spot else None


class Verda(Source):
    name = "verda"
    kind = "gpu"
    description = "Verda (ex-DataCrunch) instance types: on-demand and spot prices, availability per location"
    key_env = "SPOTINDEX_VERDA_CLIENT_SECRET"
    client_id_env: ClassVar[str] = "SPOTINDEX_VERDA_CLIENT_ID"
    key_envs: ClassVar[tuple[str, ...]] = ("SPOTINDEX_VERDA_CLIENT_ID", "SPOTINDEX_VERDA_CLIENT_SECRET")
    venues = ("verda",)
    parser_checked = "2026-08-19"  # gpuhunt's Verda fixtures (real field names and types)

    def client_id(self) -> str | None:
        return os.environ.get(self.client_id_env) or None

    def api_key(self) -> str | None:
        """The client secret (the credential a leak would matter for)."""
        return os.environ.get(self.key_env) or None

    def missing_key(self) -> bool:
        return not (self.client_id() and self.api_key())

    async def _token(self, client: httpx.AsyncClient) -> str:
        body = {"grant_type": "client_credentials", "client_id": self.client_id(), "client_secret": self.api_key()}
        resp = await request(client, self.name, "POST", TOKEN_URL, json_body=body, meta={"kind": "token"})
        payload = resp.json()
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            found = sorted(payload)[:8] if isinstance(payload, dict) else type(payload).__name__
            raise SourceError(self.name, f"OAuth token response has no access_token (has {found})",
                              field="access_token", url=resp.url)
        return token

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        headers = None
        if self.client_id() and self.api_key():
            headers = {"Authorization": f"Bearer {await self._token(client)}"}
        out = [await request(client, self.name, "GET", TYPES_URL, headers=headers, meta={"kind": "instance-types"})]
        for spot in (False, True):
            out.append(await request(client, self.name, "GET", AVAILABILITY_URL, params=availability_params(spot),
                                     headers=headers,
                                     meta={"kind": "availability", "spot": "true" if spot else "false"}))
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        types_resp = [r for r in raw if r.meta.get("kind") == "instance-types"
                      or (not r.meta and "instance-types" in r.url)]
        if not types_resp:
            raise SourceError(self.name, "no instance-types response among the recorded responses",
                              field="instance-types")
        # pricing class -> instance type -> locations; a class without an availability response is absent
        where: dict[str, dict[str, list[str]]] = {}
        for resp in raw:
            if resp.meta.get("kind") == "availability" or (not resp.meta and "instance-availability" in resp.url):
                spot = resp.meta.get("spot") == "true" or "is_spot=true" in resp.url
                self._availability(resp, where.setdefault("spot" if spot else "on_demand", {}))
        rows: list[dict[str, Any]] = []
        for resp in types_resp:
            types = require_list(self.name, resp.json(), None, resp.url)
            require_field_somewhere(self.name, types, REQUIRED, resp.url)
            for t in types:
                if not isinstance(t, dict):
                    raise SourceError(self.name, f"instance type is {type(t).__name__}, not an object",
                                      field="[]", url=resp.url)
                rows.extend(self._rows(t, where, resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _availability(self, resp: RawResponse, into: dict[str, list[str]]) -> None:
        locations = require_list(self.name, resp.json(), None, resp.url)
        require_field_somewhere(self.name, locations, ("location_code", "availabilities"), resp.url)
        for loc in locations:
            if not isinstance(loc, dict) or not isinstance(loc.get("availabilities", []), list):
                raise SourceError(self.name, f"availability entry is not {{location_code, availabilities: [...]}}: "
                                             f"{str(loc)[:80]}", field="availabilities", url=resp.url)
            for itype in loc.get("availabilities") or []:
                into.setdefault(str(itype), []).append(str(loc.get("location_code")))

    def _rows(self, t: dict[str, Any], where: dict[str, dict[str, list[str]]], resp: RawResponse,
              observed_at: datetime) -> list[dict[str, Any]]:
        gpu = _obj(t.get("gpu"))
        count_f = as_float(gpu.get("number_of_gpus"))
        if count_f == 0:
            return []  # CPU node
        itype = str(t.get("instance_type") or t.get("id") or "?")
        count = int(count_f) if count_f is not None and count_f == int(count_f) and count_f > 0 else None
        base_problems = [f"missing field {f}" for f in ("instance_type", "gpu") if t.get(f) is None]
        if count is None:
            base_problems.append(f"gpu.number_of_gpus missing or not a count: {gpu.get('number_of_gpus')!r}")
        desc = COUNT_PREFIX.sub("", str(gpu.get("description") or "")).strip()
        model = canonical.gpu_model(desc) if desc else canonical.UNKNOWN_PREFIX
        if model.startswith(canonical.UNKNOWN_PREFIX) and t.get("name"):
            by_name = canonical.gpu_model(t.get("name"))
            model = by_name if not by_name.startswith(canonical.UNKNOWN_PREFIX) or not desc else model
        currency = str(t.get("currency") or "usd").upper()
        rows = []
        for pclass, fname in (("on_demand", "price_per_hour"), ("spot", "spot_price")):
            if fname not in t:
                continue
            value = t.get(fname)
            price = as_float(value)
            problems = list(base_problems)
            if value is None or price == 0:
                problems.append(f"{fname} is {value!r}: not offered (0/null is not a price)")
                price = None
            elif price is None:
                problems.append(f"{fname} is not a number: {value!r}")
            common = {
                "observed_at": observed_at,
                "source": self.name,
                "venue": "verda",
                "venue_class": canonical.venue_class("verda", "neocloud"),
                "gpu_model": model,
                "gpu_count": count,
                "price_usd_per_hour": price,
                "price_usd_per_gpu_hour": price / count if price is not None and count else None,
                "pricing_class": pclass,
                "price_basis": "compute",
                "currency": currency,
                "raw_sha256": resp.sha256,
                "quarantine_reason": "; ".join(problems) or None,
            }
            suffix = ":spot" if pclass == "spot" else ""
            locations = where.get(pclass, {}).get(itype, [])
            if not locations:
                rows.append({**common, "offer_id": f"{itype}{suffix}", "region": None, "tier": "T3",
                             "available_units": 0 if pclass in where else None})
            else:
                rows.extend({**common, "offer_id": f"{itype}{suffix}@{loc}", "region": loc, "available_units": count,
                             "tier": "T2"} for loc in locations)
        return rows


SOURCE = Verda()
