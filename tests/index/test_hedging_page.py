"""The standalone HTML page per series and the charts it inlines."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from index import hedging, hedging_charts, hedging_page, volatility
from index.errors import SpotindexError
from index.hedging_data import load_daily, venue_prices
from tests.hedging_helpers import GPU, TOKEN, build_store


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    store = build_store(tmp_path_factory.mktemp("page") / "s.duckdb")
    daily = load_daily(store, TOKEN)
    gpu = load_daily(store, GPU)
    qty = pl.DataFrame({"month": daily["date"].dt.truncate("1mo").unique().sort(), "quantity": 100.0})
    result = hedging.simulate(hedging.monthly_settlements(daily), qty,
                              own_price=venue_prices(store, TOKEN, "v1"))
    return {"daily": daily, "gpu": gpu, "result": result, "panel": volatility.vol_panel(TOKEN, daily),
            "corr": volatility.correlations({TOKEN: daily, GPU: gpu})}


def test_page_is_self_contained_with_inline_svg(tmp_path: Path, inputs: dict) -> None:  # type: ignore[type-arg]
    path = hedging_page.write_page(tmp_path / "pages", TOKEN, "USD/Mtok", inputs["daily"], inputs["panel"],
                                   hedge=inputs["result"], correlations=inputs["corr"], source_note="test <data>")
    assert path == tmp_path / "pages" / "TOK.TEST.BLEND.html"
    text = path.read_text()
    assert text.startswith("<!doctype html>") and text.count("<svg") == 2 and "<?xml" not in text
    assert "<script" not in text and "<link" not in text and "<img" not in text
    assert not re.search(r"(src|href)=\"https?://", text)  # nothing fetched from elsewhere
    assert "test &lt;data&gt;" in text  # text is escaped
    s = inputs["result"].stats
    assert hedging_page.pct(s.variance_reduction) in text and hedging_page.num(s.mv_ratio, 3) in text
    assert GPU in text  # the correlation table names the other series
    for m in inputs["result"].periods["period"].to_list():
        assert f"<td>{m:%Y-%m}</td>" in text


def test_page_is_deterministic_and_names_are_safe(inputs: dict) -> None:  # type: ignore[type-arg]
    a = hedging_page.render_page(TOKEN, "USD/Mtok", inputs["daily"], inputs["panel"])
    b = hedging_page.render_page(TOKEN, "USD/Mtok", inputs["daily"], inputs["panel"])
    assert a == b and "Hedging a monthly compute bill" not in a
    assert hedging_page.page_name("TOK.A/B C") == "TOK.A_B_C.html"


def test_charts_are_written_as_png_or_svg(tmp_path: Path, inputs: dict) -> None:  # type: ignore[type-arg]
    png = hedging_charts.save(hedging_charts.hedge_figure(TOKEN, "USD/Mtok", inputs["result"]), tmp_path / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = hedging_charts.save(hedging_charts.vol_figure([(inputs["panel"], "USD/Mtok", inputs["daily"])]),
                              tmp_path / "v.svg")
    assert svg.read_text().startswith("<svg")
    with pytest.raises(SpotindexError, match=r"use a .png or .svg"):
        hedging_charts.save(hedging_charts.hedge_figure(TOKEN, None, inputs["result"]), tmp_path / "h.jpg")
