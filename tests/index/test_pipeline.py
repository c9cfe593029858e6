"""Methodology v1 on small examples computed by hand, and the bad inputs METHODOLOGY §9 defines."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest

from index import definitions, pipeline
from tests.index import synth
from tests.index.synth import DAY, NO_TOKENS, SERIES, at, hourly, quotes

DEFS = synth.defs()
# five steady venues: median 2.0, MAD 0.1 -> scale max(0.148, 5% of 2 = 0.1) = 0.148
FIVE = {"a": 1.9, "b": 2.0, "c": 2.0, "d": 2.1, "e": 2.2}


def run(rows: list[dict], defs: definitions.Definitions = DEFS, prior: pipeline.Prior | None = None,
        day: date = DAY) -> pipeline.DayResult:
    return pipeline.run_day(quotes(rows), NO_TOKENS, defs, day, prior, detail=True)


def fixing(r: pipeline.DayResult, h: int) -> dict:
    return r.fixings.filter(pl.col("fixing_time") == at(h, 0)).row(0, named=True)


def venue_rows(r: pipeline.DayResult, h: int) -> dict[str, dict]:
    return {v["venue"]: v for v in r.venues.filter(pl.col("fixing_time") == at(h, 0)).iter_rows(named=True)}


def test_hand_computed_fixing() -> None:
    # a lists 1, 2, 9 (median 2), b one quote (3), c 4 and 6 (5), d 3.5, e 30: observed 10:30.
    # Venue medians 2, 3, 5, 3.5, 30: centre 3.5, deviations 1.5, .5, 1.5, 0, 26.5 -> MAD 1.5,
    # scale 1.4826 x 1.5 = 2.2239; e is 11.92 scaled MADs away: excluded. Included 2, 3, 3.5, 5.
    rows = [{"observed_at": at(10), "venue": v, "offer_id": f"{v}{i}", "price": p}
            for v, ps in {"a": [1.0, 2.0, 9.0], "b": [3.0], "c": [4.0, 6.0], "d": [3.5], "e": [30.0]}.items()
            for i, p in enumerate(ps)]
    r = run(rows)
    assert r.fixings.height == 24  # every hour has a fixing, with or without data
    f = fixing(r, 11)
    assert f["value"] == pytest.approx(3.25)  # median of 2, 3, 3.5, 5
    assert f["p25"] == pytest.approx(2.75) and f["p75"] == pytest.approx(3.875)
    assert f["conf"] == pytest.approx(0.625)  # max(3.25 - 2.75, 3.875 - 3.25)
    assert f["trimmed_mean"] == pytest.approx(3.25)  # 25% of 4 cuts one each side: mean(3, 3.5)
    assert (f["min"], f["max"]) == (2.0, 5.0)
    assert f["n_venues"] == 4 and f["n_quotes"] == 7 and f["largest_venue_share"] == pytest.approx(3 / 7)
    assert f["status"] == "LOW_CONFIDENCE" and f["center"] == 3.5 and f["scale"] == pytest.approx(2.2239)
    assert fixing(r, 12)["value"] == pytest.approx(3.25)  # window (h - 2h, h]: 12:00 still sees 10:30
    assert fixing(r, 13)["status"] == "CONTINGENCY" and fixing(r, 10)["status"] == "CONTINGENCY"
    excluded = json.loads(f["excluded"])
    assert [e["venue"] for e in excluded] == ["e"] and excluded[0]["included"] is False
    assert excluded[0]["reason"].startswith("venue_filter: 11.92 scaled MADs from the cross-venue median 3.5")
    v = venue_rows(r, 11)
    assert {k: x["venue_median"] for k, x in v.items()} == {"a": 2.0, "b": 3.0, "c": 5.0, "d": 3.5, "e": 30.0}
    assert v["e"]["included"] is False and v["e"]["distance"] == pytest.approx(26.5 / 2.2239, rel=1e-4)


def test_latest_observation_of_an_offer_counts_once() -> None:
    rows = [{"observed_at": at(9), "venue": "a", "offer_id": "x", "price": 10.0},
            {"observed_at": at(10), "venue": "a", "offer_id": "x", "price": 2.0},
            {"observed_at": at(10), "venue": "b", "offer_id": "y", "price": 4.0},
            {"observed_at": at(10), "venue": "c", "offer_id": "z", "price": 3.0}]
    f = fixing(run(rows), 11)
    assert f["n_quotes"] == 3 and f["value"] == pytest.approx(3.0)  # 10.0 superseded by 2.0


def test_daily_mean_of_valid_fixings_and_sufficiency() -> None:
    # five venues all day; the price steps up by 1 at 11:30 (fixings 00..11 see 2.0, 12..23 see 3.0)
    rows = [{**q, "price": q["price"] + (1.0 if q["observed_at"] >= at(11) else 0.0)} for q in hourly(FIVE)]
    r = run(rows)
    assert (r.fixings["status"] == "NORMAL").all()
    d = r.values.row(0, named=True)
    assert d["value"] == pytest.approx((12 * 2.0 + 12 * 3.0) / 24)
    assert d["status"] == "NORMAL" and (d["n_fixings"], d["n_normal"], d["n_valid"]) == (24, 24, 24)
    assert d["n_venues"] == 5 and d["carried_from"] is None and d["value_window"] == "hourly"


def test_thin_afternoon_fixings_carry_and_the_day_is_low_confidence() -> None:
    # 5 venues until 10:30; from 11:30 only a and b quote (5.0, 6.0). Fixing 12:00 still sees c, d, e
    # from 10:30: medians 5, 6, 2.0, 2.1, 2.2 -> centre 2.2, MAD 0.2, a and b beyond 3 scaled MADs ->
    # c, d, e remain: LOW_CONFIDENCE 2.1. From 13:00 only a and b: CONTINGENCY, carrying 12:00's 2.1.
    rows = hourly(FIVE, hours=range(-1, 11)) + hourly({"a": 5.0, "b": 6.0}, hours=range(11, 23))
    r = run(rows)
    assert fixing(r, 11)["status"] == "NORMAL" and fixing(r, 12)["status"] == "LOW_CONFIDENCE"
    late = fixing(r, 15)
    assert late["status"] == "CONTINGENCY" and late["value"] == pytest.approx(2.1)
    assert late["carried_from"] == at(12, 0) and late["n_venues"] == 2 and late["p25"] is None
    d = r.values.row(0, named=True)
    assert (d["n_normal"], d["n_valid"]) == (12, 13)
    # 12 NORMAL < 18 but 13 valid >= 12: LOW_CONFIDENCE, the mean of the 13 valid fixings only
    assert d["status"] == "LOW_CONFIDENCE" and d["value"] == pytest.approx((12 * 2.0 + 2.1) / 13)


def test_contingency_fixing_carries_from_the_previous_day_within_72_hours() -> None:
    prior = pipeline.Prior(
        pl.DataFrame({"index_id": [SERIES], "fixing_time": [at(-1, 0)], "value": [7.0]},
                     schema=pipeline.PRIOR_FIXING_SCHEMA),
        pl.DataFrame(schema=pipeline.PRIOR_VENUE_SCHEMA), pl.DataFrame(schema=pipeline.PRIOR_DAY_SCHEMA))
    r = run([], prior=prior)
    assert (r.fixings["value"] == 7.0).all() and (r.fixings["carried_from"] == at(-1, 0)).all()
    old = pipeline.Prior(prior.last_valid_fixing.with_columns(fixing_time=pl.lit(at(-73, 0))),
                         prior.excluded_venues, prior.last_valid_day)
    r = run([], prior=old)
    assert r.fixings["value"].is_null().all()  # older than 72 h: nothing is carried


def day_prior(last_valid: date, value: float = 2.5) -> pipeline.Prior:
    return pipeline.Prior(pl.DataFrame(schema=pipeline.PRIOR_FIXING_SCHEMA), pl.DataFrame(
        schema=pipeline.PRIOR_VENUE_SCHEMA), pl.DataFrame({"index_id": [SERIES], "date": [last_valid],
                                                           "value": [value]}, schema=pipeline.PRIOR_DAY_SCHEMA))


@pytest.mark.parametrize(("age", "status", "value"), [(1, "CONTINGENCY", 2.5), (3, "CONTINGENCY", 2.5),
                                                      (4, "SUSPENDED", None)])
def test_a_day_without_data_carries_at_most_three_days(age: int, status: str, value: float | None) -> None:
    d = run([], prior=day_prior(DAY - timedelta(days=age))).values.row(0, named=True)
    assert (d["status"], d["value"]) == (status, value)
    assert d["carried_from"] == (DAY - timedelta(days=age) if value is not None else None)


def test_series_with_no_data_is_suspended_not_an_error() -> None:
    r = run([])
    assert r.fixings.height == 24 and (r.fixings["status"] == "CONTINGENCY").all()
    assert r.fixings["value"].is_null().all() and (r.fixings["n_venues"] == 0).all()
    d = r.values.row(0, named=True)
    assert d["status"] == "SUSPENDED" and d["value"] is None and d["n_fixings"] == 24 and d["n_valid"] == 0
    assert len(d["inputs_hash"]) == 64


def test_day_with_23_or_0_fixings() -> None:
    r = run(hourly(FIVE))
    params = pipeline.params_table(DEFS).lazy()
    kept = r.fixings.filter(pl.col("fixing_time") != at(5, 0))

    def day_from(fx: pl.DataFrame, prior: pipeline.Prior | None = None) -> dict:
        return pipeline.daily(fx.lazy(), r.venues.lazy(), r.quotes.lazy(), DEFS.indices, params, DAY,
                              prior or pipeline.Prior.empty(), "1.0.0").collect().row(0, named=True)

    d23 = day_from(kept)
    assert d23["n_fixings"] == 23 and d23["status"] == "NORMAL" and d23["value"] == pytest.approx(2.0)
    d0 = day_from(r.fixings.head(0))
    assert d0["n_fixings"] == 0 and d0["status"] == "SUSPENDED" and d0["value"] is None
    d0c = day_from(r.fixings.head(0), day_prior(DAY - timedelta(days=1)))
    assert d0c["status"] == "CONTINGENCY" and d0c["value"] == 2.5
    # 17 NORMAL fixings and nothing else: 17 valid >= 12 -> LOW_CONFIDENCE
    d17 = day_from(r.fixings.head(17))
    assert d17["status"] == "LOW_CONFIDENCE" and d17["n_normal"] == 17
    d11 = day_from(r.fixings.head(11))  # 11 valid < 12: insufficient, nothing to carry
    assert d11["status"] == "SUSPENDED"


def test_all_venues_identical_mad_zero_keeps_everyone() -> None:
    r = run(hourly({v: 2.0 for v in "abcdef"}, hours=[10]))
    f = fixing(r, 11)
    assert f["value"] == 2.0 and f["conf"] == 0.0 and f["n_venues"] == 6 and f["excluded"] == "[]"
    assert f["scale"] == pytest.approx(0.1)  # MAD 0: the floor, 5% of the median


def test_mad_zero_majority_floor_decides() -> None:
    # four venues at 2.00 (MAD 0, scale = 5% x 2 = 0.1): 2.05 is 0.5 scaled MADs away (kept),
    # 2.50 is 5 away (excluded)
    r = run(hourly({"a": 2.0, "b": 2.0, "c": 2.0, "d": 2.0, "x": 2.05, "y": 2.5}, hours=[10]))
    v = venue_rows(r, 11)
    assert v["x"]["included"] and not v["y"]["included"]
    assert v["y"]["distance"] == pytest.approx(5.0)


def test_a_venue_with_one_quote_counts_once_like_a_venue_with_many() -> None:
    many = {"a": [2.0] * 50, "b": 2.1, "c": 2.2, "d": 2.3, "e": 2.4}
    f = fixing(run(hourly(many, hours=[10])), 11)
    assert f["n_venues"] == 5 and f["value"] == pytest.approx(2.2)
    assert f["largest_venue_share"] == pytest.approx(50 / 54)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), -1.0, 0.0])
def test_nan_inf_or_non_positive_price_reaching_the_pipeline_is_ignored(bad: float) -> None:
    clean = hourly(FIVE, hours=[10])
    dirty = clean + [{"observed_at": at(10), "venue": "a", "offer_id": "bad", "price": bad},
                     {"observed_at": at(10), "venue": "zz", "offer_id": "bad2", "price": bad}]
    a, b = run(clean), run(dirty)
    assert a.fixings.equals(b.fixings) and a.values.equals(b.values)


def test_unavailable_offers_are_not_eligible() -> None:
    rows = hourly(FIVE, hours=[10]) + [{"observed_at": at(10), "venue": "a", "offer_id": "gone", "price": 99.0,
                                        "available_units": 0}]
    assert fixing(run(rows), 11)["n_quotes"] == 5


def test_gross_filter_against_the_trailing_reference() -> None:
    # history: yesterday the five venues sat near 2.0; today b adds a 25.0 quote (12.5x) and f quotes only 0.1 (0.05x)
    history = hourly(FIVE, hours=range(-20, -2))
    today = hourly({**FIVE, "b": [2.0, 25.0], "f": 0.1}, hours=[10])
    r = run(history + today)
    f = fixing(r, 11)
    v = venue_rows(r, 11)
    assert v["b"]["n_dropped"] == 1 and v["b"]["venue_median"] == 2.0 and v["b"]["included"]
    assert not v["f"]["included"] and v["f"]["exclusion_reason"].startswith("gross_filter: all 1 quotes outside")
    assert f["gross_reference"] == pytest.approx(2.0) and f["n_venues"] == 5
    notes = {e["venue"]: e for e in json.loads(f["excluded"])}
    assert notes["b"]["included"] is True and notes["b"]["reason"].startswith("gross_filter: 1 of 2 quotes dropped")
    q = r.quotes.filter((pl.col("fixing_time") == at(11, 0)) & (pl.col("price") == 25.0)).row(0, named=True)
    assert not q["gross_ok"] and "outside [0.1x, 10.0x] of the 7-day reference 2.0" in q["gross_reason"]


def test_without_history_nothing_is_gross_filtered() -> None:
    r = run(hourly({**FIVE, "b": [2.0, 25.0]}, hours=[10]))
    assert fixing(r, 11)["gross_reference"] is None and venue_rows(r, 11)["b"]["n_dropped"] == 0


def hysteresis_rows(x_by_hour: dict[int, float]) -> list[dict]:
    """Four steady venues (9, 10, 10, 11: centre 10, MAD 1, scale 1.4826) and x at the given prices."""
    rows = hourly({"a": 9.0, "b": 10.0, "c": 10.0, "d": 11.0}, hours=sorted(x_by_hour))
    return rows + [{"observed_at": at(h), "venue": "x", "offer_id": "x", "price": p} for h, p in x_by_hour.items()]


def scaled(d: float) -> float:
    return 10.0 + d * 1.4826


def test_readmission_hysteresis() -> None:
    # x at 4.0, 2.0, 2.0, 1.0, 2.0 scaled MADs at fixings 03..07 (observations at 02:30..06:30, window 2h,
    # the latest observation of the offer counts)
    r = run(hysteresis_rows({2: scaled(4.0), 3: scaled(2.0), 4: scaled(2.0), 5: scaled(1.0), 6: scaled(2.0)}))
    state = {h: venue_rows(r, h)["x"]["included"] for h in range(3, 8)}
    assert state == {3: False, 4: False, 5: False, 6: True, 7: True}
    assert venue_rows(r, 4)["x"]["exclusion_reason"].startswith("hysteresis: excluded at the previous fixing")
    assert venue_rows(r, 3)["x"]["exclusion_reason"].startswith("venue_filter: 4.0 scaled MADs")
    # never excluded before: 2.0 scaled MADs is within the 3.0 limit
    assert venue_rows(run(hysteresis_rows({3: scaled(2.0)})), 4)["x"]["included"]


def test_hysteresis_state_carries_over_midnight_through_the_prior() -> None:
    rows = hysteresis_rows({-1: scaled(2.0)})  # observed 23:30 the day before: fixing 00:00 sees it
    seeded = pipeline.Prior(pl.DataFrame(schema=pipeline.PRIOR_FIXING_SCHEMA),
                            pl.DataFrame({"index_id": [SERIES], "venue": ["x"]}, schema=pipeline.PRIOR_VENUE_SCHEMA),
                            pl.DataFrame(schema=pipeline.PRIOR_DAY_SCHEMA))
    assert not venue_rows(run(rows, prior=seeded), 0)["x"]["included"]
    assert venue_rows(run(rows), 0)["x"]["included"]


def test_a_gap_resets_hysteresis() -> None:
    # x excluded at 03:00 and 04:00 (its 02:30 quote is in both windows), absent at 05:00 and 06:00,
    # back at 2.0 scaled MADs at 07:00: the run of fixings is broken, so it is judged afresh (limit 3.0)
    r = run(hysteresis_rows({2: scaled(4.0), 6: scaled(2.0)}))
    assert venue_rows(r, 3)["x"]["included"] is False
    assert "x" not in venue_rows(r, 5)
    assert venue_rows(r, 7)["x"]["included"] is True


def test_pooled_window_with_sigma_clipped_median_and_minimum_observations() -> None:
    pooled = synth.definition(estimator="sigma_clipped_median", params={"k": 2.0, "trim": 0.1}, window="pooled",
                              min_observations=30, min_venues_normal=1, min_venues_low=1)
    d = synth.defs(pooled)
    rows = hourly({"a": [2.0, 2.1], "b": 2.2}, hours=range(0, 24))  # 72 observations during the day
    rows += [{"observed_at": at(12), "venue": "b", "offer_id": "far", "price": 9.0}]
    r = run(rows, defs=d)
    v = r.values.row(0, named=True)
    assert r.fixings.height == 0 and v["value_window"] == "pooled" and v["n_fixings"] is None
    assert v["status"] == "NORMAL" and v["n_quotes"] == 73 and v["value"] == pytest.approx(2.1)  # 9.0 clipped
    thin = run(hourly({"a": 2.0}, hours=range(0, 10)), defs=d).values.row(0, named=True)
    assert thin["status"] == "SUSPENDED"  # 10 observations < 30


def test_estimators_are_chosen_per_series() -> None:
    d = synth.defs(synth.definition("M"), synth.definition("T", estimator="trimmed_mean", params={"fraction": 0.2}),
                   synth.definition("W", estimator="weighted_median", params={"weights": {"e": 10.0},
                                                                                "default_weight": 1.0}))
    r = run(hourly({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 4.4}, hours=[10]), defs=d)
    got = {row["index_id"]: row["value"] for row in r.fixings.filter(pl.col("fixing_time") == at(11, 0))
           .iter_rows(named=True)}
    # 20% of 5 cuts one each end: mean(2, 3, 4); e carries 10 of 14 weight: 4.4
    assert got == pytest.approx({"M": 3.0, "T": 3.0, "W": 4.4})


def test_inputs_hash_is_reproducible_and_sensitive() -> None:
    rows = hourly(FIVE, hours=[10])
    h1 = fixing(run(rows), 11)["inputs_hash"]
    assert fixing(run(list(reversed(rows))), 11)["inputs_hash"] == h1
    rows[0]["price"] += 0.01
    assert fixing(run(rows), 11)["inputs_hash"] != h1


def test_other_series_rows_are_ignored() -> None:
    rows = [{**q, "pricing_class": "spot"} for q in hourly(FIVE, hours=[10])]
    r = run(rows)
    assert r.fixings["n_quotes"].sum() == 0 and r.values["status"][0] == "SUSPENDED"


def test_shipped_definitions_load_and_cover_the_required_series() -> None:
    d = definitions.load()
    ids = set(d.by_id())
    for gpu in ("H100-SXM", "H100-PCIE", "H100-NVL", "H200", "B200", "A100-80GB"):
        assert {f"GPU.{gpu}.OD.NEO", f"GPU.{gpu}.OD.HYP"} <= ids
    assert {"GPU.H100-SXM.SPOT", "GPU.H200.SPOT"} <= ids
    assert d.methodology == "1.0.0"
    assert {x.estimator for x in d.indices} >= {"median_of_venue_medians", "capacity_weighted_median",
                                                "trimmed_mean", "sigma_clipped_median"}
