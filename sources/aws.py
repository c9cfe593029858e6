"""AWS EC2 GPU instances: price list bulk offer files (on-demand) and, with credentials, spot.

On-demand (public, no credentials): the per-region EC2 offer file of the AWS Price List Bulk
API, ``GET https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/<region>/index.json``,
for the regions in ``REGIONS`` (``SPOTINDEX_AWS_REGIONS``, comma separated, overrides). The
file is ``{formatVersion, disclaimer, offerCode, version, publicationDate, products: {<sku>:
{sku, productFamily, attributes: {instanceType, operatingSystem, tenancy, preInstalledSw,
capacitystatus, regionCode, ...}}}, terms: {OnDemand: {<sku>: {<sku>.<offerTermCode>:
{priceDimensions: {<rateCode>: {unit: "Hrs", pricePerUnit: {USD: "55.0400000000"}, ...}}}}},
Reserved: {...}}}``; prices are USD per INSTANCE-hour strings.

A region's file is hundreds of MB. ``fetch`` therefore trims it as soon as it arrives, and the
trimmed file is what is stored and replayed: same format, same metadata, only the products of
``INSTANCE_TYPES`` with ``operatingSystem`` Linux and no pre-installed software, and only
their ``OnDemand`` terms (``meta`` records the original size and sha256). Objects are cut out
with the JSON decoder at their exact positions (``_trim_offer_file``), never re-typed; trimming
a trimmed file gives it back unchanged, so replay runs the same code. A body that is not an
offer file is passed on untouched and ``parse`` reports it.

Rows (venue ``aws``, a hyperscaler; tier T3 list prices, class ``on_demand``): products of
``INSTANCE_TYPES`` with ``productFamily`` "Compute Instance", Linux, ``tenancy`` Shared,
``preInstalledSw`` NA and ``capacitystatus`` Used (the other capacity statuses are
capacity-reservation accounting lines). Per-GPU = instance price / GPUs of the type
(data/gpu_models.toml ``[instances]``).

Spot (only when ``SPOTINDEX_AWS_ACCESS_KEY_ID`` and ``SPOTINDEX_AWS_SECRET_ACCESS_KEY`` are
set; ``SPOTINDEX_AWS_SESSION_TOKEN`` optional): EC2 ``DescribeSpotPriceHistory`` (Query API,
``Version=2016-11-15``, SigV4-signed here, XML answer) for ``Linux/UNIX`` with ``StartTime`` =
``EndTime`` = now, which returns the price in effect per availability zone. One ``spot`` row
per type and zone (tier T2, offer id ``<type>@<zone>:spot``). Without credentials the source
reports on-demand only; it never needs a key to run. With credentials set, a failing spot
request (expired or wrong keys: HTTP 401/403) fails the source loudly rather than quietly
dropping spot. The credentials are project-specific variables on purpose: a scraper should
not pick up a shell's ambient AWS admin keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources.base import CATALOG_MAX_AGE, RawResponse, Source, as_float, request, time_problem, with_reason

OFFER_URL = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/{region}/index.json"
REGIONS = ("us-east-1", "us-east-2", "us-west-2")
INSTANCE_TYPES = ("p5.4xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge", "p4d.24xlarge", "p4de.24xlarge",
                  "p6-b200.48xlarge")
HEAD_KEYS = ("formatVersion", "disclaimer", "offerCode", "version", "publicationDate")
COMPUTE_FAMILIES = ("Compute Instance", "Compute Instance (bare metal)")
EC2_API_VERSION = "2016-11-15"
EC2_NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"
SPOT_PRODUCT = "Linux/UNIX"
MAX_SPOT_PAGES = 20

_STRING = rb'"(?:[^"\\]|\\.)*"'
_DECODER = json.JSONDecoder()

def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (missing nested objects read as empty)."""
    return value if isinstance(value, dict) else {}



def offer_url(region: str) -> str:
    return OFFER_URL.format(region=region)


def regions() -> tuple[str, ...]:
    env = os.environ.get("SPOTINDEX_AWS_REGIONS", "")
    chosen = tuple(r.strip() for r in env.split(",") if r.strip())
    return chosen or REGIONS


