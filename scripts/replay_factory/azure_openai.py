"""Azure Retail Prices API pages for the Foundry Models token meters (per 1K or per 1M tokens).

Meter names follow Azure's abbreviations (``gpt 4o 1120 Inp glbl Tokens``, ``5.4 inp Gl 1M Tokens``,
``V4 Pro Outp DZone Tokens``); the GPT-5/6 products meter per 1M tokens, the others per 1K.
Pages of 200 items are chained through ``NextPageLink`` ($skip), as the API does.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime
from typing import Any

import httpx

from index import canonical
from index.replay import RecordedResponse
from scripts.replay_factory._token_catalog import Model, Offer, models
from sources.azure_openai import API, API_VERSION, FILTER, REGIONS, first_url

SOURCE = "azure_openai"
EVERY_HOURS = 24  # list prices
PAGE = 200
SKIP = ("-chat", "gpt-5.6", "gpt-4-1106", "gpt-3.5", "gpt-4", "o1")  # keep the snapshot small: older or alias SKUs
KEEP = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5.6-sol", "gpt-5.6-terra",
        "gpt-5.6-luna")
LOCATIONS = {"eastus": "US East", "eastus2": "US East 2", "swedencentral": "Sweden Central"}
DATES = {"gpt-4o": "1120", "gpt-4o-2024-05-13": "0513", "gpt-4o-mini": "0718", "o1": "1217", "o3": "0416",
         "o3-mini": "0131", "o4-mini": "0416", "gpt-4-turbo": "0409", "gpt-3.5-turbo": "0125"}
PARTNERS = {"deepseek": "Azure Deepseek Models", "x-ai": "Azure Grok Models", "meta-llama": "Azure Llama Models",
            "microsoft": "Azure Phi Models", "mistralai": "Azure Mistral Models", "moonshotai": "Azure Kimi Models",
            "cohere": "Cohere Models"}
REGIONAL_ONLY = {"Azure Llama Models", "Azure Phi Models"}  # regional deployments in a few regions


def _openai_meter(bare: str) -> tuple[str, str, str] | None:
    """(product, meter model words, unit) for an OpenAI model on Azure."""
    if bare.startswith(("gpt-5", "gpt-6")):
        product = "Azure OpenAI GPT6" if bare.startswith("gpt-6") else "Azure OpenAI GPT5"
        if bare in ("gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5-chat"):
            return product, "GPT " + bare.removeprefix("gpt-").replace("-", " "), "1M"
        words = bare.removeprefix("gpt-")
        return product, words + (" ShortCo" if words[:3] in ("5.5", "5.6", "6-s", "6-l", "6-a", "6.1") else ""), "1M"
    if bare.startswith("gpt-oss"):
        return "Azure OpenAI OSS Models", bare.replace("b", "B"), "1K"
    if bare.startswith(("o1", "o3", "o4")):
        date = DATES.get(bare)
        return "Azure OpenAI Reasoning", bare.replace("o3-mini", "o3 mini") + (f" {date}" if date else ""), "1K"
    if bare.startswith(("gpt-4", "gpt-3.5")):
        base = bare.removesuffix("-2024-05-13")
        words = base.replace("gpt-3.5", "gpt 35").replace("gpt-", "gpt ").replace("-", " ")
        date = DATES.get(bare)
        return "Azure OpenAI", words + (f" {date}" if date else ""), "1K"
    return None


def _partner_meter(m: Model, o: Offer) -> tuple[str, str, str] | None:
    maker = m.id.split("/")[0]
    product = PARTNERS.get(maker)
    if product is None:
        return None
    native = o.native_id
    if maker == "deepseek":
        native = native.lower().removeprefix("deepseek-")
        words = native.upper().replace("-", " ")
    elif maker in ("meta-llama", "microsoft"):
        words = native  # 'Llama-3.3-70B-Instruct-Input Tokens', 'Phi-4-Input Tokens'
    else:
        words = native.lower().removeprefix("cohere-").replace("-", " ").title()
    return product, words, "1K"


def _item(product: str, meter: str, region: str, usd_per_m: float, unit: str, kind: str = "Consumption",
          ) -> dict[str, Any]:
    digest = hashlib.sha256(f"{product}|{meter}|{region}|{kind}".encode()).hexdigest()
    price = usd_per_m / 1000 if unit == "1K" else usd_per_m
    price = float(f"{price:.6g}")
    return {
        "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price, "unitPrice": price,
        "armRegionName": region, "location": LOCATIONS[region], "effectiveStartDate": "2026-06-01T00:00:00Z",
        "meterId": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
        "meterName": meter, "productId": "DZH318Z0" + digest[32:36].upper(),
        "skuId": "DZH318Z0" + digest[32:36].upper() + "/" + digest[36:40].upper(),
        "productName": product, "skuName": meter.removesuffix(" Tokens"), "serviceName": "Foundry Models",
        "serviceId": "DZH3135W70WD", "serviceFamily": "AI + Machine Learning", "unitOfMeasure": unit,
        "type": kind, "isPrimaryMeterRegion": True, "armSkuName": "",
    }


def _meters(product: str, words: str, unit: str, deployment: str, inp: float, out: float,
            cached: float | None) -> list[tuple[str, float]]:
    tail = " 1M Tokens" if unit == "1M" else " Tokens"
    if product in REGIONAL_ONLY:
        out_list = [(f"{words}-Input{tail}", inp), (f"{words}-Output{tail}", out)]
        return out_list
    tag = {"global": "glbl", "datazone": "DZone", "regional": "regnl"}[deployment]
    if unit == "1M":
        tag = {"global": "Gl", "datazone": "Dz", "regional": "Rgnl"}[deployment]
    res = [(f"{words} Inp {tag}{tail}", inp), (f"{words} Outp {tag}{tail}", out)]
    if cached:
        res.append((f"{words} cached Inp {tag}{tail}", cached))
    return res


def items() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in models():
        if not canonical.is_known_model(m.id):
            continue  # the flagship models of models.toml are enough for the snapshot
        maker, bare = m.id.split("/", 1)
        spec = None
        prices: dict[str, tuple[float, float, float | None]] = {}
        if maker == "openai":
            if bare.startswith(SKIP) and bare not in KEEP and not bare.startswith("gpt-4o"):
                continue
            spec = _openai_meter(bare)
            for o in m.offers_by("azure"):
                deployment = "datazone" if o.key.startswith(("azure/eu/", "azure/us/")) else "global"
                prices.setdefault(deployment, (o.inp, o.out, o.cached))
            if "datazone" in prices and bare in DATES:  # older models also sell regional deployments
                prices["regional"] = prices["datazone"]
        else:
            offers = m.offers_by("azure_ai")
            if offers:
                spec = _partner_meter(m, offers[0])
                o = offers[0]
                prices["global"] = (o.inp, o.out, o.cached)
                if spec and spec[0] not in REGIONAL_ONLY:
                    prices["datazone"] = (round(o.inp * 1.1, 6), round(o.out * 1.1, 6),
                                          round(o.cached * 1.1, 6) if o.cached else None)
        if spec is None or not prices:
            continue
        product, words, unit = spec
        regions = ("eastus2", "swedencentral") if product in REGIONAL_ONLY else REGIONS
        for deployment, (inp, outp, cached) in sorted(prices.items()):
            if product in REGIONAL_ONLY and deployment != "global":
                continue
            for region in regions:
                if deployment == "datazone" and region == "eastus":
                    continue  # one US and one EU data zone region are enough for the snapshot
                for meter, usd in _meters(product, words, unit, deployment, inp, outp, cached):
                    out.append(_item(product, meter, region, usd, unit))
        if bare in ("gpt-4o", "gpt-4.1", "o3"):  # batch meters and a reservation: other products
            out.append(_item(product, f"{words} Batch Inp glbl Tokens", "eastus", prices["global"][0] / 2, unit))
            out.append(_item(product, f"{words} Inp glbl Tokens", "eastus", prices["global"][0] * 0.6, unit,
                             kind="Reservation"))
    out.append(_item("Azure OpenAI", "gpt4o-mini-rt-aud Inp glbl Tokens", "eastus", 10.0, "1K"))
    out.append(_item("Azure OpenAI", "gpt 4o Provisioned Managed Global", "eastus", 1.0, "1 Hour"))
    return sorted(out, key=lambda i: (i["productName"], i["meterName"], i["armRegionName"]))


def _page_url(skip: int) -> str:
    if skip == 0:
        return first_url()
    return str(httpx.URL(API, params={"api-version": API_VERSION, "$filter": FILTER, "$skip": skip}))


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    all_items = items()
    out = []
    for skip in range(0, len(all_items), PAGE):
        page = all_items[skip:skip + PAGE]
        nxt = _page_url(skip + PAGE) if skip + PAGE < len(all_items) else None
        body = {"BillingCurrency": "USD", "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
                "Items": page, "NextPageLink": nxt, "Count": len(page)}
        out.append(RecordedResponse(SOURCE, "GET", _page_url(skip), 200, {"content-type": "application/json"},
                                    json.dumps(body, separators=(",", ":")).encode(),
                                    meta={"page": str(skip // PAGE + 1)}))
    return out
