"""The edges of the hedging analytics: daily series from the store, a company's CSV inputs.

* ``load_daily``: one series' latest daily values (view ``latest_index_values``) in [from, to).
* ``read_exposure``: CSV with columns ``month`` (YYYY-MM) and ``quantity`` (GPU-hours or
  million tokens per month, >= 0), one row for every month from the first to the last.
* ``venue_prices``: the mean price per month (week, day) of one constituent venue of the series
  (its own price when a company buys from that venue).
* ``read_month_prices``: CSV with ``month`` and ``price`` (> 0): the company's own price or a
  forward curve (the price at which the contract for that month was bought).

Errors name the file, the line and the column, and say what to fix.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from index.errors import SpotindexError
from index.hedging import PERIODS, SETTLEMENT_STATUSES
from index.store import Store

OWN_PRICE_SCRIPT = "python -m scripts.own_price_from_ledger"


class InputFileError(SpotindexError):
    """A company's input file cannot be used as it is."""


def series_ids(store: Store) -> list[str]:
    return store.frame("SELECT DISTINCT index_id FROM latest_index_values ORDER BY 1")["index_id"].to_list()


def load_daily(store: Store, series: str, start: date | None = None, end: date | None = None) -> pl.DataFrame:
    """date, value, status, unit of one series, latest revisions, ``start <= date < end``."""
    where, params = ["index_id = ?"], [series]
    if start is not None:
        where.append("date >= ?")
        params.append(start)  # type: ignore[arg-type]
    if end is not None:
        where.append("date < ?")
        params.append(end)  # type: ignore[arg-type]
    df = store.frame(f"SELECT date, value, status, unit FROM latest_index_values WHERE {' AND '.join(where)} "
                     "ORDER BY date", params)
    if df.height == 0:
        known = series_ids(store)
        if series not in known:
            hint = ", ".join(known[:12]) + (" …" if len(known) > 12 else "") if known else "none (run compute/backfill)"
            raise SpotindexError(f"series '{series}' has no values in {store.path}; series with values: {hint}")
        raise SpotindexError(f"series '{series}' has no values in {_span(start, end)}; widen --from/--to")
    published = pl.col("status").is_in(SETTLEMENT_STATUSES) & pl.col("value").is_not_null()
    if not df.select(published.any()).item():
        counts = df.group_by("status").len().sort("status")
        what = ", ".join(f"{n} {st}" for st, n in counts.iter_rows())
        raise SpotindexError(f"series '{series}' has no published value in {_span(start, end)} ({what} day(s)); "
                             "widen --from/--to or choose a series with values (spotindex history)")
    return df.with_columns(pl.col("date").cast(pl.Date), pl.col("value").cast(pl.Float64))


def _span(start: date | None, end: date | None) -> str:
    return f"[{start or '…'}, {end or '…'})"


def venue_prices(store: Store, series: str, venue: str, start: date | None = None, end: date | None = None,
                 unit: str = "M") -> pl.DataFrame:
    """period, price: the mean of one venue's hourly medians in a series per month (``unit`` M), week
    (W, from Monday) or day (D) (view ``venue_medians``).

    What a company buying from that venue paid on average (every hour the venue was quoted,
    whether or not the index included it that hour). Only venues whose prices reached the
    series' fixings are there: a provider the token rules leave out (a router, a reseller where
    the maker sells) has none, and its price must come as a file (``--own-price``).
    """
    trunc = PERIODS[unit][1]
    where, params = ["index_id = ?", "venue = ?", "venue_median IS NOT NULL"], [series, venue]
    if start is not None:
        where.append("fixing_time >= ?")
        params.append(start)  # type: ignore[arg-type]
    if end is not None:
        where.append("fixing_time < ?")
        params.append(end)  # type: ignore[arg-type]
    df = store.frame(f"SELECT CAST(date_trunc('{trunc}', timezone('UTC', fixing_time)) AS DATE) AS period, "
                     "avg(venue_median ORDER BY fixing_time) AS price FROM venue_medians WHERE " + " AND ".join(where)
                     + " GROUP BY 1 ORDER BY 1", params)
    if df.height == 0:
        venues = store.frame("SELECT venue, count(*) AS n, min(fixing_time) AS first, max(fixing_time) AS last "
                             "FROM venue_medians WHERE index_id = ? GROUP BY 1 ORDER BY n DESC, venue", [series])
        names = venues["venue"].to_list()
        hint = ", ".join(names[:15]) + (" …" if len(names) > 15 else "") if names else "none"
        other = (f"; for a price the index does not use, give it as a file: --own-price FILE (columns month,price; "
                 f"'{OWN_PRICE_SCRIPT}' makes one from a price ledger)")
        if venue in names:
            row = venues.filter(pl.col("venue") == venue).row(0, named=True)
            raise SpotindexError(f"venue '{venue}' has no prices in series '{series}' in {_span(start, end)}: it is a "
                                 f"constituent from {row['first']:%Y-%m-%d} to {row['last']:%Y-%m-%d}; "
                                 "move --from/--to" + other)
        raise SpotindexError(f"venue '{venue}' is not a constituent of series '{series}' (its constituents: {hint}): "
                             "--own-venue takes the price of a venue the index used (METHODOLOGY.md §14 leaves "
                             "routers out and, where the model's maker sells, every other provider)" + other)
    return df.with_columns(pl.col("period").cast(pl.Date), pl.col("price").cast(pl.Float64))


