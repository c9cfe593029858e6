"""First-party precedence: a venue's own API wins over an aggregator's report of it.

Aggregators (computepulse, gpuhunt, shadeform, ...) report one venue per underlying
provider, and some of those venues also have their own adapter (``runpod``, ``lambda``,
``vultr``...). Both sources' rows are stored; neither is altered. When an index is
computed, the venue must count once and from its best input, so the rule is:

    A row is *fallback* when its venue has a first-party source (``first_party_source``
    on the venue in ``data/venues.toml``, or the ``[first_party]`` table there) and the
    row's ``source`` is not that source. A fallback row is dropped for a
    (venue, gpu_model, pricing_class, window) when the first-party source has at least
    one row for the same key; otherwise it stays (the aggregator is the fallback when
    the venue's own API failed, or does not price that model or class).

The marker is therefore the pair (source, venue) itself: no adapter has to set a flag,
and a new aggregator needs no code here. ``flag_fallback`` adds the boolean column
``is_fallback`` for diagnostics and run reports.

Windows, in order of preference: if the frame has a ``fixing_time`` column (eligible
quotes tagged with the fixing they feed; a quote may appear under several fixings), each
fixing is its own window, so a daily list price and hourly listings eligible for the same
fixing meet; otherwise ``window="1h"`` groups rows by ``observed_at`` truncated to the hour
(one scrape round); ``window=None`` treats the whole frame as one window (call it so on one
fixing's eligible quotes).

Pure: polars in, polars out (the first-party table is read from ``data/`` unless given).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from index import canonical

KEY = ("venue", "gpu_model", "pricing_class")


def _first_party_frame(first_party: Mapping[str, str] | None) -> pl.LazyFrame:
    table = dict(canonical.first_party_sources() if first_party is None else first_party)
    return pl.LazyFrame({"venue": list(table), "_fp_source": list(table.values())},
                        schema={"venue": pl.String, "_fp_source": pl.String})


def flag_fallback(quotes: pl.LazyFrame, first_party: Mapping[str, str] | None = None) -> pl.LazyFrame:
    """``quotes`` with ``is_fallback``: True where the venue has a first-party source other than the row's."""
    fp = _first_party_frame(first_party)
    return (quotes.join(fp, on="venue", how="left", maintain_order="left")
            .with_columns(is_fallback=pl.col("_fp_source").is_not_null() & (pl.col("source") != pl.col("_fp_source")))
            .drop("_fp_source"))


def dedupe_first_party(quotes: pl.LazyFrame, first_party: Mapping[str, str] | None = None,
                       window: str | None = "1h", window_col: str = "fixing_time") -> pl.LazyFrame:
    """Drop fallback rows where the venue's first-party source has rows for the same key and window.

    ``first_party`` maps venue id -> source name (default: data/venues.toml). The window is
    the ``window_col`` column when the frame has it; else ``window``, a polars duration for
    ``observed_at.dt.truncate``, or None for one window over the frame.
    The result has the input's columns, in the input's order.
    """
    columns = quotes.collect_schema().names()
    if window_col in columns:
        win = pl.col(window_col)
    else:
        win = pl.col("observed_at").dt.truncate(window) if window else pl.lit(0)
    keyed = flag_fallback(quotes, first_party).with_columns(_window=win)
    fp = _first_party_frame(first_party)
    covered = (keyed.join(fp, on="venue", how="inner")
               .filter(pl.col("source") == pl.col("_fp_source"))
               .select(*KEY, "_window").unique()
               .with_columns(_covered=pl.lit(True)))
    return (keyed.join(covered, on=[*KEY, "_window"], how="left", nulls_equal=True, maintain_order="left")
            .filter(~(pl.col("is_fallback") & pl.col("_covered").fill_null(False)))
            .select(columns))


def prefer_first_party(eligible: pl.LazyFrame, first_party: Mapping[str, tuple[str, ...]] | None = None
                       ) -> pl.LazyFrame:
    """The first-party rule on a pipeline's eligible quotes, for GPU and token series alike.

    Within one (index_id, fixing_time, venue), when any row comes from one of the venue's own
    sources (``canonical.first_party_source_sets``: a venue may have several, e.g. Azure's VM
    and OpenAI price APIs, or OpenRouter's live API and its historical ledger), rows from every
    other source (aggregators, second-hand price maps) are dropped. A venue with no first-party
    row at that fixing keeps its fallback rows, so it still counts once.
    """
    table = canonical.first_party_source_sets() if first_party is None else first_party
    pairs = pl.LazyFrame([(v, s) for v, ss in table.items() for s in ss], schema={"venue": pl.String,
                                                                                   "_fp": pl.String}, orient="row")
    schema = eligible.collect_schema()
    columns = schema.names()
    pairs = pairs.with_columns(pl.col("venue").cast(schema["venue"]), pl.col("_fp").cast(schema["source"]))
    group = ["index_id", "fixing_time", "venue"]
    # only a venue that has a first-party source can lose rows: the others pass untouched (on a
    # market of millions of rows the group test below is most of this function's time)
    has_fp = pl.col("venue").is_in(list(table))
    tagged = eligible.filter(has_fp).join(pairs.rename({"_fp": "source"}).with_columns(_is_fp=pl.lit(True)),
                                          on=["venue", "source"], how="left", maintain_order="left")
    kept = (tagged.with_columns(_is_fp=pl.col("_is_fp").fill_null(False))
            .filter(pl.col("_is_fp") | ~pl.col("_is_fp").any().over(group))
            .select(columns))
    return pl.concat([eligible.filter(~has_fp), kept])