# --- trimming the offer file -------------------------------------------------------------

def _decode_object_at(body: bytes, start: int, window: int = 1 << 16) -> Any:
    """The JSON value starting at byte ``start`` (an object), decoded from a growing window."""
    while True:
        chunk = body[start:start + window]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:  # window cut a multi-byte character: retry a little shorter
            text = chunk[:exc.start].decode("utf-8")
        try:
            return _DECODER.raw_decode(text)[0]
        except json.JSONDecodeError:
            if start + window >= len(body) or window >= 1 << 24:
                raise
            window *= 4


def _keep_product(product: Any) -> bool:
    if not isinstance(product, dict) or not isinstance(product.get("attributes"), dict):
        return False
    a = product["attributes"]
    return (a.get("instanceType") in INSTANCE_TYPES and a.get("operatingSystem") == "Linux"
            and a.get("preInstalledSw", "NA") == "NA")


_PRODUCTS = re.compile(rb'"products"\s*:\s*\{')
_TERMS = re.compile(rb'"terms"\s*:\s*\{')
_ON_DEMAND = re.compile(rb'"OnDemand"\s*:\s*\{')
_RESERVED = re.compile(rb'"Reserved"\s*:\s*\{')
_HEAD = re.compile(rb'"(' + b"|".join(k.encode() for k in HEAD_KEYS) + rb')"\s*:\s*(' + _STRING + rb')')
_TYPE = re.compile(rb'"instanceType"\s*:\s*"(?:' + b"|".join(re.escape(t.encode()) for t in INSTANCE_TYPES)
                   + rb')"')


def _trim_offer_file(body: bytes) -> bytes | None:
    """The offer file reduced to our instance types (see module doc); None if it is not one.

    Works on the bytes with compiled patterns and ``pos``/``endpos`` (no copies of a file of
    hundreds of MB); only the matched objects are decoded.
    """
    m_products = _PRODUCTS.search(body)
    m_terms = _TERMS.search(body, m_products.end()) if m_products else None
    if not m_products or not m_terms:
        return None
    head: dict[str, Any] = {}
    for m in _HEAD.finditer(body, 0, m_products.start()):
        head.setdefault(m.group(1).decode(), json.loads(m.group(2)))
    products: dict[str, Any] = {}
    try:
        for m in _TYPE.finditer(body, m_products.end(), m_terms.start()):
            sku_at = body.rfind(b'"sku"', m_products.end(), m.start())
            brace = body.rfind(b"{", m_products.end(), sku_at) if sku_at >= 0 else -1
            if brace < 0:
                return None
            product = _decode_object_at(body, brace)
            if _keep_product(product) and isinstance(product.get("sku"), str):
                products[product["sku"]] = product
        on_demand: dict[str, Any] = {}
        m_od = _ON_DEMAND.search(body, m_terms.end())
        if m_od and products:
            by_sku = re.compile(rb'"(' + b"|".join(re.escape(s.encode()) for s in products) + rb')"\s*:\s*\{')
            m_res = _RESERVED.search(body, m_terms.end())
            end = m_res.start() if m_res and m_res.start() > m_od.end() else len(body)
            for m in by_sku.finditer(body, m_od.end(), end):
                sku = m.group(1).decode()
                if sku not in on_demand:
                    on_demand[sku] = _decode_object_at(body, m.end() - 1)
                if len(on_demand) == len(products):
                    break
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # truncated or not JSON after all: parse reports it
    doc = {**head, "products": products, "terms": {"OnDemand": on_demand}}
    return json.dumps(doc, indent=1).encode()


def trimmed(resp: RawResponse) -> RawResponse:
    """The response with its body trimmed to our instance types, or unchanged if not an offer file."""
    small = _trim_offer_file(resp.body)
    if small is None or small == resp.body:
        return resp
    meta = {**resp.meta, "trimmed_from_bytes": str(len(resp.body)),
            "trimmed_from_sha256": hashlib.sha256(resp.body).hexdigest(),
            "trimmed_to": "instanceType in " + ",".join(INSTANCE_TYPES) + "; Linux; OnDemand terms"}
    return dataclasses.replace(resp, body=small, meta=meta)


