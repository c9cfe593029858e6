"""Amazon Bedrock token prices from the AWS Price List bulk offer files (venue ``aws``).

Two public offers hold Bedrock's model prices, one file per region:

* ``AmazonBedrock`` (Amazon's and openly licensed models: Nova, Llama, Mistral, DeepSeek, Qwen,
  gpt-oss...): product attributes ``model`` (``Llama 3.3 70B Instruct``), ``feature``
  (``On-demand Inference``, ``Batch Inference``, ``Provisioned Throughput``...), ``inferenceType``
  (``Input tokens``, ``Output tokens``, ``Cache read input tokens``...) and ``usagetype``
  (``USE1-Llama3.3-70B-input-tokens``); prices per ``1K tokens``.
* ``AmazonBedrockFoundationModels`` (marketplace models: Claude, Cohere, AI21, Kimi, Grok...):
  ``servicename`` (``Claude Sonnet 4.5 (Amazon Bedrock Edition)``) and ``usagetype``
  (``USE1-MP:USE1_InputTokenCount-Units``, ``..._OutputTokenCount_Global-Units``...); unit
  ``Units`` with a description in ``Million ... Tokens``: prices per 1M tokens.

A bulk file is ``{"offerCode", "version", "publicationDate", "products": {sku: {"attributes"}},
"terms": {"OnDemand": {sku: {term: {"priceDimensions": {rate: {"unit", "pricePerUnit": {"USD"}}}}}}}}``.
Each unit is converted to USD per million tokens (1K tokens x 1000; tokens x 1e6; Million: as is);
an unknown unit quarantines the row. Input, output and cached-input SKUs of one model, region and
deployment (``regional`` or ``global`` cross-region inference) are paired into one row. Batch,
provisioned, priority, flex, latency-optimized, long-context and cache-write SKUs are other
products and are not read.
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
from sources.base import CATALOG_MAX_AGE, RawResponse, Source, as_float, request, time_problem

BASE = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws"
OFFERS = ("AmazonBedrock", "AmazonBedrockFoundationModels")
REGIONS = ("us-east-1", "us-west-2", "eu-central-1")

EXCLUDED = re.compile(r"batch|flex|priority|latency|provisioned|reserved|longcontext|long-context|cache-?write|"
                      r"customi[sz]ation|custom-model|crossgeo", re.IGNORECASE)
FM_USAGE = re.compile(r"_(?P<dir>Input|Output|CacheReadInput)TokenCount(?P<glob>_Global)?-Units$"
                      r"|_(?P<dir2>input|output|cache_read_input)_tokens_(?P<glob2>global_)?standard-Units$")


def offer_url(offer: str, region: str) -> str:
    return f"{BASE}/{offer}/current/{region}/index.json"


def unit_factor(unit: str, description: str) -> float | None:
    """Multiplier from the SKU's unit to USD per million tokens; None when the unit is unknown."""
    u, d = unit.strip().lower(), description.lower()
    if u in ("1k tokens", "1k token", "1,000 tokens", "per 1k tokens"):
        return 1_000.0
    if u in ("1m tokens", "1m token", "million tokens") or (u == "units" and "million" in d):
        return 1.0
    if u in ("tokens", "token") or (u == "units" and "thousand" not in d and "token" in d and "million" not in d):
        return 1_000_000.0
    if u == "units" and "thousand" in d:
        return 1_000.0
    return None


