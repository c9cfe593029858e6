"""A company's own monthly price from a price ledger: the input of ``spotindex hedge --own-price``.

``spotindex hedge --own-venue`` can only take the price of a venue the index used. A company that
buys where the index does not look (a router such as OpenRouter, a cloud reseller of a model
whose maker sells it, a deployment with its own list price) gives its price as a file of
``month,price`` rows. This script makes that file from one model key of a price ledger:

    python -m scripts.own_price_from_ledger LEDGER --key KEY [--provider P] [--side input]
        --from 2024-09 --to 2026-07 --out own.csv

LEDGER is a LiteLLM price ledger (columns model, litellm_provider, input_usd_per_mtok,
output_usd_per_mtok, valid_from, valid_to) or an OpenRouter interval ledger (model_id,
prompt_usd_per_mtok, completion_usd_per_mtok, valid_from, valid_to); the format is told by the
columns. Prices are USD per million tokens; ``--side blended`` is (3·input + output)/4, the blend
of the token indices (METHODOLOGY.md §14, T1).

A month's price is the time-weighted mean of the prices in force in it (an interval is
[valid_from, valid_to); an open one runs to the ledger's last date). A month is written only when
prices cover at least ``--min-days`` days of it (default 20, as a settlement month needs 20
days); the months left out are listed on stderr. Intervals of the key that overlap with
different prices are refused: give ``--provider`` or another key.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl


class LedgerFormat(NamedTuple):
    key: str
    provider: str | None
    input: str
    output: str


FORMATS = {
    "litellm": LedgerFormat("model", "litellm_provider", "input_usd_per_mtok", "output_usd_per_mtok"),
    "openrouter": LedgerFormat("model_id", None, "prompt_usd_per_mtok", "completion_usd_per_mtok"),
}
SIDES = ("input", "output", "blended")
DAY_SECONDS = 86_400


class LedgerError(Exception):
    """The ledger or the arguments do not give a price series."""


def detect_format(columns: list[str]) -> str:
    for name, cols in FORMATS.items():
        needed = [cols.key, cols.input, cols.output, "valid_from", "valid_to"]
        if all(c in columns for c in needed):
            return name
    raise LedgerError(f"not a LiteLLM or OpenRouter price ledger (columns: {', '.join(columns)})")


def _timestamp(col: str) -> pl.Expr:
    """ISO date or date-time text -> UTC datetime (a bare date is its 00:00 UTC)."""
    text = pl.col(col).str.strip_chars()
    return (pl.when(text.str.len_chars() == 10).then(text + "T00:00:00Z").otherwise(text)
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%#z", time_zone="UTC", strict=False))


def intervals(ledger: pl.DataFrame, key: str, side: str, provider: str | None = None) -> pl.DataFrame:
    """valid_from, valid_to (null = open), price: the key's intervals with a positive price for the side."""
    if side not in SIDES:
        raise LedgerError(f"side '{side}': use one of {', '.join(SIDES)}")
    cols = FORMATS[detect_format(ledger.columns)]
    rows = ledger.filter(pl.col(cols.key) == key)
    if rows.height == 0:
        like = (ledger.filter(pl.col(cols.key).str.contains(key.split("/")[-1], literal=True))
                [cols.key].unique().sort().to_list())
        hint = f"; keys containing '{key.split('/')[-1]}': {', '.join(like[:12])}" if like else ""
        raise LedgerError(f"no rows for key '{key}' in the ledger{hint}")
    if provider is not None:
        if cols.provider is None:
            raise LedgerError("--provider: this ledger has no provider column (the key names the model)")
        rows = rows.filter(pl.col(cols.provider) == provider)
        if rows.height == 0:
            raise LedgerError(f"no rows for key '{key}' with provider '{provider}'")
    inp = pl.col(cols.input).cast(pl.Float64, strict=False)
    out = pl.col(cols.output).cast(pl.Float64, strict=False)
    price = {"input": inp, "output": out, "blended": (3 * inp + out) / 4}[side]
    return (rows.select(valid_from=_timestamp("valid_from"), valid_to=_timestamp("valid_to"), price=price)
            .filter(pl.col("valid_from").is_not_null() & pl.col("price").is_not_null() & (pl.col("price") > 0)
                    & (pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("valid_from"))))
            .sort("valid_from"))


def as_of(ledger: pl.DataFrame) -> datetime:
    """The ledger's last date: where its open intervals end."""
    stamps = [c for c in ("valid_from", "valid_to", "last_seen") if c in ledger.columns]
    last = ledger.select(pl.max_horizontal(_timestamp(c).max() for c in stamps)).item()
    if last is None:
        raise LedgerError("the ledger has no dates")
    return last  # type: ignore[no-any-return]


