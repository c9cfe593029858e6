"""Token series selection (index.tokens): blending, cross-provider medians, first-party rule,
segments, tiers, and each bad input with its documented outcome."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import pipeline, tokens, validate
from index.definitions import TokenRules
from tests.index.tokenrows import (
    BEFORE,
    DAY,
    GPT,
    LLAMA,
    NO_GPU,
    RULES,
    at,
    defs,
    five_providers,
    status,
    tdef,
    token_rows,
    value,
)

START, _ = pipeline.day_bounds(DAY)


def run(rows: list[dict], *items, rules: TokenRules = RULES) -> pl.DataFrame:
    _, _, values = tokens.compute_day(NO_GPU, token_rows(rows), defs(*items, rules=rules), DAY)
    return values


def cands(rows: list[dict], *items, rules: TokenRules = RULES) -> pl.DataFrame:
    return tokens.candidates(token_rows(rows), list(items), rules, START).collect()


# ---- blending ------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 100), st.floats(0.01, 400))
def test_blended_is_three_parts_input_one_part_output(inp: float, out: float) -> None:
    df = token_rows([{"provider": "p", "inp": inp, "out": out}]).select(tokens.side_price("blended")).collect()
    assert df.item() == pytest.approx((3 * inp + out) / 4) == pytest.approx(tokens.blended(inp, out))
    assert min(inp, out) <= df.item() <= max(inp, out) + 1e-12


def test_blended_needs_both_sides() -> None:
    c = cands([{"provider": "together", "inp": 1.0}], tdef("B"))
    assert c["reason"].to_list() == ["no blended price in this row"]


def test_series_of_each_side_read_their_column() -> None:
    rows = [{"provider": p, "inp": 1.0 * i, "out": 4.0 * i, "cached": 0.5 * i}
            for i, p in enumerate(["together", "fireworks", "deepinfra"], start=1)]
    values = run(rows, tdef("IN", price="input"), tdef("OUT", price="output"), tdef("C", price="cached_input"),
                 tdef("B"))
    assert value(values, "IN") == pytest.approx(2.0) and value(values, "OUT") == pytest.approx(8.0)
    assert value(values, "C") == pytest.approx(1.0)
    assert value(values, "B") == pytest.approx((3 * 2.0 + 8.0) / 4)  # median of blends 1.75, 3.5, 5.25


# ---- cross-provider median -----------------------------------------------------------------------

def test_cross_provider_median_counts_each_provider_once() -> None:
    rows = five_providers()
    # together lists the model three times (regions) and two sources report fireworks
    rows += [{"provider": "together", "id": f"region-{i}", "inp": 1.0, "out": 1.0} for i in range(3)]
    rows += [{"provider": "fireworks", "source": "other", "inp": 2.0, "out": 2.0}]
    values = run(rows, tdef("B"))
    assert value(values, "B") == pytest.approx(3.0)
    assert values.filter(pl.col("index_id") == "B")["n_venues"][0] == 5
    assert status(values, "B") == "NORMAL"


def test_median_moves_with_the_providers_not_with_their_listing_count() -> None:
    rows = five_providers() + [{"provider": "together", "id": f"dup{i}", "inp": 1.0, "out": 1.0} for i in range(50)]
    assert value(run(rows, tdef("B")), "B") == pytest.approx(3.0)


def test_router_is_not_a_venue() -> None:
    rows = [*five_providers()[:3], {"provider": "openrouter", "inp": 0.01, "out": 0.01}]
    c = cands(rows, tdef("B"))
    assert c.filter(pl.col("provider") == "openrouter")["reason"][0].startswith("router:")
    assert value(run(rows, tdef("B")), "B") == pytest.approx(2.0)


# ---- first-party rule --------------------------------------------------------------------------

def test_first_party_price_wins_where_the_maker_sells_the_model() -> None:
    rows = five_providers(GPT) + [{"provider": "openai", "model": GPT, "inp": 2.0, "out": 8.0}]
    values = run(rows, tdef("GPT", GPT))
    assert value(values, "GPT") == pytest.approx((3 * 2.0 + 8.0) / 4)
    assert status(values, "GPT") == "NORMAL"  # one authoritative list price, not a thin median
    c = cands(rows, tdef("GPT", GPT))
    assert c.filter(pl.col("provider") == "together")["reason"][0].startswith("first-party rule")


def test_without_the_maker_the_median_applies_and_never_rule_forces_it() -> None:
    assert value(run(five_providers(GPT), tdef("GPT", GPT)), "GPT") == pytest.approx(3.0)
    rows = five_providers(GPT) + [{"provider": "openai", "model": GPT, "inp": 2.0, "out": 8.0}]
    # first_party = "never": openai is one provider among six (blends 1, 2, 3, 3.5, 4, 5)
    assert value(run(rows, tdef("GPT", GPT, first_party="never")), "GPT") == pytest.approx(3.25)


def test_maker_venue_uses_the_table_for_makers_named_otherwise() -> None:
    assert tokens.maker_venue(LLAMA, RULES) == "meta"
    assert tokens.maker_venue(GPT, RULES) == "openai"
    assert tokens.maker_venue("nobody/unknown-model", RULES) is None


# ---- segments and tiers --------------------------------------------------------------------------

def test_low_bit_endpoints_are_a_separate_segment() -> None:
    rows = five_providers() + [{"provider": p, "inp": 0.1, "out": 0.1, "quantization": q}
                               for p, q in (("novita", "fp8"), ("lambda", "int4"), ("chutes", "fp4"))]
    values = run(rows, tdef("B"), tdef("B.LOW", segment="low_bit"))
    assert value(values, "B") == pytest.approx(3.0)  # the three cheap fp8/int4/fp4 quotes are not mixed in
    assert value(values, "B.LOW") == pytest.approx(0.1)
    assert values.filter(pl.col("index_id") == "B.LOW")["n_venues"][0] == 3


def test_unstated_quantization_is_taken_from_another_source_for_the_same_endpoint() -> None:
    rows = [{"provider": "nebius", "source": "openrouter", "inp": 0.13, "out": 0.40, "quantization": "fp8"},
            {"provider": "nebius", "source": "litellm", "inp": 0.13 + 1e-12, "out": 0.40}]
    c = tokens.resolve_quantization(token_rows(rows), RULES).collect()
    assert c["segment"].to_list() == ["low_bit", "low_bit"] and c["quantization"].to_list() == ["fp8", "fp8"]
    # sources that disagree within the low-bit segment still put the endpoint there
    rows += [{"provider": "nebius", "source": "own", "inp": 0.13, "out": 0.40, "quantization": "fp4"}]
    c = tokens.resolve_quantization(token_rows(rows), RULES).collect()
    assert c.filter(pl.col("source") == "litellm")["segment"][0] == "low_bit"
    # a different price is a different endpoint: nothing inherited, the provider's default precision
    c = tokens.resolve_quantization(token_rows([rows[0], {**rows[1], "inp": 0.5}]), RULES).collect()
    assert c.filter(pl.col("source") == "litellm")["segment"][0] == "full"


def test_long_context_tier_is_its_own_series() -> None:
    rows = [{"provider": "openai", "model": GPT, "inp": 2.0, "out": 8.0},
            {"provider": "openai", "model": GPT, "id": "gpt-4.1 [prompt>200k]", "inp": 4.0, "out": 12.0,
             "context_tier": 200_000}]
    values = run(rows, tdef("GPT", GPT), tdef("GPT.CTX", GPT, context_tier=200_000))
    assert value(values, "GPT") == pytest.approx(3.5)  # the headline is the shortest tier only
    assert value(values, "GPT.CTX") == pytest.approx(6.0)


# ---- bad input -----------------------------------------------------------------------------------

def test_no_provider_left_after_filters_gives_no_value_never_a_guess() -> None:
    # every endpoint is low-bit or a router: the full-precision series has nothing.
    # Three low-bit providers: a cross-provider median needs >= 3 venues for a valid value under
    # methodology v1 (METHODOLOGY.md §14 T4 and the status rules), so the low-bit series is priced.
    rows = [{"provider": "novita", "inp": 0.1, "out": 0.1, "quantization": "fp8"},
            {"provider": "deepinfra", "inp": 0.2, "out": 0.2, "quantization": "fp8"},
            {"provider": "parasail", "inp": 0.3, "out": 0.3, "quantization": "fp4"},
            {"provider": "openrouter", "inp": 0.2, "out": 0.2}]
    values = run(rows, tdef("B"), tdef("B.LOW", segment="low_bit"))
    b = values.filter(pl.col("index_id") == "B")
    assert b.filter(pl.col("value").is_not_null() & pl.col("status").is_in(["NORMAL", "LOW_CONFIDENCE"])).height == 0
    assert b["value"].to_list() in ([], [None])  # no value made up, interpolated or filled with zero
    assert value(values, "B.LOW") == pytest.approx(0.2)
    assert status(values, "B.LOW") == "LOW_CONFIDENCE"
    c = cands(rows, tdef("B"))
    assert c["reason"].to_list() == [c["reason"][0]] and c["reason"][0].startswith("router:")


@pytest.mark.parametrize("raw, reason", [(0.0, "is 0 (free tier"), (-1.0, "variable router price")])
def test_free_and_variable_prices_are_refused_with_a_reason_never_counted_as_zero(raw: float, reason: str) -> None:
    from datetime import UTC, datetime

    from sources.openrouter import SOURCE as OPENROUTER
    from tests.conftest import raw as recorded

    # three priced providers (methodology v1: a cross-provider median needs >= 3 venues for a value,
    # METHODOLOGY.md §14 T4); a free or variable price counted as 0 would make it 4 venues, median 0.75
    body = ('{"data": {"id": "meta-llama/llama-3.3-70b-instruct", "endpoints": ['
            '{"provider_name": "Together", "pricing": {"prompt": "0.0000006", "completion": "0.0000006"}},'
            '{"provider_name": "Fireworks", "pricing": {"prompt": "0.0000009", "completion": "0.0000009"}},'
            '{"provider_name": "DeepInfra", "pricing": {"prompt": "0.0000012", "completion": "0.0000012"}},'
            f'{{"provider_name": "Chutes", "pricing": {{"prompt": "{raw}", "completion": "{raw}"}}}}]}}}}')
    resp = recorded("openrouter", body, url="https://openrouter.ai/api/v1/models/x/endpoints",
                    meta={"kind": "endpoints", "model": LLAMA})
    good, quarantine = validate.split(OPENROUTER.parse([resp], datetime(2026, 11, 19, 23, 30, tzinfo=UTC)), "token")
    assert sorted(good["provider"].to_list()) == ["deepinfra", "fireworks", "together"]
    assert quarantine.height == 1 and reason in quarantine["reason"][0]
    _, _, values = tokens.compute_day(NO_GPU, good.lazy(), defs(tdef("B")), DAY)
    assert value(values, "B") == pytest.approx(0.9)  # the free/variable provider is not a price of 0
    assert values.filter(pl.col("index_id") == "B")["n_venues"][0] == 3


def test_a_zero_that_reached_the_frame_is_still_no_price() -> None:
    c = cands([{"provider": "chutes", "inp": 0.0, "out": 0.0}, *five_providers()[:2]], tdef("B"))
    assert c.filter(pl.col("provider") == "chutes")["reason"][0] == "no blended price in this row"


@pytest.mark.parametrize("factor, what", [(100.0, "cents"), (1 / 1000, "per 1K tokens"), (1e6, "per token")])
def test_a_price_in_the_wrong_unit_is_excluded_not_averaged(factor: float, what: str) -> None:
    rows = five_providers()
    # groq's 4.0 written in another unit: cents (400), USD per 1K tokens (0.004), USD per token x 1e6 ...
    rows[3] = {**rows[3], "inp": 4.0 * factor, "out": 4.0 * factor}
    c = cands(rows, tdef("B"))
    reason = c.filter(pl.col("provider") == "groq")["reason"][0]
    assert reason.startswith("unit error"), what
    values = run(rows, tdef("B"))
    assert value(values, "B") == pytest.approx(2.5)  # median of 1, 2, 3, 5: the bad quote is out, not an outlier
    assert values.filter(pl.col("index_id") == "B")["n_venues"][0] == 4


def test_a_maker_price_in_the_wrong_unit_does_not_become_the_model_price() -> None:
    rows = five_providers(GPT) + [{"provider": "openai", "model": GPT, "inp": 300.0, "out": 300.0}]  # cents
    values = run(rows, tdef("GPT", GPT))
    assert value(values, "GPT") == pytest.approx(3.0)  # falls back to the cross-provider median


def test_a_model_renamed_by_its_provider_keeps_one_price_per_provider() -> None:
    # together's id changes at 12:30; the old id is not listed any more from then on
    rows = [{"provider": "together", "id": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "inp": 1.0, "out": 1.0,
             "observed_at": at(h) if h >= 0 else BEFORE} for h in range(-1, 12)]
    rows += [{"provider": "together", "id": "meta-llama/Llama-3.3-70B-Instruct", "inp": 0.5, "out": 0.5,
              "observed_at": at(h)} for h in range(12, 24)]
    rows += [{**r, "observed_at": BEFORE} for r in five_providers()[1:]]
    fx, _, _ = tokens.compute_day(NO_GPU, token_rows(rows), defs(tdef("B")), DAY)
    venue_count = fx.filter(pl.col("index_id") == "B")["n_venues"].unique().to_list()
    assert venue_count == [5]  # never the old and the new id as two prices
    # before the rename together quotes 1.0 (median 3.0 of 1..5); after it 0.5: median still 3.0,
    # but the together venue price itself switches at the first fixing after the new id
    _, venues, _ = tokens.compute_day(NO_GPU, token_rows(rows), defs(tdef("B")), DAY)
    tog = venues.filter((pl.col("index_id") == "B") & (pl.col("venue") == "together")).sort("fixing_time")
    assert tog.filter(pl.col("fixing_time") == at(12, 0))["venue_median"][0] == pytest.approx(1.0)
    assert tog.filter(pl.col("fixing_time") == at(13, 0))["venue_median"][0] == pytest.approx(0.5)


def test_a_rename_to_an_unlisted_id_is_a_different_model_never_merged_by_guess() -> None:
    from index import canonical

    assert canonical.token_model("together_ai/meta-llama/Llama-3.3-70B-Instruct") == LLAMA  # alias rule
    renamed = canonical.token_model("together_ai/meta-llama/Llama-3.3-70B-Instruct-v2")
    assert renamed != LLAMA  # unknown: its own id until models.toml lists it as an alias
    rows = [*five_providers()[1:], {"provider": "together", "model": renamed, "inp": 0.1, "out": 0.1}]
    assert value(run(rows, tdef("B")), "B") == pytest.approx(3.5)  # together drops out, nothing invented
