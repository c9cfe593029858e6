"""Historical imports: files of past prices into the store, tagged with their dataset.

``run_import(store, format, path, options)`` reads the file with the format's reader
(``quotes``, ``intervals``, ``provider-summary``), writes each batch of rows and its
quarantine in one transaction (keys with ``ON CONFLICT DO NOTHING``: the same file twice
adds nothing) and records the import. Every row carries ``dataset = "import:<name>"``
(the file's stem unless ``--dataset``), so imported rows never mix silently with live
ones, and ``raw_sha256`` = the file's sha256.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from index import store_history
from index.importers import intervals, provider_summary, quotes
from index.importers.common import (
    LINE,
    Batch,
    ImportFileError,
    ImportOptions,
    VenueMapEntry,
    file_sha256,
    load_venue_map,
    quarantine_rows,
)
from index.store import Store

Reader = Callable[[Path, ImportOptions, str | None, str, str], Iterator[Batch]]


def _quotes(path: Path, opts: ImportOptions, source: str | None, dataset: str, sha: str) -> Iterator[Batch]:
    return quotes.read(path, opts, source or "import", dataset, sha)


FORMATS: dict[str, Reader] = {"quotes": _quotes, "intervals": intervals.read,
                              "provider-summary": provider_summary.read}


@dataclass
class Reason:
    reason: str
    count: int
    line: int
    column: str
    value: str | None

    def message(self, path: Path) -> str:
        shown = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{path}:{self.line}: column '{self.column}': {self.reason}{shown}"


@dataclass
class ImportResult:
    import_id: str
    dataset: str
    format: str
    path: Path
    kind: str | None = None
    source: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_new: int = 0
    quarantined: int = 0
    quarantine_new: int = 0
    batches: int = 0
    max_batch_rows: int = 0
    reasons: dict[str, Reason] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    first_observed: datetime | None = None
    last_observed: datetime | None = None

    def add_issues(self, issues: pl.DataFrame) -> None:
        if issues.height == 0:
            return
        self.quarantined += issues.height
        grouped = (issues.sort(LINE).group_by("reason", maintain_order=True)
                   .agg(pl.len().alias("n"), pl.col(LINE).first(), pl.col("column").first(), pl.col("value").first()))
        for r in grouped.iter_rows(named=True):
            # one entry per kind of reason ("overlaps line 7" and "overlaps line 9" are one kind)
            kind = _reason_kind(r["reason"])
            if kind in self.reasons:
                self.reasons[kind].count += r["n"]
            else:
                self.reasons[kind] = Reason(r["reason"], r["n"], r[LINE], r["column"], r["value"])


def _reason_kind(reason: str) -> str:
    import re

    return re.sub(r"\b(line|after) [0-9T:\-Z]+", r"\1 N", reason)


def run_import(store: Store, fmt: str, path: Path, opts: ImportOptions) -> ImportResult:
    """Import one file; raises ImportFileError when the file as a whole cannot be read."""
    if fmt not in FORMATS:
        raise ImportFileError(path, None, None, f"unknown format '{fmt}'; known: {', '.join(FORMATS)}")
    if not path.exists():
        raise ImportFileError(path, None, None, "no such file")
    started = datetime.now(UTC)
    sha = file_sha256(path)
    name = opts.dataset or path.stem
    dataset = f"import:{name}"
    result = ImportResult(f"import-{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}", dataset, fmt, path)
    for batch in FORMATS[fmt](path, opts, opts.source, dataset, sha):
        result.batches += 1
        result.kind = batch.kind
        result.rows_read += batch.rows_read
        result.max_batch_rows = max(result.max_batch_rows, batch.rows.height)
        for k, v in batch.skipped.items():
            result.skipped[k] = result.skipped.get(k, 0) + v
        result.notes.update({k: v for k, v in batch.notes.items() if v is not None})
        if batch.rows.height:
            result.source = result.source or batch.rows["source"][0]
            lo, hi = batch.rows["observed_at"].min(), batch.rows["observed_at"].max()
            if isinstance(lo, datetime) and isinstance(hi, datetime):
                result.first_observed = min(lo, result.first_observed or lo)
                result.last_observed = max(hi, result.last_observed or hi)
        source = result.source or opts.source or "import"
        q = quarantine_rows(batch.issues, path, source, batch.kind, dataset, sha)
        table = "gpu_quotes" if batch.kind == "gpu" else "token_prices"
        new, q_new = store_history.write_import_batch(store, result.import_id, table, batch.rows, q)
        result.rows_loaded += batch.rows.height
        result.rows_new += new
        result.quarantine_new += q_new
        result.add_issues(batch.issues)
    store_history.record_import(store, {
        "import_id": result.import_id, "dataset": dataset, "format": fmt, "path": str(path), "file_sha256": sha,
        "file_bytes": path.stat().st_size, "source": result.source, "started_at": started,
        "finished_at": datetime.now(UTC), "rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
        "rows_new": result.rows_new, "rows_quarantined": result.quarantined,
        "detail": {"kind": result.kind, "skipped": result.skipped, "notes": result.notes,
                   "reasons": {k: r.count for k, r in result.reasons.items()}},
    })
    return result


__all__ = ["FORMATS", "ImportFileError", "ImportOptions", "ImportResult", "VenueMapEntry", "load_venue_map",
           "run_import"]
