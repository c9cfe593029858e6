"""What every importer shares: streamed reading with line numbers, vectorised parsing with a
reason per bad cell, canonical names, and validation that keeps each row's line.

A file is read as text (every column a string) in batches of ``batch_rows`` rows
(``pl.scan_csv(...).collect_batches``), so a file of any size is read with bounded memory
and every problem can name its file, line and column. Line numbers count rows from the
header (line 1); a quoted field that spans lines shifts them, which the message says.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from index import canonical, validate
from index.errors import ConfigError, SpotindexError
from index.paths import data_dir
from index.schemas import GPU_QUOTE_SCHEMA, QUARANTINE_SCHEMA, TOKEN_PRICE_SCHEMA, conform

UTC_TIME = pl.Datetime("us", "UTC")
LINE = "_line"
DEFAULT_BATCH_ROWS = 100_000
# Clock skew we tolerate before calling a timestamp "in the future".
FUTURE_SLACK = timedelta(minutes=10)
# A text cell that is only a number (optionally with a currency sign): a price in a text column.
NUMBER_LIKE = r"^\s*[$€£]?\s*-?\d+(?:[.,]\d+)?\s*$"
ISSUE_SCHEMA: dict[str, pl.DataType] = {LINE: pl.Int64(), "column": pl.String(), "value": pl.String(),
                                      "reason": pl.String(), "observed_at": UTC_TIME, "record_key": pl.String()}


class ImportFileError(SpotindexError):
    """The file as a whole cannot be imported: names the file, the line and the column."""

    def __init__(self, path: Path | str, line: int | None, column: str | None, message: str):
        where = f"{path}" + (f":{line}" if line is not None else "")
        col = f" column '{column}':" if column else ""
        super().__init__(f"{where}:{col} {message}")


@dataclass
class VenueMapEntry:
    venue: str
    venue_class: str | None = None


@dataclass
class ImportOptions:
    source: str | None = None
    dataset: str | None = None
    venue_map: dict[str, VenueMapEntry] = field(default_factory=dict)
    maps: dict[str, str] = field(default_factory=dict)  # target column -> column in the file
    sets: dict[str, str] = field(default_factory=dict)  # target column -> constant value
    ignore_unknown: bool = False
    batch_rows: int = DEFAULT_BATCH_ROWS
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    until: datetime | None = None  # intervals: where an open interval ends (default: the ledger's own as-of)
    every: timedelta = timedelta(days=1)  # intervals: sampling step of the expansion
    shape: str | None = None  # intervals: force a ledger shape
    price: str = "avg"  # provider-summary: which per-provider price is the venue's price


@dataclass
class Batch:
    """One batch out of an importer: rows ready for the store and the issues found."""

    kind: str  # gpu | token
    rows: pl.DataFrame  # conformed to the kind's schema
    issues: pl.DataFrame  # ISSUE_SCHEMA
    rows_read: int
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows dropped without quarantine
    notes: dict[str, Any] = field(default_factory=dict)


def batch_rows_default() -> int:
    return int(os.environ.get("SPOTINDEX_IMPORT_BATCH_ROWS", DEFAULT_BATCH_ROWS))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def header(path: Path) -> list[str]:
    """The file's column names (CSV: its first line; Parquet: its schema)."""
    if not path.exists():
        raise ImportFileError(path, None, None, "no such file")
    if is_parquet(path):
        try:
            return list(pl.read_parquet_schema(path))
        except Exception as exc:  # noqa: BLE001 - any reader error is a bad file for the user
            raise ImportFileError(path, None, None, f"not a readable Parquet file ({exc})") from None
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        first = next(csv.reader(fh), None)
    if not first:
        raise ImportFileError(path, 1, None, "empty file: expected a header line")
    names = [c.strip() for c in first]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ImportFileError(path, 1, dup[0], "column appears twice in the header")
    return names


def iter_batches(path: Path, batch_rows: int) -> Iterator[pl.DataFrame]:
    """The file as string columns plus ``_line``, in batches of at most ``batch_rows`` rows."""
    try:
        if is_parquet(path):
            lf = pl.scan_parquet(path).with_row_index(LINE, offset=1)
            lf = lf.with_columns(pl.all().exclude(LINE).cast(pl.String))
        else:
            lf = pl.scan_csv(path, infer_schema=False, row_index_name=LINE, row_index_offset=2,
                             truncate_ragged_lines=False)
        for df in lf.collect_batches(chunk_size=batch_rows):
            if df.height > batch_rows:  # the engine may hand over larger morsels: keep memory bounded
                for off in range(0, df.height, batch_rows):
                    yield df.slice(off, batch_rows).with_columns(pl.col(LINE).cast(pl.Int64))
            else:
                yield df.with_columns(pl.col(LINE).cast(pl.Int64))
    except pl.exceptions.ComputeError as exc:
        raise ImportFileError(path, None, None, f"cannot be read as {'Parquet' if is_parquet(path) else 'CSV'}: "
                                                f"{str(exc).splitlines()[0]}") from None