# --- SigV4 for the EC2 Query API ------------------------------------------------------------

def _aws_quote(value: str) -> str:
    return quote(value, safe="-_.~")


def sigv4_headers(access_key: str, secret_key: str, region: str, host: str, params: Mapping[str, str],
                  now: datetime, session_token: str | None = None, service: str = "ec2") -> dict[str, str]:
    """Headers signing a GET with ``params`` (AWS Signature Version 4; empty body)."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    query = "&".join(f"{_aws_quote(k)}={_aws_quote(v)}" for k, v in sorted(params.items()))
    headers = {"host": host, "x-amz-date": amz_date}
    if session_token:
        headers["x-amz-security-token"] = session_token
    signed = ";".join(sorted(headers))
    canonical_headers = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers))
    canonical_request = "\n".join(["GET", "/", query, canonical_headers, signed, hashlib.sha256(b"").hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = {k: v for k, v in headers.items() if k != "host"}
    out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, "
                            f"Signature={signature}")
    return out


def spot_params(now: datetime, next_token: str | None = None) -> dict[str, str]:
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {"Action": "DescribeSpotPriceHistory", "Version": EC2_API_VERSION, "ProductDescription.1": SPOT_PRODUCT,
              "StartTime": stamp, "EndTime": stamp, "MaxResults": "1000"}
    for i, t in enumerate(INSTANCE_TYPES, 1):
        params[f"InstanceType.{i}"] = t
    if next_token:
        params["NextToken"] = next_token
    return params


def _spot_records(source: str, resp: RawResponse) -> tuple[list[dict[str, str]], str | None]:
    """DescribeSpotPriceHistory XML -> records keyed like the API's JSON shape, and the next token."""
    try:
        root = ET.fromstring(resp.body)
    except ET.ParseError as exc:
        head = resp.body[:80].decode("utf-8", "replace")
        raise SourceError(source, f"spot price history is not XML ({exc}); body starts {head!r}",
                          url=resp.url) from None
    hist = root.find(f"{EC2_NS}spotPriceHistorySet")
    if hist is None:
        hist = root.find("spotPriceHistorySet")
    if hist is None:
        raise SourceError(source, f"missing in <{root.tag}>", field="spotPriceHistorySet", url=resp.url)
    names = {"availabilityZone": "AvailabilityZone", "instanceType": "InstanceType",
             "productDescription": "ProductDescription", "spotPrice": "SpotPrice", "timestamp": "Timestamp"}
    records = []
    for item in hist:
        rec = {}
        for child in item:
            tag = child.tag.rsplit("}", 1)[-1]
            if tag in names:
                rec[names[tag]] = (child.text or "").strip()
        records.append(rec)
    token = root.findtext(f"{EC2_NS}nextToken") or root.findtext("nextToken")
    return records, (token or None)


