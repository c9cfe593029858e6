"""Azure OpenAI (Foundry Models) token prices from the Azure Retail Prices API (venue ``azure``).

``GET https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&$filter=...``
(public, no key) answers ``{"BillingCurrency", "Items": [...], "NextPageLink", "Count"}``; pages of
up to 1000 items are followed through ``NextPageLink`` until it is null. Token meters live under
``serviceName`` ``Foundry Models`` (products ``Azure OpenAI``, ``Azure OpenAI GPT5``, ``Azure OpenAI
Reasoning``, ``Azure OpenAI OSS Models``, ``Azure Deepseek Models``, ``Azure Grok Models``...).

A meter is one direction of one model in one region and deployment type, named in
abbreviations: ``gpt 4o 1120 Inp glbl Tokens``, ``gpt 4o 1120 cached Inp glbl Tokens``,
``o4-mini 0416 Outp DZone Tokens``, ``5.5 ShortCo inp Gl 1M Tokens``, ``V4 Pro Inp DZ Tokens``.
``unitOfMeasure`` is ``1K`` (retailPrice per 1,000 tokens: x 1000) or ``1M`` (per million, as is):
both occur within one product, so the unit is read per meter. Input, output and cached-input
meters of one model, region and deployment type (``global``, ``datazone``, ``regional``) are
paired into one row. Batch, priority, provisioned, fine-tuning, hosting, realtime, audio and
image meters are other products and are not read; Windows-style ``DevTestConsumption`` and
``Reservation`` price types neither.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index.errors import SourceError
from index.schemas import TOKEN_PRICE_SCHEMA, empty_frame, rows_frame
from sources._tokens import price, token_row
from sources.base import RawResponse, Source, as_float, request, require_field_somewhere, require_list, time_problem

API = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"  # 1000 items a page (100 without)
REGIONS = ("eastus", "eastus2", "swedencentral")
FILTER = "serviceName eq 'Foundry Models' and (" + " or ".join(f"armRegionName eq '{r}'" for r in REGIONS) + ")"
MAX_PAGES = 200
UNIT_FACTOR = {"1k": 1_000.0, "1m": 1.0, "1k tokens": 1_000.0, "1m tokens": 1.0}

INPUT = {"inp", "input", "inpt", "in"}
OUTPUT = {"outp", "output", "outpt", "opt", "out"}
CACHED = {"cchd", "cached", "cch", "cd", "cache"}
DEPLOYMENT = {"glbl": "global", "gl": "global", "glb": "global", "global": "global",
              "dz": "datazone", "dzn": "datazone", "dzone": "datazone", "datazone": "datazone",
              "regnl": "regional", "rgnl": "regional", "regional": "regional", "reg": "regional"}
OTHER_PRODUCTS = {"batch", "ft", "grdr", "hosting", "training", "train", "rt", "realtime", "aud", "audio", "img",
                  "image", "trscb", "trans", "tts", "whisper", "session", "calls", "megapixel", "unit", "pp",
                  "priority", "longco", "flex", "provisioned", "ptu", "wr", "write", "embedding", "embed", "emb",
                  "sora", "dalle", "video"}
NOISE = {"tokens", "token", "1m", "1k", "std", "shortco", "standard"}
# productName fragment -> maker namespace of its models
MAKERS = (("openai", "openai"), ("gpt", "openai"), ("deepseek", "deepseek"), ("grok", "x-ai"),
          ("llama", "meta-llama"), ("phi", "microsoft"), ("mai ", "microsoft"), ("mistral", "mistralai"),
          ("cohere", "cohere"), ("kimi", "moonshotai"), ("moonshot", "moonshotai"), ("qwen", "qwen"))


def first_url() -> str:
    return str(httpx.URL(API, params={"api-version": API_VERSION, "$filter": FILTER}))


@dataclass
class Meter:
    """What a meter name says: model key, direction, deployment type (None: not a token price)."""

    model: str
    direction: str
    deployment: str


def read_meter(name: str, product: str) -> Meter | None:
    """Decode ``gpt 4o 1120 cached Inp glbl Tokens`` -> Meter('openai/gpt-4o-1120', 'cached', 'global')."""
    words = [w for w in re.split(r"[\s\-_/]+", name.lower()) if w]
    if not words or words[-1] not in ("tokens", "token") or set(words) & OTHER_PRODUCTS:
        return None
    ws = set(words)
    if ws & CACHED and ws & INPUT:
        direction = "cached"
    elif ws & INPUT:
        direction = "input"
    elif ws & OUTPUT:
        direction = "output"
    else:
        return None
    deployment = next((DEPLOYMENT[w] for w in words if w in DEPLOYMENT), "regional")
    kept = [w for w in words if w not in INPUT | OUTPUT | CACHED | NOISE and w not in DEPLOYMENT]
    if not kept:
        return None
    key = "-".join(kept)
    prod = product.lower()
    maker = next((m for frag, m in MAKERS if frag in prod), None)
    if maker == "openai" and key[0].isdigit():
        key = f"gpt-{key}"  # 'Azure OpenAI GPT5' meters: '5.4 inp Gl' is GPT-5.4
    if maker == "deepseek" and not key.startswith("deepseek"):
        key = f"deepseek-{key}"  # 'Azure Deepseek Models' meters: 'V4 Pro Inp' is DeepSeek-V4-Pro
    return Meter(f"{maker}/{key}" if maker else key, direction, deployment)


@dataclass
class _Group:
    product: str
    meter_model: str
    deployment: str
    region: str
    resp: RawResponse | None = None  # the page the group's first meter came from
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # direction -> why its only meter is not yet in effect


def _better(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Of two meters for the same slot: the first price tier, then the latest effective date."""
    nt, ot = as_float(new.get("tierMinimumUnits")) or 0.0, as_float(old.get("tierMinimumUnits")) or 0.0
    if nt != ot:
        return nt < ot
    return str(new.get("effectiveStartDate") or "") > str(old.get("effectiveStartDate") or "")