def model_key(name: str) -> str:
    """``Claude Sonnet 4.5 (Amazon Bedrock Edition)`` -> ``claude-sonnet-4.5``; canonical.token_model
    does the rest (family prefixes give the maker; models.toml lists Bedrock's odd names)."""
    name = re.sub(r"\s*\((?:Amazon Bedrock Edition|Bedrock Edition)\)\s*$", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+", "-", name.strip().lower())


@dataclass
class _Group:
    name: str
    region: str
    deployment: str
    resp: RawResponse | None = None  # the file the group's first SKU came from
    currency: str = "USD"
    prices: dict[str, float | None] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


class Bedrock(Source):
    name = "bedrock"
    kind = "token"
    description = "Amazon Bedrock on-demand token prices (AWS Price List bulk files, per 1K / 1M tokens)"
    venues = ("aws",)
    parser_checked = "2026-11-21"  # against price-list items quoted in public code (no shared fixture)
    timeout_s = 120.0

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out = []
        for offer in OFFERS:
            for region in REGIONS:
                out.append(await request(client, self.name, "GET", offer_url(offer, region),
                                         meta={"offer": offer, "region": region}))
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        # One group per model, region and deployment across all files: a region's SKUs never count twice.
        groups: dict[tuple[str, str, str], _Group] = {}
        for resp in raw:
            self._read_offer(resp, groups, observed_at)
        rows = [self._row(g, observed_at) for g in groups.values()]
        if not rows:
            return empty_frame(TOKEN_PRICE_SCHEMA)
        return rows_frame(rows, TOKEN_PRICE_SCHEMA)

    def _read_offer(self, resp: RawResponse, groups: dict[tuple[str, str, str], _Group], observed_at: datetime
                    ) -> None:
        payload = resp.json()
        if not isinstance(payload, dict):
            raise SourceError(self.name, f"expected an offer file object, got {type(payload).__name__}",
                              field="<body>", url=resp.url)
        for key in ("products", "terms"):
            if not isinstance(payload.get(key), dict):
                raise SourceError(self.name, f"missing or not an object; file has {sorted(payload)[:8]}", field=key,
                                  url=resp.url)
        products: dict[str, Any] = payload["products"]
        on_demand = payload["terms"].get("OnDemand")
        if not isinstance(on_demand, dict):
            raise SourceError(self.name, "missing or not an object", field="terms.OnDemand", url=resp.url)
        if not products:
            raise SourceError(self.name, "the offer file lists no products", field="products", url=resp.url)
        offer = str(payload.get("offerCode") or resp.meta.get("offer") or "")
        stale = time_problem(payload.get("publicationDate"), observed_at, "offer file publicationDate", CATALOG_MAX_AGE)
        for sku, product in products.items():
            attrs = product.get("attributes") if isinstance(product, dict) else None
            if not isinstance(attrs, dict):
                continue
            picked = self._classify(offer, attrs)
            if picked is None:
                continue
            name, direction, deployment = picked
            region = str(attrs.get("regionCode") or resp.meta.get("region") or "")
            g = groups.setdefault((name, region, deployment), _Group(name, region, deployment, resp=resp))
            if stale and stale not in g.reasons:
                g.reasons.append(stale)
            dim = self._dimension(on_demand.get(sku))
            if dim is None:
                g.reasons.append(f"{direction}: SKU {sku} has no on-demand price")
                continue
            unit, desc, amounts, effective = dim
            if future := time_problem(effective, observed_at, "term effectiveDate", None,
                                      "not yet the price in effect"):
                g.reasons.append(f"{direction}: {future}")
                continue
            currency, amount = ("USD", amounts["USD"]) if "USD" in amounts else next(iter(amounts.items()))
            if currency != "USD":
                g.currency = currency  # left as the raw code: validate quarantines it
            factor = unit_factor(unit, desc)
            if factor is None:
                g.reasons.append(f"{direction}: unknown unit {unit!r}")
                continue
            value, reason = price(amount, f"{direction} pricePerUnit", factor)
            if reason:
                g.reasons.append(reason)
            if direction not in g.prices or g.prices[direction] is None:
                g.prices[direction] = value

    @staticmethod
    def _classify(offer: str, attrs: dict[str, Any]) -> tuple[str, str, str] | None:
        """(model name, input|output|cached, regional|global) for a token SKU in scope, else None."""
        usage = str(attrs.get("usagetype") or "")
        if EXCLUDED.search(usage):
            return None
        if offer == "AmazonBedrockFoundationModels" or ("servicename" in attrs and "model" not in attrs):
            m = FM_USAGE.search(usage)
            name = attrs.get("servicename")
            if not m or not isinstance(name, str):
                return None
            kind = (m.group("dir") or m.group("dir2") or "").lower()
            direction = {"input": "input", "output": "output"}.get(kind, "cached")
            return name, direction, "global" if (m.group("glob") or m.group("glob2")) else "regional"
        if attrs.get("feature") != "On-demand Inference":
            return None
        name = attrs.get("model") or attrs.get("titanModel")
        itype = str(attrs.get("inferenceType") or "").lower()
        if not isinstance(name, str) or "image" in itype or "video" in itype or "speech" in itype:
            return None
        if "cache" in itype and "read" in itype:
            direction = "cached"
        elif "input" in itype and "token" in itype:
            direction = "input"
        elif "output" in itype and "token" in itype:
            direction = "output"
        else:
            return None
        return name, direction, "global" if "global" in usage.lower() else "regional"

    @staticmethod
    def _dimension(terms: Any) -> tuple[str, str, dict[str, Any], Any] | None:
        """(unit, description, pricePerUnit, the term's effectiveDate) of the first priced dimension."""
        if not isinstance(terms, dict):
            return None
        for term in terms.values():
            dims = term.get("priceDimensions") if isinstance(term, dict) else None
            for dim in (dims or {}).values():
                amounts = dim.get("pricePerUnit") if isinstance(dim, dict) else None
                if isinstance(amounts, dict) and amounts:
                    return (str(dim.get("unit") or ""), str(dim.get("description") or ""), amounts,
                            term.get("effectiveDate"))
        return None

    def _row(self, g: _Group, observed_at: datetime) -> dict[str, Any]:
        assert g.resp is not None
        inp, out, cached = g.prices.get("input"), g.prices.get("output"), g.prices.get("cached")
        reasons: list[str | None] = list(g.reasons)
        if inp is None and out is None and not reasons:
            reasons.append("no input or output token SKU")
        label = f"{g.name} @ {g.region}" + (" (global)" if g.deployment == "global" else "")
        return token_row(source=self.name, provider="aws", model_key=model_key(g.name), source_model_id=label,
                         observed_at=observed_at, resp=g.resp, inp=inp, out=out,
                         cached=cached if as_float(cached) else None, currency=g.currency, reasons=reasons)


SOURCE = Bedrock()
