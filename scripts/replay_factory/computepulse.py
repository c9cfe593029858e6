"""Compute Pulse listings pages: every provider of the shared market, paged like the real API."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import httpx

from index.replay import RecordedResponse
from scripts.replay_factory._gpu_market import BOARD_META, NATIVE_CURRENCY, PROVIDERS, display_slug, hourly_factor
from sources.computepulse import LIMIT, SLUGS, URL, page_params

SOURCE = "computepulse"
EVERY_HOURS = 1

REGIONS = ["us-east", "us-west", "us-central", "eu-west", "eu-north", "eu-central", "ap-japan", "ca-central",
           "unspecified"]
SOURCE_KIND = {"vastai": "provider_api", "runpod": "provider_api", "tensordock": "provider_api",
               "lium": "provider_api", "sfcompute": "provider_api", "hyperstack": "open_api"}


def _listings(slug: str, captured_at: datetime, rng: random.Random) -> list[dict[str, Any]]:
    fetched = captured_at - timedelta(minutes=rng.randint(3, 40))
    rows: list[dict[str, Any]] = []
    for venue, (name, prices, spot_share, drifts) in sorted(PROVIDERS.items()):
        prov_slug = display_slug(name)
        layout = random.Random(f"cp-layout:{venue}:{slug}")  # which listings a provider has: stable day-long
        for board, usd in sorted(prices.items()):
            model, variant, vram, board_slug = BOARD_META[board]
            if board_slug != slug:
                continue
            n_listings = layout.randint(2, 9) if drifts else layout.randint(1, 3)
            for k in range(n_listings):
                count = layout.choice([1, 1, 2, 8, 8]) if drifts else layout.choice([1, 8, 8])
                region = layout.choice(REGIONS)
                billing = "on_demand"
                factor = hourly_factor(venue, f"{board}:{k}", captured_at, drifts) * layout.uniform(0.97, 1.06)
                if spot_share and k == n_listings - 1:
                    billing, factor = "spot", factor * spot_share
                elif not drifts and k == 1 and layout.random() < 0.5:
                    billing, factor = "reserved", factor * 0.78
                per_gpu = round(usd * factor, 4)
                native = NATIVE_CURRENCY.get(venue)
                rows.append({
                    "id": str(rng.randrange(1_000, 40_000)),
                    "provider": name,
                    "gpu_model": model,
                    "gpu_count": count,
                    "region": region,
                    "price_per_gpu_hour": per_gpu,
                    "billing_type": billing,
                    "available": None if not drifts else rng.random() > 0.1,
                    "interconnect": "3200 Gbps InfiniBand" if count == 8 and not drifts else None,
                    "min_duration_hours": 8760 if billing == "reserved" else None,
                    "vram_gb": vram,
                    "vcpus": 26 * count if layout.random() < 0.7 else None,
                    "ram_gb": 225 * count if layout.random() < 0.7 else None,
                    "gpu_variant": variant,
                    "currency": native[0] if native else None,
                    "price_native": round(per_gpu * native[1], 2) if native else None,
                    "source_kind": SOURCE_KIND.get(venue, "provider_scrape"),
                    "source_url": f"https://{prov_slug.replace('-', '')}.com/pricing",
                    "source_updated_at": None if drifts else (captured_at - timedelta(hours=7)).isoformat(),
                    "fetched_at": fetched.isoformat(timespec="milliseconds"),
                    "human_verified": False,
                    "verification_level": 0,
                    "links": {"gpu": f"https://compute-pulse.com/gpu/{slug}",
                              "provider": f"https://compute-pulse.com/provider/{prov_slug}",
                              "source": f"https://{prov_slug.replace('-', '')}.com/pricing"},
                })
    rows.sort(key=lambda r: r["price_per_gpu_hour"])
    return rows


def generate(captured_at: datetime, rng: random.Random) -> list[RecordedResponse]:
    out = []
    for slug in SLUGS:
        book = _listings(slug, captured_at, rng)
        offset = 0
        while True:
            page = book[offset:offset + LIMIT]
            nxt = offset + LIMIT if offset + LIMIT < len(book) else None
            params = page_params(slug, offset)
            url = str(httpx.URL(URL, params=params))
            body = {
                "data": page,
                "page": {"total": len(book), "limit": LIMIT, "offset": offset, "next_offset": nxt},
                "meta": {"catalog_status": "live_or_cached",
                         "freshest_observation": max((r["fetched_at"] for r in book), default=None),
                         "price_unit": "USD per GPU hour",
                         "notice": "Observed public prices are not quotes. Confirm availability and terms at "
                                   "source_url."},
                "links": {"self": url,
                          "next": str(httpx.URL(URL, params=page_params(slug, nxt))) if nxt else None,
                          "documentation": "https://compute-pulse.com/agents",
                          "openapi": "https://compute-pulse.com/openapi.json",
                          "llms": "https://compute-pulse.com/llms.txt"},
            }
            out.append(RecordedResponse(SOURCE, "GET", url, 200, {"content-type": "application/json"},
                                        json.dumps(body, separators=(",", ":")).encode(), meta={"gpu": slug}))
            if nxt is None:
                break
            offset = nxt
    return out
