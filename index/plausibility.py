"""Per-source plausibility: a source whose prices move as a whole by more than ``MAX_MOVE``
times is quarantined for that run (METHODOLOGY.md §3.3).

The row checks of ``index.validate`` see one row at a time: a price of 8x the usual is still a
positive, finite number. A unit switch at a source (per-GPU to per-instance, per-million to
per-thousand tokens) moves *every* price of that source by the same factor at once, which no
market does in an hour. The gross filter of the pipeline (§4.2, [0.1x, 10x] of the series'
trailing median) lets an 8x move through, and a source that is the only one on a series can
move its median alone. So each source's run is compared, before it is stored, with:

1. its own last accepted run (the source's rows at its latest observation in the trailing
   ``REFERENCE_DAYS``), matched on (venue, GPU model, pricing class) or (provider, model id,
   context tier); else, when nothing matches,
2. the other sources of the same round, matched on (GPU model, pricing class, venue class) or
   (canonical model, context tier), each other source counted once (its median).

The move is the median, over the matched series, of (this run's median / the reference median).
Outside [1/MAX_MOVE, MAX_MOVE] the whole run is quarantined with the reason; with nothing to
compare against, the run is accepted (a new source on a new database). Pure polars: frames in,
a verdict out.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MAX_MOVE = 4.0  # a source's prices moving by more than this factor (either way) in one run
REFERENCE_DAYS = 7  # the source's own reference: its last accepted run within this many days
MIN_OTHERS = 3  # against the other sources: a series counts when at least this many others quote it

OWN_KEYS = {"gpu": ["venue", "gpu_model", "pricing_class"], "token": ["provider", "source_model_id", "context_tier"]}
CROSS_KEYS = {"gpu": ["gpu_model", "pricing_class", "venue_class"], "token": ["model", "context_tier"]}
PRICE_FIELD = {"gpu": "price_usd_per_gpu_hour", "token": "usd_per_mtok_input"}


@dataclass(frozen=True)
class Move:
    """How far a run's prices moved against a reference."""

    ratio: float | None  # median over matched series of (run median / reference median); None: nothing matched
    n_matched: int
    basis: str  # "own" (the source's last accepted run) or "cross" (the other sources of the round)

    @property
    def implausible(self) -> bool:
        return self.ratio is not None and not (1 / MAX_MOVE <= self.ratio <= MAX_MOVE)


def unit_price(kind: str) -> pl.Expr:
    """The price compared: per GPU-hour; for tokens the 3:1 blend, else whichever side is quoted."""
    if kind == "gpu":
        return pl.col("price_usd_per_gpu_hour")
    i, o = pl.col("usd_per_mtok_input"), pl.col("usd_per_mtok_output")
    return pl.coalesce((3 * i + o) / 4, i, o)


def _medians(rows: pl.DataFrame, keys: list[str], kind: str, per_source: bool) -> pl.DataFrame:
    frame = rows.lazy().with_columns(pl.col(k).fill_null(0) if k == "context_tier" else pl.col(k) for k in keys)
    frame = frame.with_columns(_p=unit_price(kind)).filter(pl.col("_p").is_finite() & (pl.col("_p") > 0))
    if not per_source:
        return frame.group_by(keys).agg(_m=pl.col("_p").median()).collect()
    # each other source counts once, whatever its listing count; a series needs MIN_OTHERS of them,
    # so that one wrong source among the others cannot make an honest one look implausible
    return (frame.group_by(["source", *keys]).agg(pl.col("_p").median())
            .group_by(keys).agg(_m=pl.col("_p").median(), _n=pl.len())
            .filter(pl.col("_n") >= MIN_OTHERS).drop("_n").collect())


def move(rows: pl.DataFrame, reference: pl.DataFrame, kind: str, basis: str) -> Move:
    """The move of ``rows`` against ``reference`` (own: the same source earlier; cross: other sources)."""
    keys = OWN_KEYS[kind] if basis == "own" else CROSS_KEYS[kind]
    if rows.height == 0 or reference.height == 0:
        return Move(None, 0, basis)
    new = _medians(rows, keys, kind, per_source=False)
    ref = _medians(reference, keys, kind, per_source=basis == "cross")
    ratios = new.join(ref, on=keys, how="inner", suffix="_ref", nulls_equal=True).select(
        (pl.col("_m") / pl.col("_m_ref")).alias("r"))
    if ratios.height == 0:
        return Move(None, 0, basis)
    return Move(float(ratios["r"].median()), ratios.height, basis)  # type: ignore[arg-type]


def check(rows: pl.DataFrame, own: pl.DataFrame | None, others: pl.DataFrame | None, kind: str) -> Move:
    """Against the source's own last accepted run when any series matches, else against the others."""
    if own is not None:
        m = move(rows, own, kind, "own")
        if m.ratio is not None:
            return m
    if others is not None:
        return move(rows, others, kind, "cross")
    return Move(None, 0, "none")


def reason(m: Move, reference_time: str | None = None) -> str:
    """The quarantine reason for an implausible move (names the factor, the basis and the rule)."""
    basis = (f"its last accepted run{f' at {reference_time}' if reference_time else ''}" if m.basis == "own"
             else "the other sources of the round")
    return (f"implausible move: prices at {m.ratio:.3g}x {basis} (median over {m.n_matched} matched series; "
            f"limit {MAX_MOVE:g}x either way): a unit change at the source? whole run quarantined")
