"""``intervals``: price ledgers, one row per price and the interval [valid_from, valid_to)
during which it held, per model and provider (tokens) or per offer (GPUs).

Known shapes are recognised by their header (``--shape`` forces one): LiteLLM's price
history, OpenRouter's change ledger, simonw/llm-prices and LLMRates; our own normalised
shape is the quote schema without ``observed_at`` plus ``valid_from`` / ``valid_to``.

Expansion (an interval join of the ledger with a sampling calendar): the methodology
treats a list price as valid for ``list_price_window_hours`` after it was seen, so a price
that held for a year does not need 8,760 hourly rows. Each interval yields one
observation at ``valid_from`` (so a change takes effect at its own time, not at the next
sample) and one at each step of the calendar (default daily, 00:00 UTC) inside the
interval. A price whose interval ends without a successor stops being sampled at
``valid_to``; an open interval runs to the ledger's own as-of time (the latest date in
the file, or ``--until``), never past now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from index import canonical
from index.importers.common import (
    FUTURE_SLACK,
    LINE,
    UTC_TIME,
    Batch,
    ImportFileError,
    ImportOptions,
    apply_columns,
    check_columns,
    empty_issues,
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
    token_model,
    validated,
    venue_lookup,
)
from index.schemas import GPU_QUOTE_SCHEMA, TOKEN_PRICE_SCHEMA, conform

# Every shape is turned into these columns (strings until parsed).
TOKEN_COLS = ("provider", "source_model_id", "model", "usd_per_mtok_input", "usd_per_mtok_output",
              "usd_per_mtok_cached_input", "context_window", "quantization", "currency", "source", "valid_from",
              "valid_to")
GPU_COLS = ("venue", "venue_class", "offer_id", "gpu_model", "gpu_count", "price_usd_per_hour",
            "price_usd_per_gpu_hour", "pricing_class", "region", "tier", "price_basis", "currency", "source",
            "valid_from", "valid_to")
TOKEN_PRICES = ("usd_per_mtok_input", "usd_per_mtok_output", "usd_per_mtok_cached_input")
GPU_PRICES = ("price_usd_per_gpu_hour", "price_usd_per_hour")


@dataclass(frozen=True)
class Shape:
    name: str
    kind: str
    signature: frozenset[str]  # columns that identify the shape
    columns: frozenset[str]  # every column the shape has (the rest are unknown)
    default_source: str
    to_normal: Callable[[pl.DataFrame], pl.DataFrame]
    asof_columns: tuple[str, ...]  # date columns whose maximum is the ledger's as-of time


def _litellm(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(
        LINE, provider=text("litellm_provider"), source_model_id=text("model"), model=text("model"),
        usd_per_mtok_input=pl.col("input_usd_per_mtok"), usd_per_mtok_output=pl.col("output_usd_per_mtok"),
        usd_per_mtok_cached_input=pl.col("cache_read_usd_per_mtok"),
        valid_from=pl.col("valid_from"), valid_to=pl.col("valid_to"))


def _openrouter(df: pl.DataFrame) -> pl.DataFrame:
    # the listing price is what OpenRouter charges by default: venue "openrouter", as the live source.
    # A variant (":batch", ":extended", ":free") is another product: it keeps its own id.
    return df.select(
        LINE, provider=pl.lit("openrouter"), source_model_id=text("model_id"), model=text("model_id"),
        usd_per_mtok_input=pl.col("prompt_usd_per_mtok"), usd_per_mtok_output=pl.col("completion_usd_per_mtok"),
        valid_from=pl.col("valid_from"), valid_to=pl.col("valid_to"))


def _llm_prices(df: pl.DataFrame) -> pl.DataFrame:
    # from_date blank = "from the beginning": the earliest the data shows is the model's first commit,
    # usable only when it is before to_date (otherwise the start is unknown and the row is quarantined)
    start = pl.when(text("from_date").is_not_null()).then(pl.col("from_date")).when(
        text("to_date").is_null() | (timestamp("first_committed_date") < timestamp("to_date"))
    ).then(pl.col("first_committed_date")).otherwise(None)
    return df.select(
        LINE, provider=text("vendor"), source_model_id=text("model_id"), model=text("model_id"),
        usd_per_mtok_input=pl.col("input_usd_per_mtok"), usd_per_mtok_output=pl.col("output_usd_per_mtok"),
        usd_per_mtok_cached_input=pl.col("input_cached_usd_per_mtok"),
        valid_from=start, valid_to=pl.col("to_date"))


def _llmrates(df: pl.DataFrame) -> pl.DataFrame:
    # non-standard tiers (batch, flex, long-context, regional) are other products: kept under
    # their own model id (model@qualifiers) so that they never feed the model's headline series
    quals = [pl.when(text("processing_tier").fill_null("standard") != "standard").then(text("processing_tier")),
             pl.when(text("token_tier_min").is_not_null() | text("token_tier_max").is_not_null()).then(
                 pl.format("tokens{}-{}", text("token_tier_min").fill_null(""), text("token_tier_max").fill_null(""))),
             text("tier_label"), text("region")]
    qual = pl.concat_str([q.cast(pl.String) for q in quals], separator="@", ignore_nulls=True)
    smid = pl.when(qual == "").then(text("model_slug")).otherwise(pl.format("{}@{}", text("model_slug"), qual))
    return df.select(
        LINE, provider=text("provider_slug"), source_model_id=smid, model=smid,
        usd_per_mtok_input=pl.col("input_price_per_million"), usd_per_mtok_output=pl.col("output_price_per_million"),
        usd_per_mtok_cached_input=pl.col("cached_input_price_per_million"),
        currency=text("price_unit"), valid_from=pl.col("valid_from"), valid_to=pl.col("valid_to"))


SHAPES: dict[str, Shape] = {s.name: s for s in (
    Shape("litellm", "token", frozenset({"model", "litellm_provider", "input_usd_per_mtok", "valid_from"}),
          frozenset({"model", "litellm_provider", "mode", "input_usd_per_mtok", "output_usd_per_mtok",
                     "cache_read_usd_per_mtok", "cache_write_usd_per_mtok", "valid_from", "valid_to", "from_commit",
                     "to_commit", "change_at_end"}), "litellm", _litellm, ("valid_from", "valid_to")),
    Shape("openrouter", "token", frozenset({"model_id", "prompt_usd_per_mtok", "completion_usd_per_mtok",
                                            "valid_from"}),
          frozenset({"model_id", "name", "valid_from", "valid_to", "prompt_usd_per_mtok", "completion_usd_per_mtok",
                     "first_seen", "last_seen", "present_now"}), "openrouter-ledger", _openrouter,
          ("valid_from", "valid_to", "last_seen")),
    Shape("llm-prices", "token", frozenset({"vendor", "model_id", "input_usd_per_mtok", "from_date", "to_date"}),
          frozenset({"vendor", "model_id", "name", "input_usd_per_mtok", "output_usd_per_mtok",
                     "input_cached_usd_per_mtok", "from_date", "to_date", "extra_fields", "first_committed_date",
                     "first_commit"}), "llm-prices", _llm_prices, ("from_date", "to_date", "first_committed_date")),
    Shape("llmrates", "token", frozenset({"provider_slug", "model_slug", "input_price_per_million", "valid_from"}),
          frozenset({"provider_slug", "model_slug", "processing_tier", "token_tier_min", "token_tier_max",
                     "tier_label", "region", "provider_name", "model_name", "model_family", "model_type",
                     "input_price_per_million", "cached_input_price_per_million", "output_price_per_million",
                     "thinking_output_price_per_million", "cached_write_price_per_million", "price_unit",
                     "valid_from", "valid_to", "from_commit", "to_commit", "change_at_end"}),
          "llmrates", _llmrates, ("valid_from", "valid_to")),
)}


def detect(path: Path, names: list[str], forced: str | None) -> Shape | None:
    """The known ledger shape of a header, or None for our normalised shape (or a --map)."""
    if forced:
        if forced == "normalised":
            return None
        if forced not in SHAPES:
            raise ImportFileError(path, None, None, f"unknown ledger shape '{forced}'; known: "
                                                    f"{', '.join([*SHAPES, 'normalised'])}")
        shape = SHAPES[forced]
        missing = sorted(shape.signature - set(names))
        if missing:
            raise ImportFileError(path, 1, missing[0], f"required column of the {forced} shape missing")
        return shape
    hits = [s for s in SHAPES.values() if s.signature <= set(names)]
    return hits[0] if len(hits) == 1 else None


def read(path: Path, opts: ImportOptions, source: str | None, dataset: str, sha: str) -> Iterator[Batch]:
    names = header(path)
    shape = None if opts.maps else detect(path, names, opts.shape)
    raw = read_all(path)
    if shape is not None:
        unknown = [n for n in names if n not in shape.columns]
        if unknown and not opts.ignore_unknown:
            raise ImportFileError(path, 1, unknown[0], f"unknown column for the {shape.name} ledger shape: pass "
                                                       "--ignore-unknown-columns to skip it")
        kind = shape.kind
        asof = _asof(raw, shape.asof_columns, opts.now)
        frame = shape.to_normal(raw)
        src = source or shape.default_source
    else:
        renamed = {opts.maps.get(n, n) for n in names} | set(opts.maps) | set(opts.sets)
        kind = "gpu" if renamed & {"gpu_model", "price_usd_per_gpu_hour", "price_usd_per_hour"} else "token"
        known = set(GPU_COLS if kind == "gpu" else TOKEN_COLS)
        required: list[tuple[str, ...]] = [("valid_from",)]
        required += ([("venue",), ("gpu_model",), GPU_PRICES, ("pricing_class",)] if kind == "gpu"
                     else [("provider",), ("model", "source_model_id"), ("usd_per_mtok_input", "usd_per_mtok_output")])
        mapping = check_columns(path, names, known, opts, required)
        frame = apply_columns(raw, mapping, opts.sets)
        asof = _asof(frame, ("valid_from", "valid_to"), opts.now)
        src = source or "import"
    until = opts.until or asof
    if until is None or until > opts.now:
        until = opts.now
    yield from _expand_batches(frame, kind, opts, src, dataset, sha, until)


def _asof(df: pl.DataFrame, cols: tuple[str, ...], now: datetime) -> datetime | None:
    """The ledger's as-of time: its latest date that is not in the future (those rows are quarantined)."""
    present = [timestamp(c).filter(timestamp(c) <= now + FUTURE_SLACK).max() for c in cols if c in df.columns]
    if not present or df.height == 0:
        return None
    value = df.select(pl.max_horizontal(present)).item()
    return value if isinstance(value, datetime) else None


