"""Validation at the edge: split a source's rows into loadable rows and quarantine.

Vectorised checks (one polars pass, no per-row Python). A row fails on its first
problem, in the order of the rules below; the quarantine row names the field, the value
and the reason, so an operator can find it in the raw response by ``raw_sha256``.
"""

from __future__ import annotations

import polars as pl

from index.schemas import GPU_QUOTE_SCHEMA, PRICING_CLASSES, QUARANTINE_SCHEMA, TOKEN_PRICE_SCHEMA, conform

# Relative tolerance for price_usd_per_gpu_hour == price_usd_per_hour / gpu_count.
PER_GPU_TOLERANCE = 1e-6


def _num_problem(col: str) -> list[tuple[pl.Expr, str, str]]:
    c = pl.col(col)
    return [
        (c.is_null(), col, f"{col} missing or not a number"),
        (c.is_nan(), col, f"{col} is NaN"),
        (c.is_infinite(), col, f"{col} is infinite"),
        (c <= 0, col, f"{col} <= 0: zero or negative prices mean not offered, not free"),
    ]


def _gpu_rules() -> list[tuple[pl.Expr, str, str]]:
    per_gpu = pl.col("price_usd_per_hour") / pl.col("gpu_count")
    return [
        (pl.col("quarantine_reason").is_not_null(), "row", ""),  # reason given by the source
        (pl.col("offer_id").is_null(), "offer_id", "offer_id missing"),
        (pl.col("venue").is_null(), "venue", "venue missing"),
        (pl.col("gpu_model").is_null() | (pl.col("gpu_model") == "unknown:"), "gpu_model", "gpu_model missing"),
        (pl.col("gpu_count").is_null() | (pl.col("gpu_count") <= 0), "gpu_count", "gpu_count missing or <= 0"),
        (pl.col("currency").fill_null("?") != "USD", "currency",
         "currency is not USD and no conversion rate is recorded"),
        *_num_problem("price_usd_per_hour"),
        *_num_problem("price_usd_per_gpu_hour"),
        (((per_gpu - pl.col("price_usd_per_gpu_hour")).abs() > PER_GPU_TOLERANCE * pl.col("price_usd_per_gpu_hour")),
         "price_usd_per_gpu_hour", "per-GPU price is not instance price / gpu_count"),
        (~pl.col("pricing_class").is_in(list(PRICING_CLASSES)) | pl.col("pricing_class").is_null(), "pricing_class",
         f"pricing_class not one of {', '.join(PRICING_CLASSES)}"),
    ]


def _token_rules() -> list[tuple[pl.Expr, str, str]]:
    def bad(col: str) -> pl.Expr:
        c = pl.col(col)
        return c.is_not_null() & (c.is_nan() | c.is_infinite() | (c <= 0))

    return [
        (pl.col("quarantine_reason").is_not_null(), "row", ""),
        (pl.col("provider").is_null(), "provider", "provider missing"),
        (pl.col("model").is_null() | (pl.col("model") == ""), "model", "model missing"),
        (pl.col("usd_per_mtok_input").is_null() & pl.col("usd_per_mtok_output").is_null(), "usd_per_mtok_input",
         "no input or output price"),
        (bad("usd_per_mtok_input"), "usd_per_mtok_input", "usd_per_mtok_input is NaN, infinite, zero or negative"),
        (bad("usd_per_mtok_output"), "usd_per_mtok_output", "usd_per_mtok_output is NaN, infinite, zero or negative"),
        (pl.col("usd_per_mtok_cached_input").is_not_null()
         & (pl.col("usd_per_mtok_cached_input").is_nan() | pl.col("usd_per_mtok_cached_input").is_infinite()
            | (pl.col("usd_per_mtok_cached_input") < 0)),
         "usd_per_mtok_cached_input", "usd_per_mtok_cached_input is NaN, infinite or negative"),
        (pl.col("currency").fill_null("?") != "USD", "currency",
         "currency is not USD and no conversion rate is recorded"),
    ]


