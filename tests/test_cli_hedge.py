"""End-to-end: a risk manager measures the hedge and the volatility of two series from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import hedging, volatility
from index.hedging_data import load_daily, read_exposure, venue_monthly_prices
from tests.hedging_helpers import GPU, TOKEN, build_store
from tests.test_cli import cli


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-hedge") / "s.duckdb"
    build_store(path)
    return path


def test_hedge_journey(store_path: Path, tmp_path: Path) -> None:
    exposure = tmp_path / "exposure.csv"
    exposure.write_text("month,quantity\n" + "".join(f"2025-{m:02d},{100 * m}\n" for m in range(1, 9)))
    r = cli("hedge", "--series", TOKEN, "--exposure", str(exposure), "--from", "2025-01", "--to", "2025-08-01",
            "--own-venue", "v1", "--db", str(store_path), "--chart", str(tmp_path / "h.svg"),
            "--html", str(tmp_path / "pages"), "--json", str(tmp_path / "h.json"))
    assert r.returncode == 0, r.stderr
    # the figures printed are the pure functions' figures on the same inputs
    from index.store import Store

    store = Store(store_path)
    daily = load_daily(store, TOKEN)
    expected = hedging.simulate(hedging.monthly_settlements(daily), read_exposure(exposure),
                                own_price=venue_monthly_prices(store, TOKEN, "v1")).stats
    figures = json.loads((tmp_path / "h.json").read_text())
    assert figures["stats"]["n_months"] == expected.n_months == 6  # Feb..Jul (Jan has no entry, Aug no data)
    assert figures["stats"]["variance_reduction"] == pytest.approx(expected.variance_reduction)
    assert figures["stats"]["mv_ratio"] == pytest.approx(expected.mv_ratio)
    assert expected.mv_r2 is not None and expected.mv_r2 > 0.99  # v1's price is linear in the monthly level
    assert f"{expected.mv_ratio:,.3f} ± {expected.mv_ratio_se:,.3f}" in r.stdout
    assert f"{expected.variance_reduction:.1%}" in r.stdout
    assert "basis (own price − settlement)" in r.stdout
    assert "left out (no usable settlement): 2025-08" in r.stdout and "left out (no entry price): 2025-01" in r.stdout
    assert (tmp_path / "h.svg").read_text().startswith("<svg")
    page = (tmp_path / "pages" / f"{TOKEN}.html").read_text()
    assert "Hedging a monthly compute bill" in page and page.count("<svg") == 2


def test_hedge_bad_input_is_one_line(store_path: Path, tmp_path: Path) -> None:
    exposure = tmp_path / "exposure.csv"
    exposure.write_text("month,quantity\n2025-01,100\nJanuary,5\n")
    r = cli("hedge", "--series", TOKEN, "--exposure", str(exposure), "--db", str(store_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "exposure.csv:3: column 'month': 'January' is not a month" in r.stderr
    exposure.write_text("month,quantity\n2025-01,100\n2025-02,100\n")
    r = cli("hedge", "--series", TOKEN, "--exposure", str(exposure), "--db", str(store_path))
    assert r.returncode == 1 and "only 1 month(s) can be simulated" in r.stderr and "Traceback" not in r.stderr


def test_vol_journey_with_gpu_token_correlation(store_path: Path, tmp_path: Path) -> None:
    r = cli("vol", "--series", GPU, "--series", TOKEN, "--db", str(store_path), "--chart", str(tmp_path / "v.png"),
            "--html", str(tmp_path / "pages"), "--json", str(tmp_path / "v.json"))
    assert r.returncode == 0, r.stderr
    from index.store import Store

    store = Store(store_path)
    dailies = {GPU: load_daily(store, GPU), TOKEN: load_daily(store, TOKEN)}
    panel = volatility.vol_panel(GPU, dailies[GPU])
    figures = json.loads((tmp_path / "v.json").read_text())
    assert figures["panels"][GPU]["daily_vol"] == pytest.approx(panel.daily_vol)
    assert figures["panels"][GPU]["drawdown_depth"] == pytest.approx(panel.drawdown.depth)
    daily_corr = next(c for c in volatility.correlations(dailies) if c.frequency == "daily")
    got = next(c for c in figures["correlations"] if c["frequency"] == "daily")
    assert got["n"] == daily_corr.n == 211 and got["r"] == pytest.approx(daily_corr.r)
    assert "GPU–TOK" in r.stdout and f"{daily_corr.r:,.3f}" in r.stdout
    assert (tmp_path / "v.png").read_bytes()[:4] == b"\x89PNG"
    assert {p.name for p in (tmp_path / "pages").iterdir()} == {f"{GPU}.html", f"{TOKEN}.html"}