def _interval_checks(df: pl.DataFrame, kind: str, opts: ImportOptions) -> list[tuple[pl.Expr, str, str]]:
    prices = TOKEN_PRICES if kind == "token" else GPU_PRICES
    texts = ("provider", "model") if kind == "token" else ("venue", "gpu_model", "pricing_class")
    checks: list[tuple[pl.Expr, str, str]] = [
        (text("valid_from").is_null(), "valid_from", "valid_from missing (no known start)"),
        (not_a_timestamp("valid_from"), "valid_from", "not a date (use ISO 8601, e.g. 2025-06-10)"),
        (not_a_timestamp("valid_to"), "valid_to", "not a date (use ISO 8601, e.g. 2025-06-10)"),
        (timestamp("valid_to") < timestamp("valid_from"), "valid_to", "valid_to is before valid_from (reversed)"),
        (timestamp("valid_from") > opts.now + FUTURE_SLACK, "valid_from",
         f"valid_from in the future (after {opts.now:%Y-%m-%dT%H:%M}Z): not yet observed"),
    ]
    checks += [(not_a_number(c), c, "not a number (a price must be a plain number in USD, e.g. 2.5)")
               for c in prices if c in df.columns]
    checks += [(number_in_text(c), c, "a number in a text column: are the columns shifted?")
               for c in texts if c in df.columns]
    return checks


