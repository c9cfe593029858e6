"""dstack's published gpuhunt catalogs (many clouds at once: one venue per catalog provider).

dstack's CI collects every cloud's offers once a day and publishes them (public, no key):
``GET https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v2/version`` answers the latest
version (``YYYYMMDD``, plain text), then ``GET .../v2/<version>/catalog.zip`` is a zip with
one ``<provider>.csv`` per offline provider (aws, azure, gcp, lambdalabs, verda/datacrunch,
nebius, oci, runpod, cloudrift, ...) and a ``version`` file. CSV columns (gpuhunt
``RawCatalogItem``): instance_name, location, price, cpu, memory, gpu_count, gpu_name,
gpu_memory, spot, disk_size, gpu_vendor, flags, cpu_arch, provider_data. ``price`` is USD
per INSTANCE-hour (whole machine as the cloud bills it, hence ``bundled``), ``gpu_memory``
is per GPU, ``spot`` is ``True``/``False``; rows without GPUs are CPU offers and skipped.

Venue = the CSV's provider (data/venues.toml aliases: ``lambdalabs`` = lambda,
``datacrunch`` = verda). Where a venue has its own adapter, index.precedence keeps that
quote and this list price is the fallback. GPU identity, most specific first: the instance
type in data/gpu_models.toml (``p5.48xlarge``), the instance name as a GPU spelling
(RunPod's ``NVIDIA H100 80GB HBM3``), then ``gpu_name`` (gpuhunt writes ``H100`` for every
form factor) with the form factor the instance name states: an ``sxm``/``pcie``/``nvl``
token (``gpu_8x_h100_sxm5``, ``gpu-h100-sxm``), or Verda's naming, where ``80S`` in
``8H100.80S.176V`` is 80 GB SXM. Otherwise ``unknown:<gpu_name>``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import polars as pl

from index import canonical
from index.errors import SourceError
from index.schemas import GPU_QUOTE_SCHEMA, empty_frame, rows_frame
from sources._gpu_common import form_factor_hint, resolve_gpu, venue_fields
from sources.base import RawResponse, Source, as_float, number_repeats, request

BASE = "https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v2"
VERSION_URL = f"{BASE}/version"
REQUIRED_COLUMNS = ("instance_name", "location", "price", "gpu_count", "gpu_name", "spot")
VERDA_NAME = re.compile(r"^\d+[A-Z0-9]+\.\d+S\.\d+V$")  # 8H100.80S.176V: 80 GB SXM


def catalog_url(version: str) -> str:
    return f"{BASE}/{version}/catalog.zip"


def _version(resp: RawResponse) -> str:
    text = resp.body.decode("utf-8", "replace").strip()
    if not re.fullmatch(r"\d{8}", text):
        raise SourceError("gpuhunt", f"expected a YYYYMMDD catalog version, got {text[:60]!r}", field="version",
                          url=resp.url)
    return text


def _model(provider: str, row: dict[str, str], count: int | None) -> tuple[str, str | None]:
    """(canonical GPU, problem) for one catalog row."""
    name = (row.get("instance_name") or "").strip()
    inst = canonical.instance_type(name) if name else None
    if inst is not None:
        if count is not None and inst.gpu_count != count:
            return inst.gpu_model, f"gpu_count {count} contradicts instance type {inst.name} ({inst.gpu_count} GPUs)"
        return inst.gpu_model, None
    as_gpu = canonical.gpu_model(name) if name else canonical.UNKNOWN_PREFIX
    if not as_gpu.startswith(canonical.UNKNOWN_PREFIX):
        return as_gpu, None
    gpu_name = (row.get("gpu_name") or "").strip()
    ff = form_factor_hint(name) or ("SXM" if VERDA_NAME.match(name) else None)
    return resolve_gpu(gpu_name, ff, as_float(row.get("gpu_memory")), raw=gpu_name), None


class GpuHunt(Source):
    name = "gpuhunt"
    kind = "gpu"
    description = "dstack gpuhunt published catalogs (daily, public): list prices of many clouds, fallback quotes"
    venues = ("gcp", "nebius", "cloudrift", "aws", "azure", "lambda", "verda", "oci", "runpod")
    parser_checked = ""  # built from the API docs and upstream code: no real recorded response checked yet

    async def fetch(self, client: httpx.AsyncClient) -> list[RawResponse]:
        ver = await request(client, self.name, "GET", VERSION_URL, meta={"part": "version"})
        version = _version(ver)
        cat = await request(client, self.name, "GET", catalog_url(version), meta={"part": "catalog",
                                                                                   "version": version})
        return [ver, cat]

    def parse(self, raw: Sequence[RawResponse], observed_at: datetime) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        catalogs = [r for r in raw if r.meta.get("part") == "catalog" or r.url.endswith(".zip")]
        if not catalogs:
            raise SourceError(self.name, "no catalog.zip among the responses", field="catalog.zip")
        for resp in catalogs:
            rows.extend(self._parse_zip(resp, observed_at))
        if not rows:
            return empty_frame(GPU_QUOTE_SCHEMA)
        return rows_frame(rows, GPU_QUOTE_SCHEMA)

    def _parse_zip(self, resp: RawResponse, observed_at: datetime) -> list[dict[str, Any]]:
        head = resp.body[:200].decode("utf-8", "replace").strip().lower()
        if not resp.body.strip():
            raise SourceError(self.name, "empty response body", field="catalog.zip", url=resp.url)
        if head.startswith(("<!doctype", "<html", "<?xml")):
            raise SourceError(self.name, f"HTML/XML instead of a zip archive; body starts {head[:60]!r}",
                              field="catalog.zip", url=resp.url)
        try:
            archive = zipfile.ZipFile(io.BytesIO(resp.body))
            members = [m for m in archive.namelist() if m.endswith(".csv")]
            texts = {m: archive.read(m).decode("utf-8") for m in members}
        except (zipfile.BadZipFile, EOFError, UnicodeDecodeError, zipfile.LargeZipFile) as exc:
            raise SourceError(self.name, f"not a readable zip archive ({exc.__class__.__name__}: {exc})",
                              field="catalog.zip", url=resp.url) from None
        if not members:
            raise SourceError(self.name, "the archive holds no <provider>.csv", field="catalog.zip", url=resp.url)
        rows: list[dict[str, Any]] = []
        for member in sorted(members):
            provider = member.rsplit("/", 1)[-1].removesuffix(".csv")
            reader = csv.DictReader(io.StringIO(texts[member]))
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise SourceError(self.name, f"column missing from {member} (header {header[:10]})",
                                  field=missing[0], url=resp.url)
            found = [row for line in reader if (row := self._row(provider, line, resp, observed_at)) is not None]
            rows.extend(number_repeats(found, "offer_id", "#"))
        return rows

    def _row(self, provider: str, line: dict[str, str], resp: RawResponse,
             observed_at: datetime) -> dict[str, Any] | None:
        count_raw = (line.get("gpu_count") or "").strip()
        count = as_float(count_raw)
        if count_raw in ("", "0") or count == 0:
            return None  # a CPU offer
        problems = []
        if count is None or count < 0 or count != int(count):
            problems.append(f"gpu_count is not a whole number: {count_raw!r}")
            count = None
        n = int(count) if count else None
        price_raw = (line.get("price") or "").strip()
        price = as_float(price_raw)
        if price_raw and price is None:
            problems.append(f"price is not a number: {price_raw!r}")
        spot_raw = (line.get("spot") or "").strip().lower()
        if spot_raw not in ("true", "false"):
            problems.append(f"spot is not True/False: {line.get('spot')!r}")
        venue, vclass, vproblem = venue_fields(provider)
        if vproblem:
            problems.append(vproblem)
        model, mproblem = _model(provider, line, n)
        if mproblem:
            problems.append(mproblem)
        spot = spot_raw == "true"
        name = (line.get("instance_name") or "").strip()
        location = (line.get("location") or "").strip() or None
        return {
            "observed_at": observed_at,
            "source": self.name,
            "venue": venue,
            "venue_class": vclass,
            "offer_id": f"{provider}:{name}:{location or '-'}:{n}:{'spot' if spot else 'od'}",
            "gpu_model": model,
            "gpu_count": n,
            "price_usd_per_hour": price,
            "price_usd_per_gpu_hour": price / n if price is not None and n else None,
            "pricing_class": "spot" if spot else "on_demand",
            "region": location,
            "available_units": None,
            "tier": "T3",
            "price_basis": "bundled",
            "currency": "USD",
            "raw_sha256": resp.sha256,
            "quarantine_reason": "; ".join(problems) or None,
        }


SOURCE = GpuHunt()
