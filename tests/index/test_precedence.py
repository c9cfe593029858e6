"""First-party precedence: aggregator rows are the fallback, never counted twice."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from index import canonical
from index.precedence import dedupe_first_party, flag_fallback

H10 = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
H11 = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
FP = {"runpod": "runpod", "vultr": "vultr"}


def quotes(*rows: tuple) -> pl.LazyFrame:
    return pl.LazyFrame(
        [dict(zip(("observed_at", "source", "venue", "gpu_model", "pricing_class", "price_usd_per_gpu_hour"), r,
                  strict=True)) for r in rows],
        schema={"observed_at": pl.Datetime("us", "UTC"), "source": pl.String, "venue": pl.String,
                "gpu_model": pl.String, "pricing_class": pl.String, "price_usd_per_gpu_hour": pl.Float64})


def test_aggregator_row_dropped_where_first_party_quotes_the_same_key():
    q = quotes((H10, "runpod", "runpod", "H100-SXM-80GB", "on_demand", 2.69),
               (H10, "computepulse", "runpod", "H100-SXM-80GB", "on_demand", 2.71),
               (H10, "gpuhunt", "runpod", "H100-SXM-80GB", "on_demand", 2.69))
    out = dedupe_first_party(q, FP).collect()
    assert out["source"].to_list() == ["runpod"]
    assert out.columns == q.collect_schema().names()


def test_aggregator_row_kept_where_first_party_is_silent():
    q = quotes((H10, "runpod", "runpod", "H100-SXM-80GB", "on_demand", 2.69),
               (H10, "computepulse", "runpod", "H200-SXM-141GB", "on_demand", 3.59),  # other model
               (H10, "computepulse", "runpod", "H100-SXM-80GB", "spot", 1.49),  # other pricing class
               (H11, "computepulse", "runpod", "H100-SXM-80GB", "on_demand", 2.70),  # other window
               (H10, "shadeform", "nebius", "H100-SXM-80GB", "on_demand", 2.95))  # venue without first party
    out = dedupe_first_party(q, FP).collect()
    assert out.height == 5


def test_one_window_for_a_fixing():
    q = quotes((H10, "vultr", "vultr", "H100-SXM-80GB", "on_demand", 2.99),
               (H11, "computepulse", "vultr", "H100-SXM-80GB", "on_demand", 2.95))
    assert dedupe_first_party(q, FP, window="1h").collect().height == 2
    assert dedupe_first_party(q, FP, window=None).collect()["source"].to_list() == ["vultr"]


def test_fixing_time_column_is_the_window():
    fixing = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    q = quotes((H10, "vultr", "vultr", "H100-SXM-80GB", "on_demand", 2.99),  # daily list price
               (H11, "computepulse", "vultr", "H100-SXM-80GB", "on_demand", 2.95),
               (H11, "computepulse", "vultr", "H100-SXM-80GB", "on_demand", 2.95))
    q = q.with_columns(fixing_time=pl.Series([fixing, fixing, fixing + (H11 - H10)]))
    out = dedupe_first_party(q, FP).collect()  # window="1h" is ignored: the fixing decides
    assert out["source"].to_list() == ["vultr", "computepulse"]
    assert out["fixing_time"].to_list()[1] == fixing + (H11 - H10)  # no first-party quote for that fixing


def test_flag_fallback_marks_only_non_first_party_rows_of_first_party_venues():
    q = quotes((H10, "runpod", "runpod", "H100-SXM-80GB", "on_demand", 2.69),
               (H10, "gpuhunt", "runpod", "H100-SXM-80GB", "on_demand", 2.69),
               (H10, "gpuhunt", "gcp", "H100-SXM-80GB", "on_demand", 3.88))
    assert flag_fallback(q, FP).collect()["is_fallback"].to_list() == [False, True, False]


def test_default_table_comes_from_venues_toml():
    table = canonical.first_party_sources()
    assert table["vultr"] == "vultr" and table["hyperbolic"] == "hyperbolic" and table["runpod"] == "runpod"
    q = quotes((H10, "hyperbolic", "hyperbolic", "H200-SXM-141GB", "on_demand", 3.79),
               (H10, "computepulse", "hyperbolic", "H200-SXM-141GB", "on_demand", 3.99))
    assert dedupe_first_party(q).collect()["source"].to_list() == ["hyperbolic"]


def test_venue_aliases_resolve_aggregator_spellings():
    assert canonical.venue_id("lambdalabs") == "lambda"
    assert canonical.venue_id("DataCrunch") == "verda"
    assert canonical.venue_id("Google Cloud") == "gcp"
    assert canonical.venue_id("Vast.ai") == "vastai"  # a venue's own alias is not overridden
