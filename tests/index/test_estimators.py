"""Each estimator agrees with a plain numpy/scipy implementation on random data (several groups at once)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from index import estimators

KEYS = ["index_id", "fixing_time"]
# prices in cents (exact ties are then real ties, not float accidents), weights small integers
price = st.integers(min_value=1, max_value=100_000).map(lambda c: c / 100)
group = st.lists(st.tuples(price, st.integers(min_value=1, max_value=2000), st.integers(min_value=1, max_value=9)),
                 min_size=1, max_size=12)
groups = st.lists(group, min_size=1, max_size=3)


def frames(gs: list[list[tuple[float, int, int]]]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Venue rows (median, capacity, explicit-weight index) and quote rows (the same prices) per group."""
    rows = [{"index_id": "X", "fixing_time": g, "venue": f"v{i}", "venue_median": p, "n_quotes": 1,
             "capacity": float(cap), "price": p, "w": w}
            for g, members in enumerate(gs) for i, (p, cap, w) in enumerate(members)]
    df = pl.DataFrame(rows)
    return df.lazy(), df.lazy()


def run(name: str, gs: list[list[tuple[float, int, int]]], params: dict[str, Any]) -> list[float | None]:
    venues, quotes = frames(gs)
    out = estimators.apply(name, venues, quotes, KEYS, params).collect().sort("fixing_time")
    assert out["fixing_time"].to_list() == list(range(len(gs)))
    return out["value"].to_list()


# ---- references -------------------------------------------------------------------------------

def ref_weighted_median(x: np.ndarray, w: np.ndarray) -> float | None:
    """Midpoint of the data points minimising sum w |x - m| (the textbook definition)."""
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:
        return None
    cost = np.array([np.sum(w * np.abs(x - m)) for m in x])
    tol = 1e-9 * max(1.0, float(np.sum(w) * (x.max() - x.min())))
    best = x[cost <= cost.min() + tol]
    return float((best.min() + best.max()) / 2)


def ref_capped(w: np.ndarray, cap: float) -> np.ndarray:
    """Iterative capping: cap every weight above the cap, share the rest, repeat."""
    w = w / w.sum()
    n = w.size
    if n * cap < 1 - 1e-12:
        return np.full(n, 1.0 / n)
    capped = np.zeros(n, dtype=bool)
    while True:
        rest = 1 - cap * capped.sum()
        new = np.where(capped, cap, rest * w / w[~capped].sum())
        over = ~capped & (new > cap + 1e-12)
        if not over.any():
            return new
        capped |= over


def ref_tier_weight(capacity: float, tiers: list[int], weights: list[float]) -> float:
    return weights[int(np.searchsorted(np.array(tiers), capacity, side="right"))]


def ref_sigma_clipped(x: np.ndarray, k: float, trim: float) -> float:
    if x.size == 1:
        return float(x[0])
    tm = stats.trim_mean(x, trim)
    sd = np.std(x, ddof=1)
    kept = x[np.abs(x - tm) <= k * sd]
    return float(np.median(kept if kept.size else x))


# ---- agreement --------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(groups)
def test_median_of_venue_medians_matches_numpy(gs: list[list[tuple[float, int, int]]]) -> None:
    expected = [float(np.median([p for p, _, _ in g])) for g in gs]
    assert run("median_of_venue_medians", gs, {}) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(groups, st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.4]))