def split(df: pl.DataFrame, kind: str, duplicates: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows to load, quarantine rows) for a frame of ``kind`` 'gpu' or 'token'.

    ``duplicates``: also quarantine rows sharing a key (one source's response at one time, as the
    scrape framework passes it; importers apply their own interval and duplicate rules).
    """
    schema = GPU_QUOTE_SCHEMA if kind == "gpu" else TOKEN_PRICE_SCHEMA
    df = conform(df, schema)
    rules = _gpu_rules() if kind == "gpu" else _token_rules()
    field_expr: pl.Expr = pl.lit(None, dtype=pl.String)
    reason_expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, fname, reason in reversed(rules):  # first rule wins: build the chain from the last
        cond = cond.fill_null(False)
        field_expr = pl.when(cond).then(pl.lit(fname)).otherwise(field_expr)
        reason_expr = pl.when(cond).then(pl.col("quarantine_reason") if not reason else pl.lit(reason)).otherwise(
            reason_expr)
    tagged = df.with_columns(_field=field_expr, _reason=reason_expr)
    good = tagged.filter(pl.col("_reason").is_null())
    bad = tagged.filter(pl.col("_reason").is_not_null())
    if duplicates and good.height:
        good = _tag_duplicates(good, kind)
        bad = pl.concat([bad, good.filter(pl.col("_reason").is_not_null())])
        good = good.filter(pl.col("_reason").is_null())
    return good.drop("_field", "_reason", "quarantine_reason"), quarantine_rows(bad, kind)


# The natural key of a row, as the store's primary key: one row per key and observation.
KEYS = {"gpu": ["source", "offer_id", "observed_at"], "token": ["source", "provider", "source_model_id", "observed_at"]}
DUPLICATE_COPY = "duplicate: the same offer appears again in this response with the same values (first copy kept)"
DUPLICATE_CONFLICT = "duplicate: the same offer appears {n} times in this response with different values (none kept)"


def _tag_duplicates(good: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Rows sharing a key within one source's response. Identical copies (a listing repeated,
    e.g. on two pages) keep their first copy; copies that disagree (two prices for one offer)
    are all quarantined: which one the venue means cannot be told from the response."""
    key = KEYS[kind]
    if not good.select(pl.struct(key).is_duplicated().any()).item():
        return good  # the usual case: one row per key (no wide comparison needed)
    values = [c for c in good.columns if c not in ("raw_sha256", "_field", "_reason")]
    n_key = pl.len().over(key)
    n_same = pl.len().over(values)
    first = pl.int_range(pl.len()).over(values) == 0
    conflict = n_key > n_same
    copy = (n_key > 1) & ~conflict & ~first
    reason = (pl.when(conflict).then(pl.format(DUPLICATE_CONFLICT.replace("{n}", "{}"), n_key))
              .when(copy).then(pl.lit(DUPLICATE_COPY)).otherwise(pl.col("_reason")))
    field = pl.when(conflict | copy).then(pl.lit(key[1])).otherwise(pl.col("_field"))
    return good.with_columns(_reason=reason, _field=field)


def quarantine_rows(bad: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Quarantine rows for ``bad`` (rows of the source schema with ``_field`` and ``_reason``)."""
    if kind == "gpu":
        key = pl.col("offer_id").fill_null("?")
        value = pl.format("price_usd_per_hour={} price_usd_per_gpu_hour={} gpu_count={} currency={} gpu_model={}",
                          pl.col("price_usd_per_hour"), pl.col("price_usd_per_gpu_hour"), pl.col("gpu_count"),
                          pl.col("currency"), pl.col("gpu_model"))
    else:
        key = pl.concat_str([pl.col("provider").fill_null("?"), pl.col("source_model_id").fill_null("?")],
                            separator="|")
        value = pl.format("input={} output={} cached={} currency={}", pl.col("usd_per_mtok_input"),
                          pl.col("usd_per_mtok_output"), pl.col("usd_per_mtok_cached_input"), pl.col("currency"))
    quarantine = bad.select(
        pl.col("observed_at"), pl.col("source"), pl.lit(kind).alias("kind"), key.alias("record_key"),
        pl.col("_field").alias("field"), value.fill_null("null").alias("value"), pl.col("_reason").alias("reason"),
        pl.col("raw_sha256"), pl.col("dataset"),
    )
    return conform(quarantine, QUARANTINE_SCHEMA)
