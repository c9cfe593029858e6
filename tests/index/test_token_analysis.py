"""Provider comparisons and the annualised decline (index.token_analysis)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from index import pipeline, token_analysis, tokens
from tests.index.tokenrows import DAY, RULES, five_providers, tdef, token_rows

START, _ = pipeline.day_bounds(DAY)


def synthetic(decline: float, days: int, noise: float, seed: int) -> tuple[list[date], list[float]]:
    """A price falling by ``decline`` a year (0.9 = to a tenth), log-normal day-to-day noise."""
    rng = np.random.default_rng(seed)
    d0 = date(2025, 1, 1)
    rate = math.log(1 - decline)
    dates = [d0 + timedelta(days=i) for i in range(days)]
    values = [10.0 * math.exp(rate * i / 365.25 + rng.normal(0, noise)) for i in range(days)]
    return dates, values


@pytest.mark.parametrize("decline", [0.9, 0.5, 0.0, -0.3])
def test_decline_recovers_a_known_rate_with_an_interval_that_covers_it(decline: float) -> None:
    dates, values = synthetic(decline, 365, 0.05, seed=11)
    t = token_analysis.annualised_decline(dates, values)
    assert t is not None and t.n == 365 and t.days == 364
    assert t.decline_low < decline < t.decline_high
    assert t.decline == pytest.approx(decline, abs=0.02)
    assert t.decline_high - t.decline_low < 0.1


def test_interval_coverage_is_near_its_nominal_level() -> None:
    hits = 0
    for seed in range(200):
        dates, values = synthetic(0.8, 60, 0.1, seed)
        t = token_analysis.annualised_decline(dates, values)
        assert t is not None
        hits += t.decline_low <= 0.8 <= t.decline_high
    assert 0.90 <= hits / 200 <= 0.99  # 95% nominal


def test_an_order_of_magnitude_a_year_reads_as_a_factor_of_ten() -> None:
    dates, values = synthetic(0.9, 100, 0.0, seed=0)
    t = token_analysis.annualised_decline(dates, values)
    assert t is not None and t.factor_per_year == pytest.approx(10.0) and t.decline == pytest.approx(0.9)


def test_too_little_history_gives_no_trend() -> None:
    d = [date(2026, 1, 1), date(2026, 1, 2)]
    assert token_analysis.annualised_decline(d, [1.0, 0.9]) is None
    assert token_analysis.annualised_decline(d + [date(2026, 1, 3)], [1.0, None, 0.0]) is None  # type: ignore[list-item]
    assert token_analysis.annualised_decline([date(2026, 1, 1)] * 3, [1.0, 2.0, 3.0]) is None


def test_providers_ranked_cheapest_first_per_segment() -> None:
    rows = five_providers() + [{"provider": "novita", "inp": 0.1, "out": 0.1, "quantization": "fp8"},
                               {"provider": "lambda", "inp": 0.3, "out": 0.3, "quantization": "fp8"}]
    defs = [tdef("F", first_party="never"), tdef("L", segment="low_bit", first_party="never")]
    c = tokens.candidates(token_rows(rows), defs, RULES, START).collect()
    r = token_analysis.rank_providers(c, top=2)
    full = r.filter(pl.col("segment") == "full")
    assert full["provider"].to_list() == ["together", "fireworks"] and full["rank"].to_list() == [1, 2]
    assert full["vs_median"][0] == pytest.approx(1.0 / 3.0 - 1)
    assert r.filter(pl.col("segment") == "low_bit")["provider"].to_list() == ["novita", "lambda"]


def test_provider_table_deviation_and_indicative_value() -> None:
    rows = [*five_providers(), {"provider": "openrouter", "inp": 9.0, "out": 9.0}]
    c = tokens.candidates(token_rows(rows), [tdef("F")], RULES, START).collect()
    table = token_analysis.provider_table(c)
    assert token_analysis.indicative_value(table) == pytest.approx(3.0)  # the router is not counted
    dev = token_analysis.with_deviation(table, 3.0)
    assert dict(zip(dev["provider"], dev["deviation"], strict=True))["nebius"] == pytest.approx(5 / 3 - 1)
    assert not dev.filter(pl.col("provider") == "openrouter")["included"][0]