def test_trimmed_mean_matches_scipy(gs: list[list[tuple[float, int, int]]], fraction: float) -> None:
    expected = [float(stats.trim_mean(np.array([p for p, _, _ in g]), fraction)) for g in gs]
    assert run("trimmed_mean", gs, {"fraction": fraction}) == pytest.approx(expected, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(groups, st.integers(min_value=0, max_value=3))
def test_explicit_weighted_median_matches_reference(gs: list[list[tuple[float, int, int]]], default: int) -> None:
    # venues v0, v2, v4, ... get their drawn weight, the others the default (0 = not in the index)
    weights = {f"v{i}": float(w) for g in gs for i, (_, _, w) in enumerate(g) if i % 2 == 0}
    expected = []
    for g in gs:
        x = np.array([p for p, _, _ in g])
        w = np.array([weights.get(f"v{i}", float(default)) for i in range(len(g))])
        expected.append(ref_weighted_median(x, w))
    got = run("weighted_median", gs, {"weights": weights, "default_weight": float(default)})
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(groups, st.sampled_from([0.1, 0.2, 0.25, 0.34, 0.5, 1.0]))
def test_capacity_weighted_median_matches_reference(gs: list[list[tuple[float, int, int]]], cap: float) -> None:
    tiers, tw = [8, 64, 512], [1.0, 2.0, 3.0, 4.0]
    expected = []
    for g in gs:
        x = np.array([p for p, _, _ in g])
        w = ref_capped(np.array([ref_tier_weight(c, tiers, tw) for _, c, _ in g]), cap)
        expected.append(ref_weighted_median(x, w))
    got = run("capacity_weighted_median", gs, {"tiers": tiers, "tier_weights": tw, "cap": cap})
    assert got == pytest.approx(expected, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=15),
       st.sampled_from([0.1, 0.2, 0.25, 0.5, 1.0]))
def test_capped_weights_match_iterative_capping(raw: list[int], cap: float) -> None:
    frame = pl.LazyFrame({"g": [0] * len(raw), "w": [float(v) for v in raw]}).with_row_index("i")
    got = estimators.capped_weights(frame, ["g"], "w", cap).collect().sort("i")["w"].to_numpy()
    expected = ref_capped(np.array(raw, dtype=float), cap)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert got.sum() == pytest.approx(1.0) and got.max() <= max(cap, 1 / len(raw)) + 1e-12


@settings(max_examples=60, deadline=None)
@given(groups, st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.sampled_from([0.0, 0.1, 0.25]))
def test_sigma_clipped_median_matches_numpy(gs: list[list[tuple[float, int, int]]], k: float, trim: float) -> None:
    expected = [ref_sigma_clipped(np.array([p for p, _, _ in g]), k, trim) for g in gs]
    assert run("sigma_clipped_median", gs, {"k": k, "trim": trim}) == pytest.approx(expected, rel=1e-9)


def test_sigma_clip_drops_the_far_quote_by_hand() -> None:
    # 1, 1, 1, 1, 10: trimmed mean (10%: cuts 0) 2.8, sd 4.02; 10 is 7.2 away: beyond k=1.5 -> median of the 1s
    assert run("sigma_clipped_median", [[(1.0, 1, 1)] * 4 + [(10.0, 1, 1)]], {"k": 1.5, "trim": 0.1}) == [1.0]
    assert run("sigma_clipped_median", [[(1.0, 1, 1)] * 4 + [(10.0, 1, 1)]], {"k": 2.0, "trim": 0.1}) == [1.0]


def test_weighted_median_by_hand() -> None:
    # weights 1, 1, 2 on 1, 2, 3: cumulative 1/4, 1/2 (exactly half: mean of 2 and 3), 1
    venues = pl.LazyFrame({"index_id": ["X"] * 3, "fixing_time": [0] * 3, "venue": ["a", "b", "c"],
                           "venue_median": [1.0, 2.0, 3.0], "w": [1.0, 1.0, 2.0]})
    assert estimators.weighted_median(venues, KEYS, "venue_median", "w").collect()["value"][0] == 2.5


def test_unknown_estimator_or_parameter_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown estimator 'nope'"):
        estimators.resolve("nope", {})
    with pytest.raises(ValueError, match="has no parameter fractoin"):
        estimators.resolve("trimmed_mean", {"fractoin": 0.2})
    with pytest.raises(ValueError, match="fraction must be"):
        estimators.resolve("trimmed_mean", {"fraction": 0.6})
    assert estimators.resolve("trimmed_mean", {}) == {"fraction": 0.25}


def test_a_new_estimator_is_a_function_and_a_name() -> None:
    @estimators.register("test_max_of_venue_medians")
    def _max(venues: pl.LazyFrame, quotes: pl.LazyFrame, keys: list[str], params: dict[str, Any]) -> pl.LazyFrame:
        """Largest venue median (a test estimator)."""
        return venues.group_by(keys).agg(value=pl.col("venue_median").max())

    try:
        assert run("test_max_of_venue_medians", [[(1.0, 1, 1), (5.0, 1, 1)]], {}) == [5.0]
    finally:
        del estimators.ESTIMATORS["test_max_of_venue_medians"]