def read_all(path: Path) -> pl.DataFrame:
    """Small files (ledgers, summaries): the whole file as strings with ``_line``."""
    frames = list(iter_batches(path, 1 << 30))
    if not frames:
        return pl.DataFrame({LINE: []}, schema={LINE: pl.Int64})
    return pl.concat(frames, how="vertical")


# ---- cells ----------------------------------------------------------------------------------------

def text(col: str) -> pl.Expr:
    """A text cell with blanks as null."""
    c = pl.col(col).str.strip_chars()
    return pl.when(c == "").then(None).otherwise(c)


def number(col: str) -> pl.Expr:
    return text(col).cast(pl.Float64, strict=False)


def not_a_number(col: str) -> pl.Expr:
    return text(col).is_not_null() & number(col).is_null()


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M%z", "%Y-%m-%d %H:%M:%S%.f",
                 "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def timestamp(col: str) -> pl.Expr:
    """ISO 8601 date or date-time; a zone is honoured, a naive time is UTC, a date is 00:00 UTC."""
    s = text(col).str.replace("T", " ").str.replace(r"Z$", "+00:00").str.replace(r" UTC$", "+00:00")
    parsed = []
    for fmt in _TIME_FORMATS:
        e = s.str.to_datetime(fmt, strict=False, time_unit="us")
        parsed.append(e.dt.convert_time_zone("UTC") if "%z" in fmt else e.dt.replace_time_zone("UTC"))
    return pl.coalesce(parsed)


def not_a_timestamp(col: str) -> pl.Expr:
    return text(col).is_not_null() & timestamp(col).is_null()


def number_in_text(col: str) -> pl.Expr:
    return text(col).str.contains(NUMBER_LIKE).fill_null(False)


