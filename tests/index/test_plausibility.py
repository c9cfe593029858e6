"""The per-source plausibility check (METHODOLOGY.md §2.3): a source whose prices all move by more
than 4x at once is refused; ordinary moves, and a source alone with nothing to compare, are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from index import plausibility, scrape
from index.schemas import GPU_QUOTE_SCHEMA, QUARANTINE_SCHEMA, conform, empty_frame

T = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
MODELS = ["H100-SXM-80GB", "H200-SXM-141GB", "A100-SXM-80GB", "B200-SXM-180GB"]


def rows(source: str, prices: dict[str, float], at: datetime = T, venue: str | None = None,
         venue_class: str = "neocloud") -> pl.DataFrame:
    return conform(pl.DataFrame([
        {"observed_at": at, "source": source, "venue": venue or source, "venue_class": venue_class,
         "offer_id": f"{source}-{m}", "gpu_model": m, "gpu_count": 1, "price_usd_per_hour": p,
         "price_usd_per_gpu_hour": p, "pricing_class": "on_demand", "currency": "USD", "dataset": "t"}
        for m, p in prices.items()]), {k: v for k, v in GPU_QUOTE_SCHEMA.items() if k != "quarantine_reason"})


BASE = {"H100-SXM-80GB": 2.4, "H200-SXM-141GB": 3.5, "A100-SXM-80GB": 1.3, "B200-SXM-180GB": 5.0}


@settings(max_examples=60, deadline=None)
@given(factor=st.floats(0.01, 100.0), noise=st.lists(st.floats(0.97, 1.03), min_size=4, max_size=4))
def test_the_move_is_the_factor_and_the_limit_is_four(factor: float, noise: list[float]) -> None:
    before = rows("s", BASE, T - timedelta(hours=1))
    after = rows("s", {m: p * factor * n for (m, p), n in zip(BASE.items(), noise, strict=True)})
    m = plausibility.check(after, before, None, "gpu")
    assert m.basis == "own" and m.n_matched == 4
    assert m.ratio is not None and abs(m.ratio / factor - 1) <= 0.031
    if factor * 1.031 < 1 / plausibility.MAX_MOVE or factor / 1.031 > plausibility.MAX_MOVE:
        assert m.implausible
    if factor / 1.031 > 1 / plausibility.MAX_MOVE and factor * 1.031 < plausibility.MAX_MOVE:
        assert not m.implausible


def test_no_reference_means_no_verdict() -> None:
    assert plausibility.check(rows("s", BASE), None, None, "gpu").ratio is None
    other = rows("other", {"GH200-96GB": 1.5})  # nothing in common
    assert plausibility.check(rows("s", BASE), None, other, "gpu").ratio is None


def test_the_other_sources_need_three_per_series() -> None:
    """Against the others a series counts only when 3 other sources quote it: one wrong source
    among two others cannot condemn an honest one."""
    me = rows("me", BASE)
    two = pl.concat([rows("x", BASE), rows("wrong", {m: p * 8 for m, p in BASE.items()})])
    assert plausibility.check(me, None, two, "gpu").ratio is None
    three = pl.concat([two, rows("y", BASE)])
    m = plausibility.check(me, None, three, "gpu")
    assert m.basis == "cross" and m.ratio == 1.0 and not m.implausible


def outcome(source: str, frame: pl.DataFrame, at: datetime) -> scrape.SourceOutcome:
    return scrape.SourceOutcome(source, "gpu", at, at, at, "ok", frame, empty_frame(QUARANTINE_SCHEMA))


def test_screen_keeps_refusing_a_persisting_switch_and_accepts_a_return() -> None:
    """The reference is the last *accepted* run: an 8x run is refused, and so is the next one; a
    return to the old level is accepted. The other source of each round is untouched."""
    t = [T + timedelta(hours=h) for h in range(4)]
    levels = [1.0, 8.0, 8.0, 1.02]
    outs = [outcome("s", rows("s", {m: p * f for m, p in BASE.items()}, at), at) for f, at in zip(levels, t,
                                                                                                   strict=True)]
    outs += [outcome("o", rows("o", BASE, at), at) for at in t]
    screened = scrape.screen(outs, {})
    mine = [o for o in screened if o.source == "s"]
    assert [o.status for o in mine] == ["ok", "failed", "failed", "ok"]
    assert "8x its last accepted run at 2026-11-20 10:30Z" in (mine[1].error or "")
    assert mine[2].rows_loaded == 0 and mine[2].rows_quarantined == 4
    assert (mine[2].quarantine["reason"].str.contains("implausible move")).all()
    assert all(o.status == "ok" for o in screened if o.source == "o")


def test_screen_uses_the_stored_reference_first() -> None:
    stored = rows("s", BASE, T - timedelta(days=1))
    out = scrape.screen([outcome("s", rows("s", {m: p * 0.001 for m, p in BASE.items()}), T)], {"s": stored})
    assert out[0].status == "failed" and "0.001x its last accepted run" in (out[0].error or "")