def _read(path: Path, columns: tuple[str, str]) -> pl.DataFrame:
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    try:
        df = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        raise InputFileError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    df = df.rename({c: c.strip().lower() for c in df.columns})
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputFileError(f"{path}:1: missing column(s) {', '.join(repr(c) for c in missing)} "
                             f"(expected {', '.join(columns)}; found {', '.join(df.columns)})")
    if df.height == 0:
        raise InputFileError(f"{path}: no rows")
    return df.select(columns).with_columns(pl.col(c).str.strip_chars() for c in columns)


def _first_bad(df: pl.DataFrame, bad: pl.Expr) -> tuple[int, str | None] | None:
    rows = df.filter(bad)
    return (int(rows["line"][0]), rows["raw"][0]) if rows.height else None


def _monthly(path: Path, value_col: str, positive: bool, out_col: str) -> pl.DataFrame:
    df = _read(path, ("month", value_col)).with_row_index("line", offset=2)
    df = df.with_columns(
        parsed_month=pl.when(pl.col("month").str.contains(r"^\d{4}-\d{2}$"))
        .then((pl.col("month") + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False)),
        parsed_value=pl.col(value_col).cast(pl.Float64, strict=False),
    )
    bad = _first_bad(df.with_columns(raw=pl.col("month")), pl.col("parsed_month").is_null())
    if bad:
        raise InputFileError(f"{path}:{bad[0]}: column 'month': '{bad[1]}' is not a month, use YYYY-MM")
    bad = _first_bad(df.with_columns(raw=pl.col(value_col)), pl.col("parsed_value").is_null())
    if bad:
        raise InputFileError(f"{path}:{bad[0]}: column '{value_col}': '{bad[1]}' is not a number")
    v = pl.col("parsed_value")
    out_of_range = ~v.is_finite() | (v < 0) | ((v == 0) if positive else pl.lit(False))
    bad = _first_bad(df.with_columns(raw=pl.col(value_col)), out_of_range)
    if bad:
        need = "a positive number" if positive else "a number >= 0"
        raise InputFileError(f"{path}:{bad[0]}: column '{value_col}': '{bad[1]}' must be {need}")
    dup = df.with_columns(first=pl.col("line").min().over("parsed_month"), raw=pl.col("month"))
    bad = _first_bad(dup, pl.col("line") != pl.col("first"))
    if bad:
        first = int(dup.filter(pl.col("line") == bad[0])["first"][0])
        raise InputFileError(f"{path}:{bad[0]}: column 'month': {bad[1]} repeats line {first}; one row per month")
    return df.select(pl.col("parsed_month").alias("month"), pl.col("parsed_value").alias(out_col)).sort("month")


def read_exposure(path: Path) -> pl.DataFrame:
    """month (Date, first of month), quantity; every month from the first to the last must be there."""
    df = _monthly(path, "quantity", positive=False, out_col="quantity")
    gaps = (df.with_columns(next=pl.col("month").shift(-1), expected=pl.col("month").dt.offset_by("1mo"))
            .filter(pl.col("next").is_not_null() & (pl.col("next") != pl.col("expected"))))
    if gaps.height:
        g = gaps.row(0, named=True)
        n = gaps.select(((pl.col("next").dt.year() - pl.col("month").dt.year()) * 12
                         + pl.col("next").dt.month() - pl.col("month").dt.month() - 1).sum()).item()
        raise InputFileError(f"{path}: month {g['expected']:%Y-%m} is missing (between {g['month']:%Y-%m} and "
                             f"{g['next']:%Y-%m}; {n} month(s) missing in all): give one row per month from the "
                             "first to the last, with quantity 0 for a month without usage")
    return df


def read_month_prices(path: Path) -> pl.DataFrame:
    """month (Date, first of month), price."""
    return _monthly(path, "price", positive=True, out_col="price")


__all__ = ["InputFileError", "load_daily", "read_exposure", "read_month_prices", "series_ids", "venue_prices"]