def _normalise(df: pl.DataFrame, kind: str, opts: ImportOptions, src: str, dataset: str, sha: str) -> pl.DataFrame:
    """Parsed interval rows in the kind's schema, plus valid_from / valid_to / _line."""
    vid, vclass = venue_lookup(opts.venue_map)
    has = set(df.columns)

    def opt_text(c: str, default: str | None = None) -> pl.Expr:
        return text(c).fill_null(default) if c in has else pl.lit(default, dtype=pl.String)

    base = df.with_columns(_from=timestamp("valid_from"),
                           _to=timestamp("valid_to") if "valid_to" in has else pl.lit(None, dtype=UTC_TIME))
    if kind == "token":
        base = base.with_columns(_smid=text("source_model_id") if "source_model_id" in has else text("model"),
                                 _praw=text("provider"))
        base = base.with_columns(_mraw=text("model").fill_null(pl.col("_smid")) if "model" in has else pl.col("_smid"))
        out = base.with_columns(
            source=opt_text("source", src), provider=map_values("_praw", vid, base),
            source_model_id=pl.col("_smid").fill_null(pl.col("_mraw")),
            model=map_values("_mraw", token_model, base),
            currency=opt_text("currency", "USD"), quantization=opt_text("quantization"),
            context_window=number("context_window").cast(pl.Int64) if "context_window" in has else None,
            **{c: number(c) if c in has else pl.lit(None, dtype=pl.Float64) for c in TOKEN_PRICES},
        )
        out = out.with_columns(model_family=map_values("model", canonical.model_family, out))
        schema = TOKEN_PRICE_SCHEMA
    else:
        base = base.with_columns(_vraw=text("venue"), _graw=text("gpu_model"))
        count = number("gpu_count").cast(pl.Int32) if "gpu_count" in has else pl.lit(1, dtype=pl.Int32)
        base = base.with_columns(gpu_count=count)
        per_gpu = number("price_usd_per_gpu_hour") if "price_usd_per_gpu_hour" in has else None
        per_inst = number("price_usd_per_hour") if "price_usd_per_hour" in has else None
        out = base.with_columns(
            source=opt_text("source", src), venue=map_values("_vraw", vid, base),
            venue_class=text("venue_class") if "venue_class" in has else map_values("_vraw", vclass, base),
            gpu_model=map_values("_graw", canonical.gpu_model, base),
            price_usd_per_gpu_hour=per_gpu if per_gpu is not None else per_inst / pl.col("gpu_count"),  # type: ignore[operator]
            price_usd_per_hour=per_inst if per_inst is not None else per_gpu * pl.col("gpu_count"),  # type: ignore[operator]
            pricing_class=opt_text("pricing_class"), region=opt_text("region"), tier=opt_text("tier", "T3"),
            price_basis=opt_text("price_basis", "bundled"), currency=opt_text("currency", "USD"),
        )
        synthetic = pl.concat_str([pl.col("venue"), pl.col("gpu_model"), pl.col("gpu_count").cast(pl.String),
                                   pl.col("pricing_class"), pl.col("region").fill_null("")], separator="|")
        out = out.with_columns(offer_id=text("offer_id").fill_null(synthetic) if "offer_id" in has else synthetic)
        schema = GPU_QUOTE_SCHEMA
    out = out.with_columns(observed_at=pl.col("_from"), dataset=pl.lit(dataset), raw_sha256=pl.lit(sha))
    return conform(out, schema).with_columns(out[LINE], valid_from=out["_from"], valid_to=out["_to"])


