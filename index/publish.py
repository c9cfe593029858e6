"""Publication: the day's values as files a consumer can read and check.

``DIR/<date>/indices.json`` is canonical JSON (sorted keys, no spaces, UTF-8): the same
values always give the same bytes, so a hash or signature over it is meaningful.
``indices.csv`` carries the same rows for spreadsheets; ``indices.json.sig`` (when a key is
configured) is the detached Ed25519 signature of ``indices.json`` (``index.oracle``). A day directory is written under a
temporary name and renamed into place, so a reader never sees half a day.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import polars as pl

from index.errors import PublishError, describe_os_error, disk_hint

FIXED_POINT_EXPONENT = -6
CSV_FIELDS = ["index_id", "date", "value", "unit", "status", "carried_from", "n_venues", "n_quotes", "n_fixings",
              "p25", "p75", "conf", "revision", "round_id", "methodology_version", "inputs_hash"]
REPORT_FORMAT_VERSION = 2


def decimal_string(x: float | None, places: int = 6) -> str | None:
    """A value as a decimal string with fixed places (half-even), never float repr noise."""
    if x is None:
        return None
    return str(Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def fixed_point(x: float | None) -> int | None:
    """The value as an integer with exponent -6 (what an on-chain consumer reads)."""
    s = decimal_string(x, -FIXED_POINT_EXPONENT)
    return None if s is None else int(Decimal(s).scaleb(-FIXED_POINT_EXPONENT))


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def iso_z(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def report_entries(values: pl.DataFrame, rounds: dict[str, tuple[int, datetime | None]] | None = None,
                   publish_time: datetime | None = None) -> list[dict[str, Any]]:
    """One entry per series from the latest revision of each value (design note §5 fields).

    ``rounds`` maps a series to (this round id, the previous round's publish time or None).
    """
    out = []
    for r in values.sort("index_id").iter_rows(named=True):
        round_id, prev = (rounds or {}).get(r["index_id"], (None, None))
        carried = r.get("carried_from")
        out.append({
            "id": r["index_id"],
            "date": r["date"].isoformat(),
            "value": decimal_string(r["value"]),
            "value_fixed": fixed_point(r["value"]),
            "exponent": FIXED_POINT_EXPONENT,
            "unit": r["unit"],
            "status": r["status"],
            "carried_from": carried.isoformat() if carried is not None else None,
            "n_venues": r["n_venues"],
            "n_quotes": r["n_quotes"],
            "n_fixings": r["n_fixings"],
            "p25": decimal_string(r["p25"]),
            "p75": decimal_string(r["p75"]),
            "conf": decimal_string(r["conf"]),
            "revision": r["revision"],
            "methodology_version": r["methodology_version"],
            "inputs_hash": r["inputs_hash"],
            "round_id": round_id,
            "publish_time": iso_z(publish_time),
            "prev_publish_time": iso_z(prev),
        })
    return out


def build_report(day: date, values: pl.DataFrame, definitions_version: str, methodology_version: str,
                 published_at: datetime | None = None, rounds: dict[str, tuple[int, datetime | None]] | None = None,
                 key_id: str | None = None) -> dict[str, Any]:
    """The day's oracle report (canonical JSON once serialised with ``canonical_json``)."""
    published_at = published_at or datetime.now(UTC)
    entries = report_entries(values, rounds, published_at)
    return {
        "report": "spotindex.daily",
        "format_version": REPORT_FORMAT_VERSION,
        "date": day.isoformat(),
        "publish_time": iso_z(published_at),
        "methodology_version": methodology_version,
        "definitions_version": definitions_version,
        "key_id": key_id,
        "inputs_fingerprint": hashlib.sha256(",".join(e["inputs_hash"] or "" for e in entries).encode()).hexdigest(),
        "indices": entries,
    }


def _csv_bytes(entries: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for e in entries:
        w.writerow({"index_id": e["id"], **{k: e.get(k) for k in CSV_FIELDS if k != "index_id"}})
    return buf.getvalue().encode()


def write_day(out_dir: Path, report: dict[str, Any], extra_files: dict[str, bytes] | None = None) -> Path:
    """Write ``out_dir/<date>/`` atomically (temp dir, then rename); returns the day directory.

    A disk or permission error leaves the directory as it was (the temp directory removed, a
    day being replaced put back) and raises PublishError in one line saying what to do.
    """
    day = report["date"]
    final = out_dir / day
    tmp = out_dir / f".{day}.tmp-{os.getpid()}"
    old = out_dir / f".{day}.old-{os.getpid()}"
    files = {"indices.json": canonical_json(report), "indices.csv": _csv_bytes(report["indices"]),
             **(extra_files or {})}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        for name, data in files.items():
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        if final.exists():
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
    except OSError as exc:
        if old.exists() and not final.exists():
            old.rename(final)  # the day being replaced goes back
        shutil.rmtree(tmp, ignore_errors=True)
        raise PublishError(f"cannot write the publication of {day} to {out_dir}: {describe_os_error(exc)}; "
                           f"{disk_hint(exc)}, then publish again (nothing new was published; what was there "
                           "is as it was)") from exc
    return final