def monthly_prices(iv: pl.DataFrame, start: date, end: date, last: datetime,
                   min_days: float = 20) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(month, price, days) for the months of [start, end) covered at least ``min_days`` days, and the
    months covered less (month, days). Prices are weighted by the time they were in force."""
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = min(datetime(end.year, end.month, end.day, tzinfo=UTC), last)
    clipped = (iv.with_columns(a=pl.max_horizontal(pl.col("valid_from"), pl.lit(lo)),
                               b=pl.min_horizontal(pl.col("valid_to").fill_null(pl.lit(last)), pl.lit(hi)))
               .filter(pl.col("b") > pl.col("a")))
    overlap = (clipped.join(clipped, how="cross", suffix="_o")
               .filter((pl.col("a") < pl.col("b_o")) & (pl.col("a_o") < pl.col("b"))
                       & (pl.col("price") != pl.col("price_o"))))
    if overlap.height:
        o = overlap.row(0, named=True)
        raise LedgerError(f"intervals overlap with different prices ({o['price']} from {o['valid_from']:%Y-%m-%d} and "
                          f"{o['price_o']} from {o['valid_from_o']:%Y-%m-%d}): give --provider or another --key")
    clipped = clipped.unique(["a", "b", "price"])
    months = (
        clipped.with_columns(month=pl.date_ranges(pl.col("a").dt.date().dt.truncate("1mo"),
                                                  (pl.col("b") - pl.duration(microseconds=1)).dt.date(), "1mo"))
        .explode("month")
        .with_columns(m0=pl.col("month").cast(pl.Datetime("us", "UTC")),
                      m1=pl.col("month").dt.offset_by("1mo").cast(pl.Datetime("us", "UTC")))
        .with_columns(seconds=(pl.min_horizontal("b", "m1") - pl.max_horizontal("a", "m0")).dt.total_seconds())
        .filter(pl.col("seconds") > 0)
        .group_by("month")
        .agg(price=(pl.col("price") * pl.col("seconds")).sum() / pl.col("seconds").sum(),
             days=pl.col("seconds").sum() / DAY_SECONDS)
        .sort("month")
    )
    enough = pl.col("days") >= min_days
    return months.filter(enough), months.filter(~enough).select("month", "days")


def _month(text: str, flag: str) -> date:
    for candidate in (text, f"{text}-01"):
        try:
            return date.fromisoformat(candidate)
        except ValueError:
            continue
    raise LedgerError(f"{flag} '{text}': not a date, use YYYY-MM or YYYY-MM-DD")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.own_price_from_ledger", description=__doc__.split("\n\n")[0])
    ap.add_argument("ledger", type=Path, help="LiteLLM or OpenRouter price ledger (CSV)")
    ap.add_argument("--key", required=True, help="model key in the ledger, e.g. azure/o3 or openai/o1-mini")
    ap.add_argument("--provider", help="LiteLLM provider, when the key has rows of several")
    ap.add_argument("--side", default="input", choices=SIDES, help="price side (default input)")
    ap.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM (included)")
    ap.add_argument("--to", dest="end", required=True, help="end, YYYY-MM (excluded)")
    ap.add_argument("--min-days", type=float, default=20, help="days of a month a price must cover (default 20)")
    ap.add_argument("--out", type=Path, required=True, help="output CSV: month,price")
    args = ap.parse_args(argv)
    try:
        start, end = _month(args.start, "--from"), _month(args.end, "--to")
        if start >= end:
            raise LedgerError(f"--from {start} is not before --to {end}")
        if not args.ledger.exists():
            raise LedgerError(f"{args.ledger}: file not found")
        ledger = pl.read_csv(args.ledger, infer_schema=False)
        iv = intervals(ledger, args.key, args.side, args.provider)
        kept, short = monthly_prices(iv, start, end, as_of(ledger), args.min_days)
        if kept.height == 0:
            raise LedgerError(f"no month of [{start}, {end}) has a price of '{args.key}' for {args.min_days:g} days")
    except (LedgerError, pl.exceptions.PolarsError, OSError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kept.select(pl.col("month").dt.strftime("%Y-%m"), pl.col("price").round(9)).write_csv(args.out)
    label = pl.col("month").dt.strftime("%Y-%m")
    first, last = kept.select(label.min().alias("first"), label.max().alias("last")).row(0)
    print(f"{args.out}: {kept.height} month(s) {first} .. {last} of '{args.key}' ({args.side}, "
          f"USD/Mtok, time-weighted)")
    if short.height:
        print("left out (covered < {:g} days): {}".format(args.min_days, ", ".join(
            f"{m:%Y-%m} ({d:.1f} d)" for m, d in short.iter_rows())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