class Aws(Source):
    name = "aws"
    kind = "gpu"
    description = "AWS EC2 price list bulk offer files (p5/p5e/p5en/p4d/p4de/p6-b200, Linux, on-demand); spot with keys"
    key_env = "SPOTINDEX_AWS_ACCESS_KEY_ID"
    key_optional = True  # on-demand needs no credentials; spot prices do
    secret_env: ClassVar[str] = "SPOTINDEX_AWS_SECRET_ACCESS_KEY"
    token_env: ClassVar[str] = "SPOTINDEX_AWS_SESSION_TOKEN"
    key_envs: ClassVar[tuple[str, ...]] = ("SPOTINDEX_AWS_ACCESS_KEY_ID", "SPOTINDEX_AWS_SECRET_ACCESS_KEY")
    venues = ("aws",)
    parser_checked = "2026-07-01"  # offer-file structure per botocore 1.44.5 pricing examples; p5 rate 2026-07-01
    timeout_s = 600.0  # the per-region offer files are large

    def credentials(self) -> tuple[str, str, str | None] | None:
        key, secret = self.api_key(), os.environ.get(self.secret_env)
        return (key, secret, os.environ.get(self.token_env) or None) if key and secret else None

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        out = []
        for region in regions():
            resp = await request(client, self.name, "GET", offer_url(region), meta={"kind": "offer", "region": region})
            out.append(trimmed(resp))
        creds = self.credentials()
        if creds:
            now = datetime.now(UTC).replace(microsecond=0)
            for region in regions():
                out.extend(await self._spot(client, region, creds, now))
        return out

    async def _spot(self, client: httpx.AsyncClient, region: str, creds: tuple[str, str, str | None],
                    now: datetime) -> list[RawResponse]:
        host = f"ec2.{region}.amazonaws.com"
        out: list[RawResponse] = []
        token: str | None = None
        for _ in range(MAX_SPOT_PAGES):
            params = spot_params(now, token)
            headers = sigv4_headers(creds[0], creds[1], region, host, params, now, creds[2])
            resp = await request(client, self.name, "GET", f"https://{host}/", params=params, headers=headers,
                                 meta={"kind": "spot", "region": region})
            out.append(resp)
            _, token = _spot_records(self.name, resp)
            if not token:
                break
        return out

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        for resp in raw:
            if resp.meta.get("kind") == "spot" or "DescribeSpotPriceHistory" in resp.url:
                records, _ = _spot_records(self.name, resp)
                rows.extend(self.spot_rows(records, resp.meta.get("region"), resp, observed_at))
            else:
                rows.extend(self._offer_rows(resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _offer_rows(self, resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        doc = resp.json()
        if not isinstance(doc, dict):
            raise SourceError(self.name, f"offer file is a {type(doc).__name__}, not an object", field="<body>",
                              url=resp.url)
        for key in ("products", "terms"):
            if not isinstance(doc.get(key), dict):
                raise SourceError(self.name, f"missing or not an object; offer file has {sorted(doc)[:8]}",
                                  field=key, url=resp.url)
        on_demand = doc["terms"].get("OnDemand")
        if not isinstance(on_demand, dict):
            raise SourceError(self.name, "missing or not an object", field="terms.OnDemand", url=resp.url)
        products = doc["products"]
        with_attrs = [p for p in products.values() if isinstance(p, dict) and isinstance(p.get("attributes"), dict)]
        if products and not with_attrs:
            raise SourceError(self.name, "no product has an attributes object: the offer format changed?",
                              field="products[].attributes", url=resp.url)
        compute = [p for p in with_attrs if p.get("productFamily") in COMPUTE_FAMILIES]
        if compute and all("instanceType" not in p["attributes"] for p in compute):
            raise SourceError(self.name, f"absent from all {len(compute)} compute products: the offer format "
                              "changed?", field="attributes.instanceType", url=resp.url)
        rows = []
        for sku, product in products.items():
            if not isinstance(product, dict) or not self._is_quote(product):
                continue
            rows.extend(self.ondemand_rows(str(sku), product, on_demand.get(sku), resp, observed_at))
        return with_reason(rows, time_problem(doc.get("publicationDate"), observed_at, "offer file publicationDate",
                                              CATALOG_MAX_AGE))

    @staticmethod
    def _is_quote(product: dict[str, Any]) -> bool:
        a = _obj(product.get("attributes"))
        return (product.get("productFamily") in COMPUTE_FAMILIES and a.get("instanceType") in INSTANCE_TYPES
                and a.get("operatingSystem") == "Linux"
                and a.get("tenancy") == "Shared" and a.get("preInstalledSw", "NA") == "NA"
                and a.get("capacitystatus", "Used") == "Used")

    def ondemand_rows(self, sku: str, product: dict[str, Any], terms: Any, resp: RawResponse,
                      observed_at: datetime) -> list[dict[str, Any]]:
        """Rows for one product and its ``terms.OnDemand[sku]`` (the shape GetProducts also returns)."""
        a = product.get("attributes") or {}
        itype = str(a.get("instanceType") or "")
        inst = canonical.instance_type(itype) if itype else None
        common = self._common(itype, inst, a.get("regionCode") or resp.meta.get("region"), resp, observed_at)
        dims = price_dimensions(terms)
        if not dims:
            return [{**common, "offer_id": f"{sku}.ondemand", "pricing_class": "on_demand", "tier": "T3",
                     "price_usd_per_hour": None, "price_usd_per_gpu_hour": None,
                     "quarantine_reason": "no OnDemand term for this product"}]
        pending = {str(k): why for k, t in terms.items() if isinstance(t, dict) and (why := time_problem(
            t.get("effectiveDate"), observed_at, "term effectiveDate", None, "not yet the price in effect"))}
        rows = []
        for rate_code, unit, usd in dims:
            price = as_float(usd)
            problems = [why for k, why in pending.items() if rate_code.startswith(k)]
            if usd is None:
                problems.append("pricePerUnit has no USD price")
            elif price is None:
                problems.append(f"pricePerUnit.USD is not a number: {usd!r}")
            elif price == 0:
                problems.append("pricePerUnit.USD is 0: not offered, not free")
                price = None
            if unit != "Hrs":
                problems.append(f"unit is {unit!r}, not Hrs")
            count = common["gpu_count"]
            rows.append({**common, "offer_id": rate_code, "pricing_class": "on_demand", "tier": "T3",
                         "price_usd_per_hour": price,
                         "price_usd_per_gpu_hour": price / count if price is not None and count else None,
                         "quarantine_reason": "; ".join(problems) or None})
        return rows

    def spot_rows(self, records: Sequence[Mapping[str, Any]], region: str | None, resp: RawResponse,
                  observed_at: datetime) -> list[dict[str, Any]]:
        """Rows for DescribeSpotPriceHistory records: the latest price per instance type and zone."""
        latest: dict[tuple[str, str], Mapping[str, Any]] = {}
        for rec in records:
            k = (str(rec.get("InstanceType")), str(rec.get("AvailabilityZone")))
            if k not in latest or str(rec.get("Timestamp") or "") > str(latest[k].get("Timestamp") or ""):
                latest[k] = rec
        rows = []
        for (itype, zone), rec in latest.items():
            inst = canonical.instance_type(itype)
            common = self._common(itype, inst, region or (zone[:-1] if zone[-1:].isalpha() else zone), resp,
                                  observed_at)
            raw_price = rec.get("SpotPrice")
            price = as_float(raw_price)
            problems = []
            if raw_price is None:
                problems.append("missing field SpotPrice")
            elif price is None:
                problems.append(f"SpotPrice is not a number: {raw_price!r}")
            elif price == 0:
                problems.append("SpotPrice is 0: not offered, not free")
                price = None
            if future := time_problem(rec.get("Timestamp"), observed_at, "spot price Timestamp", None):
                problems.append(future)  # a price set in 2019 is still the price; one from the future is not
            count = common["gpu_count"]
            rows.append({**common, "offer_id": f"{itype}@{zone}:spot", "pricing_class": "spot", "tier": "T2",
                         "price_usd_per_hour": price,
                         "price_usd_per_gpu_hour": price / count if price is not None and count else None,
                         "quarantine_reason": "; ".join(problems) or None})
        return rows

    def _common(self, itype: str, inst: canonical.InstanceType | None, region: Any, resp: RawResponse,
                observed_at: datetime) -> dict[str, Any]:
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": "aws",
            "venue_class": canonical.venue_class("aws", "hyperscaler"),
            "gpu_model": inst.gpu_model if inst else f"{canonical.UNKNOWN_PREFIX}{itype}",
            "gpu_count": inst.gpu_count if inst else None,
            "region": region,
            "available_units": None,
            "price_basis": "compute",
            "currency": "USD",
            "raw_sha256": resp.sha256,
        }


def price_dimensions(terms: Any) -> list[tuple[str, str | None, str | None]]:
    """(rateCode, unit, USD price string) of every price dimension in ``{<offerTermKey>: term}``."""
    out: list[tuple[str, str | None, str | None]] = []
    if not isinstance(terms, dict):
        return out
    for term_key, term in terms.items():
        dims = term.get("priceDimensions") if isinstance(term, dict) else None
        if not isinstance(dims, dict):
            continue
        for rate_code, dim in dims.items():
            if not isinstance(dim, dict):
                continue
            ppu = _obj(dim.get("pricePerUnit"))
            out.append((str(dim.get("rateCode") or rate_code or term_key), dim.get("unit"), ppu.get("USD")))
    return out


SOURCE = Aws()
