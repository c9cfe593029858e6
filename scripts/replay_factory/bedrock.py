"""AWS Price List bulk offer files for Amazon Bedrock, one per offer and region.

``AmazonBedrock`` carries Amazon's and openly licensed models (attribute ``model``, price per
``1K tokens``); ``AmazonBedrockFoundationModels`` the marketplace models (attribute ``servicename``,
unit ``Units`` priced per million tokens, regional-CRIS and ``_Global`` usage types).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import datetime
from typing import Any

from index import canonical
from index.replay import RecordedResponse
from scripts.replay_factory._token_catalog import Model, Offer, models, pick
from sources.bedrock import REGIONS, model_key, offer_url

SOURCE = "bedrock"
EVERY_HOURS = 24  # list prices
MARKETPLACE_MAKERS = {"anthropic", "cohere", "ai21", "writer", "moonshotai", "x-ai", "openai"}
LOCATIONS = {"us-east-1": ("US East (N. Virginia)", "USE1"), "us-west-2": ("US West (Oregon)", "USW2"),
             "eu-central-1": ("EU (Frankfurt)", "EUC1")}
PUBLISHED = "2026-11-18T21:04:11Z"


def _sku(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16].upper()


def _name(m: Model, o: Offer) -> str:
    """A display name as AWS writes it, that maps back to the model (checked, else derived from the id)."""
    candidates = [m.display_name, " ".join(w.capitalize() for w in m.id.split("/")[-1].split("-"))]
    bare = re.sub(r"^(?:[a-z]{2,6}\.)?[a-z0-9]+\.", "", o.key)  # us.anthropic.claude-x -> claude-x
    bare = re.sub(r"(?:-v\d+:\d+|-\d+:\d+|-v\d+)$", "", bare)
    candidates.append(" ".join(w.capitalize() if not w[0].isdigit() else w.upper() for w in bare.split("-")))
    for name in candidates:
        if canonical.token_model(model_key(name)) == m.id:
            return name
    return bare


def _product(sku: str, family: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"sku": sku, "productFamily": family, "attributes": attrs}


def _term(sku: str, unit: str, usd: float, description: str) -> dict[str, Any]:
    code = f"{sku}.JRTCKXETXF"
    return {code: {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
                   "priceDimensions": {f"{code}.6YS6EN2CT7": {
                       "rateCode": f"{code}.6YS6EN2CT7", "description": description, "beginRange": "0",
                       "endRange": "Inf", "unit": unit, "pricePerUnit": {"USD": f"{usd:.10f}"}, "appliesTo": []}},
                   "termAttributes": {}}}


def _offers_by_model() -> list[tuple[Model, Offer, Offer | None]]:
    """(model, in-region offer, geo/global offer) for each model Bedrock serves in the catalogue."""
    out = []
    for m in models():
        offers = m.offers_by("bedrock_converse")
        if not offers or (not canonical.is_known_model(m.id) and not pick(m.id, 0.5)):
            continue  # all flagship models, half of the others: enough for the snapshot
        base = [o for o in offers if not o.key.startswith(("us.", "eu.", "global."))]
        geo = [o for o in offers if o.key.startswith(("us.", "eu.", "global."))]
        out.append((m, (base or geo)[0], geo[0] if geo and base else None))
    return out


def _amazon_bedrock(region: str) -> dict[str, Any]:
    location, code = LOCATIONS[region]
    products: dict[str, Any] = {}
    terms: dict[str, Any] = {}
    for m, o, _ in _offers_by_model():
        if m.id.split("/")[0] in MARKETPLACE_MAKERS and not m.id.startswith("openai/gpt-oss"):
            continue
        name = _name(m, o)
        camel = re.sub(r"[^A-Za-z0-9.]", "", name.title())
        rows = [("Input tokens", "input-tokens", o.inp), ("Output tokens", "output-tokens", o.out)]
        if o.cached:
            rows.append(("Cache read input tokens", "cache-read-input-tokens", o.cached))
        rows.append(("Input tokens", "input-tokens-batch", o.inp / 2))  # batch: another product
        for itype, suffix, usd in rows:
            sku = _sku("AmazonBedrock", region, name, suffix)
            feature = "Batch Inference" if suffix.endswith("batch") else "On-demand Inference"
            products[sku] = _product(sku, "Amazon Bedrock", {
                "servicecode": "AmazonBedrock", "location": location, "locationType": "AWS Region",
                "usagetype": f"{code}-{camel}-{suffix}", "operation": "Usage", "model": name,
                "feature": feature, "inferenceType": itype, "regionCode": region, "servicename": "Amazon Bedrock"})
            terms[sku] = _term(sku, "1K tokens", usd / 1000, f"${usd / 1000:.6g} per 1K {itype.lower()} for {name}")
    return {"formatVersion": "v1.0", "disclaimer": "This pricing list is for informational purposes only.",
            "offerCode": "AmazonBedrock", "version": "20261118210411", "publicationDate": PUBLISHED,
            "products": products, "terms": {"OnDemand": terms}}


def _foundation_models(region: str) -> dict[str, Any]:
    location, code = LOCATIONS[region]
    products: dict[str, Any] = {}
    terms: dict[str, Any] = {}
    for m, o, geo in _offers_by_model():
        if m.id.split("/")[0] not in MARKETPLACE_MAKERS or m.id.startswith("openai/gpt-oss"):
            continue
        service = f"{_name(m, o)} (Amazon Bedrock Edition)"
        regional = geo or o  # a geo (cross-region) profile's price is the regional CRIS price
        rows = [("InputTokenCount", "Million Input Tokens Regional CRIS", regional.inp),
                ("OutputTokenCount", "Million Response Tokens Regional CRIS", regional.out),
                ("InputTokenCount_Global", "Million Input Tokens Global", o.inp),
                ("OutputTokenCount_Global", "Million Response Tokens Global", o.out)]
        if o.cached:
            rows.append(("CacheReadInputTokenCount_Global", "Million Cache Read Input Tokens Global", o.cached))
        rows.append(("InputTokenCount_Batch", "Million Input Tokens Batch", o.inp / 2))
        for usage, desc, usd in rows:
            sku = _sku("AmazonBedrockFoundationModels", region, service, usage)
            products[sku] = _product(sku, "Bedrock Foundation Models", {
                "servicecode": "AmazonBedrockFoundationModels", "location": location, "locationType": "AWS Region",
                "usagetype": f"{code}-MP:{code}_{usage}-Units", "operation": "Usage", "servicename": service,
                "regionCode": region})
            terms[sku] = _term(sku, "Units", usd, f"AWS Marketplace software usage|{region}|{desc}")
    return {"formatVersion": "v1.0", "disclaimer": "This pricing list is for informational purposes only.",
            "offerCode": "AmazonBedrockFoundationModels", "version": "20261118210411", "publicationDate": PUBLISHED,
            "products": products, "terms": {"OnDemand": terms}}


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    out = []
    for offer, build in (("AmazonBedrock", _amazon_bedrock), ("AmazonBedrockFoundationModels", _foundation_models)):
        for region in REGIONS:
            body = json.dumps(build(region), separators=(",", ":")).encode()
            out.append(RecordedResponse(SOURCE, "GET", offer_url(offer, region), 200,
                                        {"content-type": "application/json"}, body,
                                        meta={"offer": offer, "region": region}))
    return out
