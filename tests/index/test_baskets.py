"""Baskets (index.baskets): the file, the generated series and the chain-linked level."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import baskets, definitions
from index.definitions import TokenRules
from index.errors import ConfigError

D0 = date(2026, 11, 1)


def day(i: int) -> date:
    return D0 + timedelta(days=i)


# ---- the file ------------------------------------------------------------------------------------

def test_unknown_model_is_a_clear_error_naming_basket_and_model() -> None:
    raw = {"version": "1", "basket": [{"id": "FRONTIER", "members": ["openai/gpt-4.1", "openai/gpt-9-ultra"]}]}
    with pytest.raises(ConfigError, match=r"basket FRONTIER names unknown model 'openai/gpt-9-ultra'"):
        baskets.parse(raw)


def test_an_alias_is_refused_with_the_canonical_id_to_write() -> None:
    raw = {"version": "1", "basket": [{"id": "SMALL", "members": ["gpt-4.1-mini-2025-04-14"]}]}
    with pytest.raises(ConfigError, match=r"basket SMALL .*'gpt-4.1-mini-2025-04-14'.*write that id.*"):
        baskets.parse(raw)
    try:
        baskets.parse(raw)
    except ConfigError as exc:
        assert "openai/gpt-4.1-mini" in str(exc)


@pytest.mark.parametrize("basket, message", [
    ({"id": "X", "usage_weighted": True, "members": [{"model": "openai/gpt-4.1", "weight": 1},
                                                     {"model": "openai/gpt-4o"}]}, "has no weight"),
    ({"id": "X", "members": [{"model": "openai/gpt-4.1", "weight": -2}]}, "weight must be a positive"),
    ({"id": "X", "members": [{"model": "openai/gpt-4.1", "from": "2026-12-01", "until": "2026-11-01"}]},
     "is not after"),
    ({"id": "X", "members": ["openai/gpt-4.1", {"model": "openai/gpt-4.1", "from": "2026-12-01"}]},
     "listed twice for overlapping"),
    ({"id": "X", "sides": ["everything"], "members": ["openai/gpt-4.1"]}, "sides"),
    ({"id": "x y", "members": ["openai/gpt-4.1"]}, "upper-case"),
    ({"id": "X", "members": []}, "no members"),
    ({"id": "X", "members": [{"model": "openai/gpt-4.1", "from": "soon"}]}, "is not a date"),
])
def test_bad_basket_entries_are_refused(basket: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        baskets.parse({"version": "1", "basket": [basket]})


def test_a_basket_file_needs_a_version() -> None:
    with pytest.raises(ConfigError, match="version"):
        baskets.parse({"basket": [{"id": "X", "members": ["openai/gpt-4.1"]}]})


def test_a_replacement_is_two_members_with_dates() -> None:
    bf = baskets.parse({"version": "1", "basket": [{"id": "X", "members": [
        {"model": "openai/gpt-4.1", "until": "2026-12-01"}, {"model": "openai/gpt-4o", "from": "2026-12-01"}]}]})
    old, new = bf.baskets[0].members
    assert old.active(date(2026, 11, 30)) and not old.active(date(2026, 12, 1))
    assert new.active(date(2026, 12, 1)) and not new.active(date(2026, 11, 30))


def test_generated_series_reuse_explicit_ones_and_keep_their_slug() -> None:
    bf = baskets.parse({"version": "2", "basket": [
        {"id": "OPEN", "low_bit_series": True, "members": ["meta-llama/llama-3.3-70b-instruct"]},
        {"id": "LABS", "usage_weighted": True, "sides": ["blended", "input"],
         "members": [{"model": "openai/gpt-4.1", "weight": 3}]}]})
    explicit = [{"id": "TOK.LLAMA-3.3-70B.BLEND", "kind": "token", "model": "meta-llama/llama-3.3-70b-instruct",
                 "price": "blended"}]
    out = {e["id"]: e for e in baskets.generated_entries(bf, explicit, TokenRules(sides=["blended"]))}
    assert "TOK.LLAMA-3.3-70B.BLEND" not in out  # already defined
    assert out["TOK.LLAMA-3.3-70B.BLEND.LOWBIT"]["segment"] == "low_bit"
    assert {"TOK.GPT-4.1.BLEND", "TOK.GPT-4.1.IN"} <= set(out)
    open_b = out["TOK.BASKET.OPEN.BLEND"]
    assert [m["series"] for m in open_b["members"]] == ["TOK.LLAMA-3.3-70B.BLEND"]
    usage = out["TOK.BASKET.LABS.IN.USAGE"]
    assert usage["members"][0]["weight"] == 3 and usage["basket_version"] == "2"
    assert out["TOK.BASKET.LABS.IN"]["members"][0]["weight"] == 1.0


def test_project_basket_file_loads_into_definitions() -> None:
    defs = definitions.load()
    ids = {d.id for d in defs.indices}
    assert {"TOK.BASKET.FRONTIER.BLEND", "TOK.BASKET.OPEN-LARGE.BLEND", "TOK.BASKET.SMALL.BLEND",
            "TOK.BASKET.REASONING.BLEND", "TOK.BASKET.FRONTIER.BLEND.USAGE"} <= ids
    for b in defs.baskets():
        assert b.members and all(m["series"] in ids for m in b.members)


def test_definitions_name_the_basket_file_on_error(tmp_path: Path) -> None:
    (tmp_path / "indices.toml").write_text('version = "1"\nmethodology = "1"\n[defaults]\nwindow_hours = 2\n'
                                           'list_price_window_hours = 168\nestimator = "median_of_venue_medians"\n'
                                           '[tokens]\nbaskets = "b.toml"\n')
    (tmp_path / "b.toml").write_text('version = "1"\n[[basket]]\nid = "FRONTIER"\nmembers = ["acme/nope-1"]\n')
    with pytest.raises(ConfigError, match=r"b.toml: basket FRONTIER names unknown model 'acme/nope-1'"):
        definitions.load(tmp_path / "indices.toml")


# ---- the level -----------------------------------------------------------------------------------

def members(rows: list[tuple]) -> pl.DataFrame:
    """(series, weight, start, end) of basket series B."""
    return pl.DataFrame([{"index_id": "B", "series": s, "weight": w, "start": a, "end": e, "basket_version": "1"}
                         for s, w, a, e in rows], schema=baskets.MEMBER_SCHEMA)


def values(prices: dict[str, list[float | None]], status: str = "NORMAL") -> pl.DataFrame:
    rows = [{"series": s, "date": day(i), "value": v, "p25": None if v is None else v * 0.9,
             "p75": None if v is None else v * 1.1, "n_quotes": 3, "status": status, "inputs_hash": f"{s}{i}"}
            for s, ps in prices.items() for i, v in enumerate(ps) if v is not None]
    return pl.DataFrame(rows, schema=baskets.INPUT_SCHEMA)


def levels(m: pl.DataFrame, v: pl.DataFrame, last: int) -> pl.DataFrame:
    return baskets.levels(m, v, day(last), "test")


def test_first_day_is_the_weighted_mean_price() -> None:
    m = members([("A", 1.0, None, None), ("B", 1.0, None, None), ("C", 2.0, None, None)])
    lv = levels(m, values({"A": [1.0], "B": [3.0], "C": [10.0]}), 0)
    assert lv["value"][0] == pytest.approx((1 + 3 + 2 * 10) / 4)
    assert lv["status"][0] == "NORMAL" and lv["n_venues"][0] == 3 and lv["unit"][0] == "USD/Mtok"
    assert lv["p25"][0] == pytest.approx(lv["value"][0] * 0.9) and lv["p75"][0] == pytest.approx(lv["value"][0] * 1.1)


def test_level_follows_the_members_prices() -> None:
    m = members([("A", 1.0, None, None), ("B", 1.0, None, None)])
    lv = levels(m, values({"A": [2.0, 1.0, 1.0], "B": [4.0, 4.0, 2.0]}), 2)
    assert lv["value"].to_list() == pytest.approx([3.0, 2.5, 1.5])  # a fixed basket: the mean price itself


def test_rebalance_day_shows_no_artificial_step() -> None:
    # A (price 1) is replaced on day 3 by C (price 20): prices do not move, so neither may the level
    m = members([("A", 1.0, None, day(3)), ("B", 1.0, None, None), ("C", 1.0, day(3), None)])
    v = values({"A": [1.0] * 6, "B": [4.0] * 6, "C": [20.0] * 6})
    lv = levels(m, v, 5)
    assert lv["value"].to_list() == pytest.approx([2.5] * 6)  # without chain-linking day 3 would read 12.0
    # after the change the level moves with the new members: C falls by half on day 5
    v2 = values({"A": [1.0] * 6, "B": [4.0] * 6, "C": [20.0] * 5 + [10.0]})
    lv2 = levels(m, v2, 5)
    assert lv2["value"][5] == pytest.approx(2.5 * (4.0 + 10.0) / (4.0 + 20.0))


def test_adding_and_retiring_members_is_chain_linked() -> None:
    m = members([("A", 1.0, None, None), ("B", 1.0, day(2), None), ("C", 1.0, None, day(4))])
    v = values({"A": [2.0] * 6, "B": [8.0] * 6, "C": [0.5] * 6})
    assert levels(m, v, 5)["value"].to_list() == pytest.approx([1.25] * 6)


def test_a_member_without_a_price_makes_the_day_less_certain_not_a_step() -> None:
    m = members([("A", 1.0, None, None), ("B", 1.0, None, None), ("C", 1.0, None, None)])
    v = values({"A": [1.0] * 8, "B": [2.0] * 8, "C": [3.0, 3.0, None, None, None, None, None, 3.0]})
    lv = levels(m, v, 7)
    assert lv["value"].to_list() == pytest.approx([2.0] * 8)
    # C carries its last value 3 days (not fresh: LOW_CONFIDENCE), then drops out of the link
    assert lv["status"].to_list() == ["NORMAL", "NORMAL"] + ["LOW_CONFIDENCE"] * 5 + ["NORMAL"]
    assert lv["n_venues"].to_list() == [3, 3, 3, 3, 3, 2, 2, 3]


def test_a_member_that_never_had_a_price_counts_against_the_status() -> None:
    m = members([("A", 1.0, None, None), ("B", 1.0, None, None), ("NEVER", 1.0, None, None)])
    lv = levels(m, values({"A": [1.0], "B": [3.0]}), 0)
    assert lv["value"][0] == pytest.approx(2.0) and lv["status"][0] == "LOW_CONFIDENCE"


def test_a_day_with_no_member_priced_on_both_days_carries_the_level_as_contingency() -> None:
    m = members([("A", 1.0, None, day(1)), ("B", 1.0, day(1), None)])
    v = values({"A": [1.0, 1.0, None], "B": [None, 5.0, 4.0]})
    lv = levels(m, v, 2)
    assert lv["value"].to_list() == pytest.approx([1.0, 1.0, 0.8])
    assert lv["status"][1] == "CONTINGENCY" and lv["status"][2] == "NORMAL"


def test_the_level_is_the_same_bits_whatever_the_row_order() -> None:
    m = members([(s, float(i + 1), None, None) for i, s in enumerate("ABCDEFG")])
    rng = random.Random(7)
    v = values({s: [rng.uniform(0.1, 10) for _ in range(20)] for s in "ABCDEFG"})
    a = levels(m, v, 19)
    b = levels(m.sample(fraction=1.0, shuffle=True, seed=1), v.sample(fraction=1.0, shuffle=True, seed=2), 19)
    assert a.equals(b)
    assert a["inputs_hash"].n_unique() == 20


@settings(max_examples=30, deadline=None)
@given(prices=st.lists(st.floats(0.01, 100), min_size=4, max_size=4),
       newcomer=st.floats(0.01, 1000), change=st.integers(1, 4))
def test_property_no_step_on_any_membership_change(prices: list[float], newcomer: float, change: int) -> None:
    """Whatever the prices, with prices flat across the change day the level is flat."""
    m = members([("A", 1.0, None, day(change)), ("B", 2.0, None, None), ("C", 1.0, None, None),
                 ("D", 1.0, None, None), ("N", 3.0, day(change), None)])
    v = values({"A": [prices[0]] * 6, "B": [prices[1]] * 6, "C": [prices[2]] * 6, "D": [prices[3]] * 6,
                "N": [newcomer] * 6})
    lv = levels(m, v, 5)["value"].to_list()
    assert lv == pytest.approx([lv[0]] * 6, rel=1e-12)