def _overlaps(df: pl.DataFrame, key: list[str], prices: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Intervals of one key that overlap: same prices -> kept once; different prices -> quarantined."""
    if df.height == 0:
        return df, empty_issues(), 0
    far = pl.lit(datetime(9999, 1, 1), dtype=UTC_TIME)
    s = df.sort([*key, "valid_from", LINE])
    end = pl.col("valid_to").fill_null(far)
    s = s.with_columns(
        _prev_end=end.cum_max().shift(1).over(key),
        _prev_line=pl.col(LINE).shift(1).over(key),
        _same=pl.all_horizontal([pl.col(p).eq_missing(pl.col(p).shift(1).over(key)) for p in prices]),
    )
    overlap = (pl.col("valid_from") < pl.col("_prev_end")).fill_null(False)
    dup_same = s.filter(overlap & pl.col("_same"))
    bad = s.filter(overlap & ~pl.col("_same"))
    good = s.filter(~overlap)
    issues = bad.select(
        pl.col(LINE), pl.lit(prices[0]).alias("column"), pl.col(prices[0]).cast(pl.String).alias("value"),
        pl.format("interval overlaps line {} of the same {} with a different price", pl.col("_prev_line"),
                  pl.lit("model and provider" if "provider" in key else "offer")).alias("reason"),
        pl.col("valid_from").alias("observed_at"),
        pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="|").alias("record_key"),
    )
    return good.drop("_prev_end", "_prev_line", "_same"), issues.cast(empty_issues().schema), dup_same.height  # type: ignore[arg-type]


def _expand_batches(frame: pl.DataFrame, kind: str, opts: ImportOptions, src: str, dataset: str, sha: str,
                    until: datetime) -> Iterator[Batch]:
    n = frame.height
    good, issues = issues_from(frame, _interval_checks(frame, kind, opts))
    rows = _normalise(good, kind, opts, src, dataset, sha)
    # row checks (prices > 0, USD, provider known...) once per interval, not once per expanded sample
    lines = rows.select(LINE, "valid_from", "valid_to")
    checked, v_issues = validated(rows.drop("valid_from", "valid_to"), kind)
    checked = checked.join(lines, on=LINE, how="left")
    empty = checked.filter(pl.col("valid_to").is_not_null() & (pl.col("valid_to") <= pl.col("valid_from")))
    checked = checked.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("valid_from")))
    key = ["source", "provider", "source_model_id"] if kind == "token" else ["source", "offer_id"]
    prices = TOKEN_PRICES if kind == "token" else GPU_PRICES
    checked, o_issues, dup_same = _overlaps(checked, key, prices)
    skipped = {}
    if empty.height:
        skipped["empty interval (valid_to = valid_from): nothing to sample"] = empty.height
    if dup_same:
        skipped["duplicate interval (overlaps one with the same price)"] = dup_same
    all_issues = pl.concat([issues, v_issues, o_issues])
    # expand in slices of intervals so that a long ledger never sits in memory expanded
    per_slice = max(1, opts.batch_rows // 64)
    first = True
    for off in range(0, max(checked.height, 1), per_slice):
        part = checked.slice(off, per_slice)
        obs = expand(part, opts.every, until, key)
        yield Batch(kind, obs, all_issues if first else empty_issues(), n if first else 0,
                    skipped=skipped if first else {},
                    notes={"intervals": checked.height, "until": until} if first else {})
        first = False


def expand(intervals: pl.DataFrame, every: object, until: datetime, key: list[str]) -> pl.DataFrame:
    """Observations of each interval: at valid_from and at each calendar step inside it (before ``until``)."""
    if intervals.height == 0:
        return intervals.drop(LINE, "valid_from", "valid_to")
    step = pl.duration(microseconds=int(every.total_seconds() * 1e6)) if hasattr(every, "total_seconds") else every
    end = pl.min_horizontal(pl.col("valid_to").fill_null(pl.lit(until, dtype=UTC_TIME)), pl.lit(until, dtype=UTC_TIME))
    first_step = pl.col("valid_from").dt.truncate(_every_str(every)) + step  # type: ignore[operator]
    grid = (intervals.filter(pl.col("valid_from") < end)
            .with_columns(observed_at=pl.datetime_ranges(first_step, end, interval=_every_str(every), closed="left",
                                                         time_zone="UTC"))
            .explode("observed_at").filter(pl.col("observed_at").is_not_null()))
    starts = intervals.filter(pl.col("valid_from") <= pl.lit(until, dtype=UTC_TIME)).with_columns(
        observed_at=pl.col("valid_from"))
    out = pl.concat([starts, grid.select(starts.columns)])
    return out.unique(subset=[*key, "observed_at"], keep="first").drop(LINE, "valid_from", "valid_to")


def _every_str(every: object) -> str:
    secs = int(every.total_seconds()) if hasattr(every, "total_seconds") else 86400
    return f"{secs}s"
