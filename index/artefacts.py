"""The files published beside the report, and the ``latest/`` switch.

``publish/DATE/`` holds ``indices.json`` and ``indices.csv`` (index.publish) and, from here:
``indices.parquet`` (the same rows), ``fixings.parquet`` (the day's hourly fixings with their
diagnostics), ``index.html`` (the page, index.html_page) and ``METHODOLOGY.md`` (the rules in
force when the day was published). The day directory is written under a temporary name and
renamed into place by ``publish.write_day``; only then is ``publish/latest`` switched, by
replacing a symlink with ``os.replace`` (atomic on POSIX), and only forward: publishing an
older day (a catch-up) never moves ``latest`` back.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from index import html_page, pipeline
from index.errors import PublishError, describe_os_error, disk_hint
from index.paths import PROJECT_ROOT
from index.store import Store

LATEST = "latest"
_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEMP = re.compile(r"^\.(\d{4}-\d{2}-\d{2}|latest)\.(tmp|old)-(\d+)$")
EXCLUDED_SCHEMA = {"index_id": pl.String, "venue": pl.String, "reason": pl.String, "n_fixings": pl.Int64}


def _parquet(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf, compression="zstd", statistics=True)
    return buf.getvalue()


def history(store: Store, day: date, days: int = html_page.HISTORY_DAYS) -> pl.DataFrame:
    return store.frame("SELECT index_id, date, value, p25, p75, status FROM daily_index "
                       "WHERE date > ? AND date <= ? ORDER BY index_id, date", [day - timedelta(days=days), day])


def day_fixings(store: Store, day: date) -> pl.DataFrame:
    start, end = pipeline.day_bounds(day)
    return store.frame("SELECT * EXCLUDE (run_id) FROM latest_fixings WHERE fixing_time >= ? AND fixing_time < ? "
                       "ORDER BY index_id, fixing_time", [start, end])


def constituents(store: Store, day: date) -> pl.DataFrame:
    """Per series and venue over the day's fixings where the venue was included."""
    start, end = pipeline.day_bounds(day)
    return store.frame("""
        SELECT index_id, venue, median(venue_median) AS median_price, min(venue_median) AS min_price,
               max(venue_median) AS max_price, count(*) AS n_fixings, sum(n_quotes) AS n_quotes
        FROM venue_medians WHERE fixing_time >= ? AND fixing_time < ? AND coalesce(included, true)
        GROUP BY index_id, venue ORDER BY index_id, venue""", [start, end])


def _excluded_from_fixings(fx: pl.DataFrame) -> pl.DataFrame:
    """Exclusions listed in the fixings' ``excluded`` JSON ([{venue, reason, ...}] or [reason])."""
    rows: list[dict[str, Any]] = []
    if fx.height and "excluded" in fx.columns:
        counts = fx.group_by("index_id", "excluded").len()
        for r in counts.iter_rows(named=True):  # distinct JSON texts only: a handful per day
            try:
                items = json.loads(r["excluded"] or "[]")
            except (TypeError, ValueError):
                continue
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    venue = item.get("venue") or item.get("offer_id") or "–"
                    reason = item.get("reason") or json.dumps(item, sort_keys=True)
                else:
                    venue, reason = "–", str(item)
                rows.append({"index_id": r["index_id"], "venue": str(venue), "reason": str(reason),
                             "n_fixings": int(r["len"])})
    return pl.DataFrame(rows, schema=EXCLUDED_SCHEMA)


def excluded(store: Store, day: date, fx: pl.DataFrame | None = None) -> pl.DataFrame:
    """Venues left out of the day's fixings, with the reason and in how many fixings."""
    start, end = pipeline.day_bounds(day)
    from_venues = store.frame("""
        SELECT index_id, venue, coalesce(exclusion_reason, 'excluded') AS reason, count(*) AS n_fixings
        FROM venue_medians WHERE fixing_time >= ? AND fixing_time < ? AND NOT coalesce(included, true)
        GROUP BY ALL""", [start, end])
    fx = fx if fx is not None else day_fixings(store, day)
    both = pl.concat([from_venues.cast(EXCLUDED_SCHEMA), _excluded_from_fixings(fx)])  # type: ignore[arg-type]
    return (both.group_by("index_id", "venue", "reason").agg(pl.col("n_fixings").max())
            .sort("index_id", "venue", "reason"))


def day_files(store: Store, day: date, report: dict[str, Any], values: pl.DataFrame,
              extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Parquet, the methodology copy and the HTML page for ``publish/DATE/``.

    ``extra`` are files the caller writes too (e.g. ``indices.json.sig``): the page links them.
    """
    files: dict[str, bytes] = dict(extra or {})
    files["indices.parquet"] = _parquet(values.sort("index_id"))
    fx = day_fixings(store, day)
    files["fixings.parquet"] = _parquet(fx)
    methodology = PROJECT_ROOT / html_page.METHODOLOGY_FILE
    if methodology.is_file():
        files[html_page.METHODOLOGY_FILE] = methodology.read_bytes()
    names = set(files) | {"indices.json", "indices.csv"}
    page = html_page.render(report, history(store, day), constituents(store, day), excluded(store, day, fx), names)
    files["index.html"] = page.encode("utf-8")
    return files


def latest_day(out_dir: Path) -> date | None:
    """The day ``out_dir/latest`` points to (None when there is no such link)."""
    link = out_dir / LATEST
    if not link.is_symlink():
        return None
    target = os.readlink(link).rstrip("/").rsplit("/", 1)[-1]
    return date.fromisoformat(target) if _DAY_DIR.match(target) else None


def switch_latest(out_dir: Path, day: date) -> bool:
    """Point ``out_dir/latest`` at ``out_dir/DAY`` atomically unless it already points at a later day."""
    current = latest_day(out_dir)
    if current is not None and current > day:
        return False
    if not (out_dir / day.isoformat()).is_dir():
        raise FileNotFoundError(f"{out_dir / day.isoformat()} does not exist: write the day before switching")
    link = out_dir / LATEST
    tmp = out_dir / f".{LATEST}.tmp-{os.getpid()}"
    try:
        if link.exists() and not link.is_symlink():  # a plain directory from an older layout
            shutil.rmtree(link)
        tmp.unlink(missing_ok=True)
        os.symlink(day.isoformat(), tmp, target_is_directory=True)
        os.replace(tmp, link)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PublishError(f"{out_dir / day.isoformat()} is written but {link} could not be switched to it: "
                           f"{describe_os_error(exc)}; {disk_hint(exc)}, then publish again ({link} still "
                           f"points at {current or 'nothing'})") from exc
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(out_dir: Path) -> list[str]:
    """Clean what a killed publication left behind; returns what was done (for the log).

    ``.DATE.tmp-PID`` (a day being written) is removed; ``.DATE.old-PID`` (the previous
    version of a day being replaced) is put back if the day is missing, else removed.
    Entries of a live process are left alone.
    """
    done: list[str] = []
    if not out_dir.is_dir():
        return done
    for entry in sorted(out_dir.iterdir()):
        m = _TEMP.match(entry.name)
        if not m or _alive(int(m.group(3))) and int(m.group(3)) != os.getpid():
            continue
        name, kind = m.group(1), m.group(2)
        final = out_dir / name
        if kind == "old" and name != LATEST and not final.exists():
            entry.rename(final)
            done.append(f"restored {final} from {entry.name}")
        elif entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
            done.append(f"removed {entry.name}")
        else:
            entry.unlink()
            done.append(f"removed {entry.name}")
    return done


def is_published(out_dir: Path, day: date) -> bool:
    return (out_dir / day.isoformat() / "indices.json").is_file()
