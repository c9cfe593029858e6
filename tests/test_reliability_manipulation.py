"""Manipulation scenarios (tests/reliability/manipulation.py) against the bounds of METHODOLOGY.md §4 and §10."""

from __future__ import annotations

import polars as pl

from tests.index import synth
from tests.reliability import manipulation as m


def test_flood_of_cheap_listings_counts_once_and_is_excluded() -> None:
    s = m.flood()
    assert s.flagged and s.bound_ok and s.status_manipulated == "NORMAL"
    # §4.3/§10: the venue acts only through its median: same value as one listing at that price
    day = synth.DAY
    honest = m.honest_prices(9, 1)
    one = m.run(m.history(honest, day) + m.rows_for_day({**honest, "flood": m.MARKET / 10}, day), day)
    assert one.values["value"][0] == s.manipulated_value
    assert abs(s.move) <= 1e-12 or "venue_filter" in s.notes


def test_two_colluding_venues_of_ten_stay_inside_the_honest_bound() -> None:
    s = m.collusion()
    assert s.flagged and s.bound_ok and s.status_manipulated == "NORMAL"


def test_a_colluding_majority_breaks_the_bound_so_the_check_can_fail() -> None:
    s = m.collusion(n_colluding=6, factor=1.5)
    assert not s.bound_ok and s.manipulated_value > s.honest_value * 1.2


def test_a_drifting_venue_is_excluded_before_the_two_weeks_end_and_never_breaks_the_bound() -> None:
    s = m.drift()
    assert s.bound_ok and s.flagged
    assert s.per_day[-1][3], "the venue at +32% must be excluded on the last day"
    # before it is flagged it moves the value by at most the honest spread (one venue of ten)
    for _, honest, manipulated, flagged in s.per_day:
        if not flagged:
            assert abs(manipulated - honest) <= 0.2 * honest


def test_a_stale_feed_moves_the_value_by_less_than_the_market_moved() -> None:
    s = m.stale()
    assert s.bound_ok and s.status_manipulated == "NORMAL"
    assert abs(s.move) < 0.10 * s.honest_value


def test_replayed_old_observations_are_not_eligible() -> None:
    s = m.stale_timestamps()
    assert s.manipulated_value == s.honest_value and s.notes.startswith("0 fixings")


def test_bound_check_sees_the_fixing_scale() -> None:
    n = 3
    # the §10 margin is computed per fixing from the published scale: a fixing without a scale has no margin
    r = m.run(m.rows_for_day(m.honest_prices(n, 9), synth.DAY), synth.DAY)
    assert r.fixings["scale"].is_not_null().all() and (r.fixings["status"] == "LOW_CONFIDENCE").all()
    assert m.outcome(r, set(m.honest_prices(n, 9)), set()).bound_ok
    assert r.venues.filter(pl.col("included")).height == 26 * n - 2 * n  # hours -2 and -1 feed no fixing of their own