def issues_from(df: pl.DataFrame, checks: list[tuple[pl.Expr, str, str]], key: pl.Expr | None = None,
                observed: pl.Expr | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows without a problem, one issue per bad row: its first failed check, in order).

    ``checks`` are (condition, column, reason); the issue keeps the cell's raw value.
    """
    if df.height == 0 or not checks:
        return df, pl.DataFrame(schema=ISSUE_SCHEMA)
    col_e: pl.Expr = pl.lit(None, dtype=pl.String)
    reason_e: pl.Expr = pl.lit(None, dtype=pl.String)
    value_e: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, column, reason in reversed(checks):
        c = cond.fill_null(False)
        col_e = pl.when(c).then(pl.lit(column)).otherwise(col_e)
        reason_e = pl.when(c).then(pl.lit(reason)).otherwise(reason_e)
        raw = pl.col(column).cast(pl.String) if column in df.columns else pl.lit(None, dtype=pl.String)
        value_e = pl.when(c).then(raw).otherwise(value_e)
    tagged = df.with_columns(_col=col_e, _reason=reason_e, _value=value_e)
    good = tagged.filter(pl.col("_reason").is_null()).drop("_col", "_reason", "_value")
    bad = tagged.filter(pl.col("_reason").is_not_null())
    issues = bad.select(
        pl.col(LINE), pl.col("_col").alias("column"), pl.col("_value").alias("value"),
        pl.col("_reason").alias("reason"),
        (observed if observed is not None else pl.lit(None, dtype=UTC_TIME)).alias("observed_at"),
        (key if key is not None else pl.lit(None, dtype=pl.String)).alias("record_key"),
    )
    return good, issues.cast(ISSUE_SCHEMA)  # type: ignore[arg-type]


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


# ---- names ----------------------------------------------------------------------------------------

def map_values(col: str, fn: Callable[[str], str | None], df: pl.DataFrame) -> pl.Expr:
    """Apply a Python lookup once per distinct value (names repeat: a file has few distinct ones)."""
    uniques = [v for v in df[col].unique().to_list() if v is not None] if col in df.columns else []
    mapping = {v: fn(v) for v in uniques}
    return pl.col(col).replace_strict(mapping, default=None, return_dtype=pl.String)


@cache
def _import_aliases() -> dict[str, str]:
    path = data_dir() / "import_aliases.toml"
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return {k.strip().lower(): str(v) for k, v in raw.get("token_models", {}).items()}


def token_model(raw: str) -> str:
    """Canonical model id of a ledger's spelling: exact data/models.toml spellings, then
    data/import_aliases.toml, else the spelling itself (lower case).

    Strict on purpose: ledgers keep retired ids (``claude-3-5-haiku`` vs ``claude-3.5-haiku``,
    regional ``azure/eu/o3``) whose prices lag; the live normalisation rule would fold them
    into the model and mix stale prices into its venue median.
    """
    key = raw.strip().lower()
    return canonical.token_model_exact(raw) or _import_aliases().get(key) or key


def load_venue_map(path: Path | None) -> dict[str, VenueMapEntry]:
    """``--venue-map``: CSV (raw,venue[,venue_class]) or TOML ([venues] raw = "venue" or {venue, class})."""
    if path is None:
        return {}
    if not path.exists():
        raise ImportFileError(path, None, None, "venue map not found")
    out: dict[str, VenueMapEntry] = {}
    if path.suffix.lower() == ".toml":
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ImportFileError(path, None, None, f"not valid TOML: {exc}") from None
        for name, spec in raw.get("venues", raw).items():
            if isinstance(spec, str):
                out[canonical.fold(name)] = VenueMapEntry(spec)
            elif isinstance(spec, dict) and "venue" in spec:
                out[canonical.fold(name)] = VenueMapEntry(str(spec["venue"]), spec.get("class"))
            else:
                raise ImportFileError(path, None, name, "expected a venue id or {venue = ..., class = ...}")
        return out
    with path.open(newline="") as fh:
        for i, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0].startswith("#") or (i == 1 and row[0].strip().lower() in ("raw", "provider")):
                continue
            if len(row) < 2 or not row[1].strip():
                raise ImportFileError(path, i, "venue", "expected raw,venue[,venue_class]")
            vc = row[2].strip() if len(row) > 2 and row[2].strip() else None
            out[canonical.fold(row[0])] = VenueMapEntry(row[1].strip(), vc)
    return out


def venue_lookup(venue_map: Mapping[str, VenueMapEntry]) -> tuple[Callable[[str], str], Callable[[str], str | None]]:
    def vid(raw: str) -> str:
        hit = venue_map.get(canonical.fold(raw))
        return hit.venue if hit else canonical.venue_id(raw)

    def vclass(raw: str) -> str | None:
        hit = venue_map.get(canonical.fold(raw))
        if hit and hit.venue_class:
            return hit.venue_class
        return canonical.venue_class(vid(raw))

    return vid, vclass


# ---- validation with line numbers ------------------------------------------------------------------

def duplicates(df: pl.DataFrame, key: list[str], price_cols: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Rows repeating a key: identical prices are dropped (counted), different prices quarantined."""
    if df.height == 0:
        return df, empty_issues(), 0
    first_line = pl.col(LINE).min().over(key)
    same = pl.all_horizontal([(pl.col(c) == pl.col(c).first().over(key, order_by=LINE)) | (
        pl.col(c).is_null() & pl.col(c).first().over(key, order_by=LINE).is_null()) for c in price_cols])
    tagged = df.with_columns(_first=first_line, _same=same.fill_null(False))
    keep = tagged.filter(pl.col(LINE) == pl.col("_first"))
    dup_same = tagged.filter((pl.col(LINE) != pl.col("_first")) & pl.col("_same"))
    dup_diff = tagged.filter((pl.col(LINE) != pl.col("_first")) & ~pl.col("_same"))
    issues = dup_diff.select(
        pl.col(LINE), pl.lit(price_cols[0]).alias("column"), pl.col(price_cols[0]).cast(pl.String).alias("value"),
        pl.format("duplicate of line {} with a different price", pl.col("_first")).alias("reason"),
        pl.col("observed_at") if "observed_at" in df.columns else pl.lit(None, dtype=UTC_TIME).alias("observed_at"),
        pl.concat_str([pl.col(k).cast(pl.String) for k in key], separator="|").alias("record_key"),
    ).cast(ISSUE_SCHEMA)  # type: ignore[arg-type]
    return keep.drop("_first", "_same"), issues, dup_same.height


