"""``quotes``: rows in our own normalised schema (what ``spotindex export`` writes), CSV or
Parquet, or any CSV whose columns are mapped with ``--map ours=theirs`` and completed with
``--set column=value`` constants. GPU quotes or token prices, told apart by their columns.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    iter_batches,
    map_values,
    not_a_number,
    not_a_timestamp,
    number,
    number_in_text,
    text,
    timestamp,
    token_model,
    validated,
    venue_lookup,
)
from index.schemas import GPU_QUOTE_SCHEMA, TOKEN_PRICE_SCHEMA, conform

GPU_NUMBERS = ("gpu_count", "price_usd_per_hour", "price_usd_per_gpu_hour", "available_units")
GPU_TEXTS = ("venue", "venue_class", "gpu_model", "pricing_class", "tier", "source")
TOKEN_NUMBERS = ("usd_per_mtok_input", "usd_per_mtok_output", "usd_per_mtok_cached_input", "context_window")
TOKEN_TEXTS = ("provider", "model", "model_family", "source")
GPU_KEYS = {"gpu_model", "price_usd_per_gpu_hour", "price_usd_per_hour", "gpu_count"}
TOKEN_KEYS = {"usd_per_mtok_input", "usd_per_mtok_output", "model", "source_model_id"}


def detect_kind(path: Path, names: set[str]) -> str:
    gpu, tok = bool(names & GPU_KEYS), bool(names & TOKEN_KEYS)
    if gpu == tok:
        raise ImportFileError(path, 1, None, "cannot tell GPU quotes from token prices: a GPU file has "
                                             "price_usd_per_gpu_hour and gpu_model, a token file usd_per_mtok_input/"
                                             "output and model (use --map to name them)")
    return "gpu" if gpu else "token"


def columns(path: Path, opts: ImportOptions) -> tuple[str, dict[str, str]]:
    names = header(path)
    renamed = {opts.maps.get(n, n) for n in names} | {t for t in opts.maps} | set(opts.sets)
    kind = detect_kind(path, renamed)
    schema = GPU_QUOTE_SCHEMA if kind == "gpu" else TOKEN_PRICE_SCHEMA
    known = set(schema) - {"quarantine_reason"}
    required: list[tuple[str, ...]] = [("observed_at",)]
    if kind == "gpu":
        required += [("venue",), ("gpu_model",), ("price_usd_per_gpu_hour", "price_usd_per_hour"),
                     ("pricing_class",)]
    else:
        required += [("provider",), ("model", "source_model_id"), ("usd_per_mtok_input", "usd_per_mtok_output")]
    return kind, check_columns(path, names, known, opts, required)


def read(path: Path, opts: ImportOptions, source: str, dataset: str, sha: str) -> Iterator[Batch]:
    kind, mapping = columns(path, opts)
    vid, vclass = venue_lookup(opts.venue_map)
    for raw in iter_batches(path, opts.batch_rows):
        df = apply_columns(raw, mapping, opts.sets)
        yield (_gpu if kind == "gpu" else _token)(df, opts, source, dataset, sha, vid, vclass)


def _cell_checks(df: pl.DataFrame, numbers: tuple[str, ...], texts: tuple[str, ...],
                 opts: ImportOptions) -> list[tuple[pl.Expr, str, str]]:
    checks: list[tuple[pl.Expr, str, str]] = [
        (text("observed_at").is_null(), "observed_at", "observed_at missing"),
        (not_a_timestamp("observed_at"), "observed_at", "not a timestamp (use ISO 8601, e.g. 2025-10-19T21:00:00Z)"),
        (timestamp("observed_at") > opts.now + FUTURE_SLACK, "observed_at",
         f"in the future (after {opts.now:%Y-%m-%dT%H:%M}Z): not an observation"),
    ]
    checks += [(not_a_number(c), c, "not a number (a price must be a plain number in USD, e.g. 2.49)")
               for c in numbers if c in df.columns]
    checks += [(number_in_text(c), c, "a number in a text column: are the columns shifted?")
               for c in texts if c in df.columns]
    return checks


def _gpu(df: pl.DataFrame, opts: ImportOptions, source: str, dataset: str, sha: str, vid, vclass) -> Batch:  # type: ignore[no-untyped-def]
    n = df.height
    good, issues = issues_from(df, _cell_checks(df, GPU_NUMBERS, GPU_TEXTS, opts),
                               key=pl.col("offer_id") if "offer_id" in df.columns else None)
    g = good
    has = set(g.columns)
    count = number("gpu_count").cast(pl.Int32) if "gpu_count" in has else pl.lit(1, dtype=pl.Int32)
    per_gpu = number("price_usd_per_gpu_hour") if "price_usd_per_gpu_hour" in has else None
    per_inst = number("price_usd_per_hour") if "price_usd_per_hour" in has else None
    g = g.with_columns(gpu_count=count)
    if per_gpu is None:
        per_gpu = per_inst / pl.col("gpu_count")  # type: ignore[operator]
    if per_inst is None:
        per_inst = per_gpu * pl.col("gpu_count")
    g = g.with_columns(
        price_usd_per_gpu_hour=pl.coalesce(per_gpu, per_inst / pl.col("gpu_count")),  # type: ignore[operator]
        price_usd_per_hour=pl.coalesce(per_inst, per_gpu * pl.col("gpu_count")),
        observed_at=timestamp("observed_at"),
        _venue_raw=text("venue"),
        _gpu_raw=text("gpu_model"),
    )
    g = g.with_columns(
        venue=map_values("_venue_raw", vid, g),
        gpu_model=map_values("_gpu_raw", canonical.gpu_model, g),
        venue_class=text("venue_class") if "venue_class" in has else map_values("_venue_raw", vclass, g),
        source=text("source").fill_null(source) if "source" in has else pl.lit(source),
        tier=text("tier").fill_null("T2") if "tier" in has else pl.lit("T2"),
        price_basis=text("price_basis").fill_null("bundled") if "price_basis" in has else pl.lit("bundled"),
        currency=text("currency").fill_null("USD") if "currency" in has else pl.lit("USD"),
        available_units=number("available_units").cast(pl.Int32) if "available_units" in has else None,
        region=text("region") if "region" in has else None,
        pricing_class=text("pricing_class"),
        dataset=pl.lit(dataset), raw_sha256=pl.lit(sha),
    )
    synthetic = pl.concat_str([pl.col("venue"), pl.col("gpu_model"), pl.col("gpu_count").cast(pl.String),
                               pl.col("pricing_class"), pl.col("region").fill_null("")], separator="|")
    g = g.with_columns(offer_id=text("offer_id").fill_null(synthetic) if "offer_id" in has else synthetic)
    g = g.with_columns(quarantine_reason=pl.when(pl.col("venue_class").is_null()).then(
        pl.format("venue_class unknown for venue '{}': add it to data/venues.toml, --venue-map or "
                  "--set venue_class=...", pl.col("venue"))).otherwise(None))
    rows = conform(g, GPU_QUOTE_SCHEMA).with_columns(g[LINE])
    rows, dup_issues, dup_same = duplicates(rows, ["source", "offer_id", "observed_at"],
                                            ["price_usd_per_gpu_hour", "price_usd_per_hour"])
    rows, v_issues = validated(rows, "gpu")
    return Batch("gpu", rows.drop(LINE), pl.concat([issues, dup_issues, v_issues]), n,
                 skipped={"duplicate row (same key, same price)": dup_same} if dup_same else {})


def _token(df: pl.DataFrame, opts: ImportOptions, source: str, dataset: str, sha: str, vid, vclass) -> Batch:  # type: ignore[no-untyped-def]
    n = df.height
    good, issues = issues_from(df, _cell_checks(df, TOKEN_NUMBERS, TOKEN_TEXTS, opts))
    t = good
    has = set(t.columns)
    smid = text("source_model_id") if "source_model_id" in has else text("model")
    t = t.with_columns(_smid=smid, _provider_raw=text("provider"), observed_at=timestamp("observed_at"))
    model_raw = text("model").fill_null(pl.col("_smid")) if "model" in has else pl.col("_smid")
    t = t.with_columns(_model_raw=model_raw)
    t = t.with_columns(
        source_model_id=pl.col("_smid").fill_null(pl.col("_model_raw")),
        model=map_values("_model_raw", token_model, t),
        provider=map_values("_provider_raw", vid, t),
        source=text("source").fill_null(source) if "source" in has else pl.lit(source),
        currency=text("currency").fill_null("USD") if "currency" in has else pl.lit("USD"),
        **{c: number(c) if c in has else pl.lit(None, dtype=pl.Float64) for c in TOKEN_NUMBERS},
        dataset=pl.lit(dataset), raw_sha256=pl.lit(sha),
    )
    t = t.with_columns(model_family=text("model_family") if "model_family" in has
                       else map_values("model", canonical.model_family, t),
                       context_window=pl.col("context_window").cast(pl.Int64),
                       quantization=text("quantization") if "quantization" in has else None)
    rows = conform(t, TOKEN_PRICE_SCHEMA).with_columns(t[LINE])
    rows, dup_issues, dup_same = duplicates(rows, ["source", "provider", "source_model_id", "observed_at"],
                                            ["usd_per_mtok_input", "usd_per_mtok_output"])
    rows, v_issues = validated(rows, "token")
    return Batch("token", rows.drop(LINE), pl.concat([issues, dup_issues, v_issues]), n,
                 skipped={"duplicate row (same key, same price)": dup_same} if dup_same else {})
