"""``provider-summary``: periodic per-provider summaries of a GPU marketplace (the shape of the
Prime Intellect tracker: timestamp, gpu_type, socket_type, provider, n_offers,
min_usd_per_gpu_hr, avg_usd_per_gpu_hr).

Each (snapshot, provider, GPU type) becomes one GPU quote: venue = the provider (through
``--venue-map`` or data/venues.toml), one offer per provider and GPU type
(``summary|provider|gpu_type|socket``) so that a newer snapshot supersedes an older one,
price = the provider's average per-GPU price (``--price min`` takes its cheapest), one GPU.
The tier says how long a snapshot stays eligible: T2 (2-hour window) when snapshots come
at least every 2 hours, T3 (list-price window, 7 days) for daily or weekly summaries;
decided from the file's median spacing unless ``--set tier=...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl

from index import canonical
from index.importers.common import (
    FUTURE_SLACK,
    LINE,
    Batch,
    ImportFileError,
    ImportOptions,
    apply_columns,
    check_columns,
    duplicates,
    header,
    issues_from,
    map_values,
    not_a_number,
    not_a_timestamp,
    number,
    number_in_text,
    read_all,
    text,
    timestamp,
    validated,
    venue_lookup,
)
from index.schemas import GPU_QUOTE_SCHEMA, conform

COLUMNS = {"timestamp", "gpu_type", "socket_type", "provider", "n_offers", "min_usd_per_gpu_hr",
           "avg_usd_per_gpu_hr", "pricing_class", "venue_class", "tier", "region", "currency", "source"}
# Snapshots at least this often are executable listings seen "now" (T2); sparser ones are list prices (T3).
T2_MAX_SPACING = timedelta(hours=2)
DEFAULT_VENUE_CLASS = "neocloud"


def summary_gpu_model(name: str) -> str:
    """``H100_80GB|SXM5`` -> ``H100-SXM-80GB``: try the spellings gpu_models.toml lists, never a bare family."""
    gpu_type, _, socket = name.partition("|")
    parts = [p for p in gpu_type.replace("-", "_").split("_") if p]
    family, mem = (parts[0], parts[1]) if len(parts) >= 2 else (gpu_type, "")
    candidates = [f"{gpu_type} {socket}", f"{family} {socket} {mem}", f"{family} {mem} {socket}",
                  f"{family}-{socket}-{mem}"] if socket else []
    candidates += [f"{family} {mem}", gpu_type] if mem else [gpu_type]
    for c in candidates:
        model = canonical.gpu_model(c.strip())
        if not model.startswith(canonical.UNKNOWN_PREFIX):
            return model
    return canonical.gpu_model(f"{gpu_type} {socket}".strip())


def read(path: Path, opts: ImportOptions, source: str | None, dataset: str, sha: str) -> Iterator[Batch]:
    names = header(path)
    price_col = {"avg": "avg_usd_per_gpu_hr", "min": "min_usd_per_gpu_hr"}.get(opts.price)
    if price_col is None:
        raise ImportFileError(path, None, None, f"--price must be avg or min, not '{opts.price}'")
    mapping = check_columns(path, names, COLUMNS, opts, [("timestamp",), ("gpu_type",), ("provider",), (price_col,)])
    df = apply_columns(read_all(path), mapping, opts.sets)
    n = df.height
    checks = [
        (text("timestamp").is_null(), "timestamp", "timestamp missing"),
        (not_a_timestamp("timestamp"), "timestamp", "not a timestamp (use ISO 8601)"),
        (timestamp("timestamp") > opts.now + FUTURE_SLACK, "timestamp",
         f"in the future (after {opts.now:%Y-%m-%dT%H:%M}Z): not an observation"),
        (not_a_number(price_col), price_col, "not a number (a price must be a plain number in USD, e.g. 2.49)"),
    ]
    checks += [(not_a_number(c), c, "not a number") for c in ("n_offers",) if c in df.columns]
    checks += [(number_in_text(c), c, "a number in a text column: are the columns shifted?")
               for c in ("gpu_type", "provider", "socket_type") if c in df.columns]
    good, issues = issues_from(df, checks, key=text("provider"))
    has = set(good.columns)
    vid, vclass = venue_lookup(opts.venue_map)
    g = good.with_columns(
        observed_at=timestamp("timestamp"), _praw=text("provider"),
        _gkey=pl.concat_str([text("gpu_type"), text("socket_type").fill_null("") if "socket_type" in has
                             else pl.lit("")], separator="|"),
        price_usd_per_gpu_hour=number(price_col),
    )
    tier = text("tier") if "tier" in has else pl.lit(_tier(g))
    g = g.with_columns(
        source=text("source").fill_null(source or "import") if "source" in has else pl.lit(source or "import"),
        venue=map_values("_praw", vid, g),
        venue_class=text("venue_class") if "venue_class" in has
        else map_values("_praw", vclass, g).fill_null(DEFAULT_VENUE_CLASS),
        gpu_model=map_values("_gkey", summary_gpu_model, g),
        offer_id=pl.format("summary|{}|{}", pl.col("_praw"), pl.col("_gkey")),
        gpu_count=pl.lit(1, dtype=pl.Int32), price_usd_per_hour=pl.col("price_usd_per_gpu_hour"),
        pricing_class=text("pricing_class").fill_null("on_demand") if "pricing_class" in has else pl.lit("on_demand"),
        region=text("region") if "region" in has else None,
        tier=tier, price_basis=pl.lit("bundled"),
        currency=text("currency").fill_null("USD") if "currency" in has else pl.lit("USD"),
        dataset=pl.lit(dataset), raw_sha256=pl.lit(sha),
    )
    rows = conform(g, GPU_QUOTE_SCHEMA).with_columns(g[LINE])
    rows, dup_issues, dup_same = duplicates(rows, ["source", "offer_id", "observed_at"], ["price_usd_per_gpu_hour"])
    rows, v_issues = validated(rows, "gpu")
    unknown = rows.filter(pl.col("gpu_model").str.starts_with(canonical.UNKNOWN_PREFIX))["gpu_model"].unique()
    skipped = {"duplicate row (same key, same price)": dup_same} if dup_same else {}
    for off in range(0, max(rows.height, 1), opts.batch_rows):
        first = off == 0
        yield Batch("gpu", rows.slice(off, opts.batch_rows).drop(LINE),
                    pl.concat([issues, dup_issues, v_issues]) if first else issues.clear(), n if first else 0,
                    skipped=skipped if first else {},
                    notes={"tier": g["tier"][0] if g.height else None,
                           "unknown_gpu_models": sorted(unknown.to_list())} if first else {})


def _tier(g: pl.DataFrame) -> str:
    """T2 when the snapshots of one GPU type come at least every 2 hours (median spacing), else T3."""
    times = g.select("_gkey", "observed_at").unique().sort("_gkey", "observed_at")
    spacing = times.select(pl.col("observed_at").diff().over("_gkey").median()).item()
    if spacing is None:
        return "T3"
    return "T2" if spacing <= T2_MAX_SPACING else "T3"