class AzureOpenAI(Source):
    name = "azure_openai"
    kind = "token"
    description = "Azure OpenAI / Foundry Models token meters (Azure Retail Prices API, per 1K or 1M tokens)"
    venues = ("azure",)
    parser_checked = "2026-11-21"  # against Foundry Models meters quoted in public code; envelope: shared fixture
    timeout_s = 120.0

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out: list[RawResponse] = []
        url: str | None = first_url()
        seen: set[str] = set()
        while url:
            if url in seen or len(out) >= MAX_PAGES:
                raise SourceError(self.name, f"pagination does not end after {len(out)} pages", field="NextPageLink",
                                  url=url)
            seen.add(url)
            resp = await request(client, self.name, "GET", url, meta={"page": str(len(out) + 1)})
            out.append(resp)
            payload = resp.json()
            url = payload.get("NextPageLink") if isinstance(payload, dict) else None
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        groups: dict[tuple[str, str, str, str], _Group] = {}
        for resp in raw:
            items = require_list(self.name, resp.json(), "Items", resp.url)
            require_field_somewhere(self.name, items, ("meterName", "retailPrice", "unitOfMeasure"), resp.url)
            for item in items:
                if not isinstance(item, dict):
                    continue
                if item.get("type", "Consumption") != "Consumption":
                    continue  # Reservation, DevTestConsumption
                meter = read_meter(str(item.get("meterName") or item.get("skuName") or ""),
                                   str(item.get("productName") or ""))
                if meter is None:
                    continue
                key = (str(item.get("productName") or ""), meter.model, meter.deployment,
                       str(item.get("armRegionName") or ""))
                g = groups.setdefault(key, _Group(*key, resp=resp))
                if future := time_problem(item.get("effectiveStartDate"), observed_at, "effectiveStartDate", None,
                                          "not yet the price in effect"):
                    g.pending.setdefault(meter.direction, f"{meter.direction} meter: {future}")
                    continue  # a scheduled price: the one in effect (if listed) is the price
                old = g.items.get(meter.direction)
                if old is None or _better(item, old):
                    g.items[meter.direction] = item
        rows = [self._row(g, observed_at) for g in groups.values()]
        if not rows:
            return empty_frame(TOKEN_PRICE_SCHEMA)
        return rows_frame(rows, TOKEN_PRICE_SCHEMA)

    def _row(self, g: _Group, observed_at: datetime) -> dict[str, Any]:
        assert g.resp is not None
        prices: dict[str, float | None] = {}
        reasons: list[str | None] = []
        currency = "USD"
        for direction in ("input", "output", "cached"):
            item = g.items.get(direction)
            if item is None:
                if direction in g.pending and direction != "cached":
                    reasons.append(g.pending[direction])
                continue
            unit = str(item.get("unitOfMeasure") or "").strip().lower()
            factor = UNIT_FACTOR.get(unit)
            if factor is None:
                reasons.append(f"{direction} meter '{item.get('meterName')}': unknown unitOfMeasure {unit!r}")
                continue
            value, reason = price(item.get("retailPrice"), f"{direction} retailPrice", factor)
            prices[direction] = value
            if direction != "cached":
                reasons.append(reason)
            code = item.get("currencyCode")
            if isinstance(code, str) and code and code != "USD":
                currency = code
        if prices.get("input") is None and prices.get("output") is None and not any(reasons):
            reasons.append("only a cached-input meter: no input or output price")
        label = f"{g.product}: {g.meter_model.split('/')[-1]} [{g.deployment}] {g.region}"
        return token_row(source=self.name, provider="azure", model_key=g.meter_model, source_model_id=label,
                         observed_at=observed_at, resp=g.resp, inp=prices.get("input"), out=prices.get("output"),
                         cached=prices.get("cached"), currency=currency, reasons=reasons)


SOURCE = AzureOpenAI()