def validated(rows: pl.DataFrame, kind: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``index.validate.split`` on rows that carry ``_line``: the line survives in both outputs.

    ``split`` passes ``raw_sha256`` through to both outputs, so the line number rides in it
    and the file's hash is put back afterwards.
    """
    if rows.height == 0:
        schema = GPU_QUOTE_SCHEMA if kind == "gpu" else TOKEN_PRICE_SCHEMA
        cols = {k: v for k, v in schema.items() if k != "quarantine_reason"}
        return conform(rows, {**cols, LINE: pl.Int64()}), empty_issues()
    sha = rows["raw_sha256"][0] if "raw_sha256" in rows.columns else None
    good, bad = validate.split(rows.with_columns(raw_sha256=pl.col(LINE).cast(pl.String)), kind)
    good = good.with_columns(pl.col("raw_sha256").cast(pl.Int64).alias(LINE), raw_sha256=pl.lit(sha, dtype=pl.String))
    issues = bad.select(
        pl.col("raw_sha256").cast(pl.Int64).alias(LINE), pl.col("field").alias("column"), pl.col("value"),
        pl.col("reason"), pl.col("observed_at"), pl.col("record_key"),
    ).cast(ISSUE_SCHEMA)  # type: ignore[arg-type]
    # show the offending cell itself rather than split's summary of the row
    bad_cols = [c for c in issues["column"].unique().to_list() if c in rows.columns and c != LINE]
    if bad_cols:
        cells = rows.select(LINE, *[pl.col(c).cast(pl.String) for c in bad_cols]).unpivot(
            index=LINE, variable_name="column", value_name="_cell")
        issues = issues.join(cells, on=[LINE, "column"], how="left").with_columns(
            value=pl.coalesce("_cell", "value")).drop("_cell")
    return good, issues


def quarantine_rows(issues: pl.DataFrame, path: Path, source: str, kind: str, dataset: str,
                    sha: str) -> pl.DataFrame:
    """Issues as rows of the ``quarantine`` table (record_key names the file and line)."""
    if issues.height == 0:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return conform(issues.select(
        pl.col("observed_at"), pl.lit(source).alias("source"), pl.lit(kind).alias("kind"),
        pl.format("{}:{}", pl.lit(path.name), pl.col(LINE)).alias("record_key"),
        pl.col("column").alias("field"),
        pl.concat_str([pl.col("record_key").fill_null(""), pl.col("value").fill_null("null")],
                      separator=" ").str.strip_chars().alias("value"),
        pl.col("reason"), pl.lit(sha).alias("raw_sha256"), pl.lit(dataset).alias("dataset"),
    ), QUARANTINE_SCHEMA)


def check_columns(path: Path, names: list[str], known: set[str], opts: ImportOptions,
                  required: list[tuple[str, ...]]) -> dict[str, str]:
    """Rename by ``--map`` and refuse unknown columns; returns {file column: our column}.

    ``required`` lists alternatives: each tuple needs one of its columns (from the file,
    a ``--map`` or a ``--set``).
    """
    for target, src in opts.maps.items():
        if target not in known:
            raise ImportFileError(path, None, target, f"--map names unknown target column; known: "
                                                      f"{', '.join(sorted(known))}")
        if src not in names:
            raise ImportFileError(path, 1, src, f"--map {target}={src}: the file has no such column; it has: "
                                                f"{', '.join(names)}")
    for target in opts.sets:
        if target not in known:
            raise ImportFileError(path, None, target, f"--set names unknown column; known: {', '.join(sorted(known))}")
    rename = {src: target for target, src in opts.maps.items()}
    out: dict[str, str] = {}
    for n in names:
        target = rename.get(n, n)
        if target in known:
            out[n] = target
        elif not opts.ignore_unknown:
            raise ImportFileError(path, 1, n, "unknown column: map it with --map COLUMN=" + n +
                                  ", or pass --ignore-unknown-columns to skip it")
    have = set(out.values()) | set(opts.sets)
    for alternatives in required:
        if not have & set(alternatives):
            raise ImportFileError(path, 1, alternatives[0],
                                  "required column missing" + (f" (one of {', '.join(alternatives)})"
                                                               if len(alternatives) > 1 else "")
                                  + f": map one with --map {alternatives[0]}=COLUMN or --set {alternatives[0]}=VALUE")
    return out


def apply_columns(df: pl.DataFrame, mapping: dict[str, str], sets: dict[str, str]) -> pl.DataFrame:
    """Keep mapped columns under our names, add ``--set`` constants (they win over the file)."""
    keep = [pl.col(src).alias(dst) for src, dst in mapping.items() if dst not in sets]
    const = [pl.lit(v, dtype=pl.String).alias(k) for k, v in sets.items()]
    return df.select(pl.col(LINE), *keep, *const)
