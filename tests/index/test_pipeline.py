"""Pipeline v0.1 on a small example computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from index import definitions, pipeline
from index.schemas import GPU_QUOTE_SCHEMA, TOKEN_PRICE_SCHEMA, conform, empty_frame

DAY = date(2026, 11, 20)


def quotes(rows: list[dict]) -> pl.LazyFrame:
    base = {"source": "s", "venue_class": "neocloud", "gpu_model": "H100-SXM-80GB", "gpu_count": 1,
            "pricing_class": "on_demand", "tier": "T2", "currency": "USD"}
    df = pl.DataFrame([{**base, **r, "price_usd_per_hour": r["price"], "price_usd_per_gpu_hour": r["price"]}
                       for r in rows]).drop("price")
    return conform(df, GPU_QUOTE_SCHEMA).drop("quarantine_reason").lazy()


NO_TOKENS = empty_frame(TOKEN_PRICE_SCHEMA).drop("quarantine_reason").lazy()
DEFS = definitions.load().select(["GPU.H100-SXM.OD.NEO"])


def at(h: int, m: int = 30) -> datetime:
    return datetime(2026, 11, 20, h, m, tzinfo=UTC)


def test_hand_computed_fixing_median_of_venue_medians() -> None:
    # Venue a lists three offers (1, 2, 9: median 2), b one (3), c two (4, 6: median 5).
    # Fixing 11:00 sees the 10:30 observations: venue medians 2, 3, 5 -> median 3.
    rows = [{"observed_at": at(10), "venue": v, "offer_id": f"{v}{i}", "price": p}
            for v, ps in {"a": [1.0, 2.0, 9.0], "b": [3.0], "c": [4.0, 6.0]}.items() for i, p in enumerate(ps)]
    fx, venues, daily = pipeline.compute_day(quotes(rows), NO_TOKENS, DEFS, DAY)
    assert fx["fixing_time"].to_list() == [at(11, 0), at(12, 0)]  # window (h-2h, h]
    f = fx.row(0, named=True)
    assert f["value"] == pytest.approx(3.0)
    assert f["n_venues"] == 3 and f["n_quotes"] == 6
    assert f["p25"] == pytest.approx(2.5) and f["p75"] == pytest.approx(4.0)
    assert f["conf"] == pytest.approx(1.0)  # max(3 - 2.5, 4 - 3)
    assert f["largest_venue_share"] == pytest.approx(0.5)
    assert f["status"] == "LOW_CONFIDENCE"  # 3 or 4 venues
    vm = dict(zip(venues.filter(pl.col("fixing_time") == at(11, 0))["venue"],
                  venues.filter(pl.col("fixing_time") == at(11, 0))["venue_median"], strict=True))
    assert vm == {"a": 2.0, "b": 3.0, "c": 5.0}
    d = daily.row(0, named=True)
    assert d["value"] == pytest.approx(3.0) and d["n_fixings"] == 2
    assert d["status"] == "CONTINGENCY"  # 2 fixings of 24


def test_latest_observation_of_an_offer_counts_once() -> None:
    rows = [{"observed_at": at(9), "venue": "a", "offer_id": "x", "price": 10.0},
            {"observed_at": at(10), "venue": "a", "offer_id": "x", "price": 2.0},
            {"observed_at": at(10), "venue": "b", "offer_id": "y", "price": 4.0}]
    fx, _, _ = pipeline.compute_day(quotes(rows), NO_TOKENS, DEFS, DAY)
    f = fx.filter(pl.col("fixing_time") == at(11, 0)).row(0, named=True)
    assert f["n_quotes"] == 2 and f["value"] == pytest.approx(3.0)  # 10.0 superseded by 2.0


def test_daily_is_mean_of_fixings_and_status_by_sufficiency() -> None:
    rows = []
    for h in range(-1, 23):
        for v, p in {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0}.items():
            price = p + (1.0 if h >= 11 else 0.0)
            obs = at(h) if h >= 0 else datetime(2026, 11, 19, 23, 30, tzinfo=UTC)
            rows.append({"observed_at": obs, "venue": v, "offer_id": v, "price": price})
    fx, _, daily = pipeline.compute_day(quotes(rows), NO_TOKENS, DEFS, DAY)
    assert fx.height == 24 and (fx["status"] == "NORMAL").all()
    # fixings 00..11 see 3.0 (fixing 11:00 still holds the 10:30 obs), 12..23 see 4.0
    assert daily["value"][0] == pytest.approx((12 * 3.0 + 12 * 4.0) / 24)
    assert daily["status"][0] == "NORMAL" and daily["n_venues"][0] == 5


def test_other_series_rows_are_ignored() -> None:
    rows = [{"observed_at": at(10), "venue": "a", "offer_id": "x", "price": 2.0}]
    lf = quotes(rows).with_columns(pricing_class=pl.lit("spot"))
    fx, _, daily = pipeline.compute_day(lf, NO_TOKENS, DEFS, DAY)
    assert fx.height == 0 and daily.height == 0


def test_inputs_hash_is_reproducible_and_sensitive() -> None:
    rows = [{"observed_at": at(10), "venue": "a", "offer_id": "x", "price": 2.0}]
    h1 = pipeline.compute_day(quotes(rows), NO_TOKENS, DEFS, DAY)[0]["inputs_hash"][0]
    h2 = pipeline.compute_day(quotes(rows), NO_TOKENS, DEFS, DAY)[0]["inputs_hash"][0]
    rows[0]["price"] = 2.01
    h3 = pipeline.compute_day(quotes(rows), NO_TOKENS, DEFS, DAY)[0]["inputs_hash"][0]
    assert h1 == h2 != h3
