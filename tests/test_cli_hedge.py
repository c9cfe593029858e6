"""End-to-end: a risk manager measures the hedge and the volatility of two series from the CLI."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from index import hedging, volatility
from index.hedging_data import load_daily, read_exposure, venue_prices
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
                                own_price=venue_prices(store, TOKEN, "v1")).stats
    figures = json.loads((tmp_path / "h.json").read_text())
    assert figures["stats"]["n_periods"] == expected.n_periods == 6  # Feb..Jul (Jan has no entry, Aug no data)
    assert figures["stats"]["variance_reduction"] == pytest.approx(expected.variance_reduction)
    assert figures["stats"]["mv_ratio"] == pytest.approx(expected.mv_ratio)
    assert expected.mv_r2 is not None and expected.mv_r2 > 0.99  # v1's price is linear in the monthly level
    assert f"{expected.mv_ratio:,.3f} ± {expected.mv_ratio_se:,.3f}" in r.stdout
    assert f"{expected.variance_reduction:.1%}" in r.stdout
    assert "basis (own price − settlement)" in r.stdout
    assert "left out (no entry price): 2025-01" in r.stdout
    assert "left out (no usable settlement)" not in r.stdout  # August lies outside --from/--to: not simulated
    assert (tmp_path / "h.svg").read_text().startswith("<svg")
    page = (tmp_path / "pages" / f"{TOKEN}.html").read_text()
    assert "Hedging a monthly compute bill" in page and page.count("<svg") == 2


def test_weekly_contracts_from_the_cli(store_path: Path, tmp_path: Path) -> None:
    """A history too short for monthly contracts: weekly ones, the company buying from venue v1."""
    exposure = tmp_path / "exposure.csv"
    exposure.write_text("month,quantity\n2025-03,3100\n2025-04,3000\n")
    r = cli("hedge", "--series", TOKEN, "--exposure", str(exposure), "--tenor", "1W", "--own-venue", "v1",
            "--from", "2025-03-01", "--to", "2025-05-01", "--db", str(store_path), "--json", str(tmp_path / "w.json"))
    assert r.returncode == 0, r.stderr
    from index.store import Store

    store = Store(store_path)
    tenor = hedging.parse_tenor("1W")
    daily = load_daily(store, TOKEN, date(2025, 3, 1), date(2025, 5, 1))
    expected = hedging.simulate(hedging.period_settlements(daily, unit="W"),
                                hedging.exposure_by_period(read_exposure(exposure), "W"), tenor=tenor,
                                own_price=venue_prices(store, TOKEN, "v1", date(2025, 3, 1), date(2025, 5, 1),
                                                       unit="W")).stats
    figures = json.loads((tmp_path / "w.json").read_text())
    assert figures["tenor"] == "1W" and figures["stats"]["period"] == "W"
    # weeks wholly in March-April from Monday 3 March to Monday 21 April; the first has no entry
    assert figures["stats"]["n_periods"] == expected.n_periods == 7
    assert figures["stats"]["variance_reduction"] == pytest.approx(expected.variance_reduction)
    assert "weeks simulated" in r.stdout and "week of" in r.stdout


def test_hedge_and_vol_bad_input_is_one_line(store_path: Path, tmp_path: Path) -> None:
    def csv(name: str, text: str) -> str:
        (tmp_path / name).write_text(text)
        return str(tmp_path / name)

    good = csv("good.csv", "month,quantity\n" + "".join(f"2025-{m:02d},100\n" for m in range(1, 8)))
    db = ("--db", str(store_path))
    hedge = ("hedge", "--series", TOKEN, *db)
    cases = [
        ((*hedge, "--exposure", csv("a.csv", "month,quantity\n2025-01,100\nJanuary,5\n")),
         "a.csv:3: column 'month': 'January' is not a month"),
        ((*hedge, "--exposure", csv("b.csv", "month,qty\n2025-01,100\n")),
         "b.csv:1: missing column(s) 'quantity' (expected month, quantity; found month, qty)"),
        ((*hedge, "--exposure", csv("c.csv", "month,quantity\n2025-01,100\n2025-02,-3\n")),
         "c.csv:3: column 'quantity': '-3' must be a number >= 0"),
        ((*hedge, "--exposure", csv("d.csv", "month,quantity\n2025-01,100\n2025-03,100\n")),
         "d.csv: month 2025-02 is missing (between 2025-01 and 2025-03"),
        ((*hedge, "--exposure", str(tmp_path / "nope.csv")), "nope.csv: file not found"),
        ((*hedge, "--exposure", csv("e.csv", "month,quantity\n2025-01,100\n2025-02,100\n")),
         "only 1 month(s) can be simulated"),
        ((*hedge, "--exposure", good, "--from", "2026-01", "--to", "2026-06"),
         "its months 2025-01 .. 2025-07 are all outside the window [2026-01-01, 2026-06-01)"),
        ((*hedge, "--exposure", good, "--from", "2025-03", "--to", "2025-03"),
         "--from 2025-03-01 is not before --to 2025-03-01"),
        (("hedge", "--series", "TOK.NOPE", *db, "--exposure", good), "series 'TOK.NOPE' has no values"),
        ((*hedge, "--exposure", good, "--own-venue", "azure"),
         "venue 'azure' is not a constituent of series 'TOK.TEST.BLEND' (its constituents: v1)"),
        ((*hedge, "--exposure", good, "--tenor", "1D", "--own-price", csv("p.csv", "month,price\n2025-01,1\n")),
         "--own-price gives monthly prices, which a daily tenor (1D) cannot use"),
        ((*hedge, "--exposure", good, "--tenor", "1Y"), "tenor '1Y' is not understood"),
        (("vol", "--series", TOKEN, "--series", "GPU.NOPE", *db), "series 'GPU.NOPE' has no values"),
        (("vol", "--series", TOKEN, *db, "--from", "2030-01"), "has no values in [2030-01-01, …); widen --from/--to"),
    ]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: cli(*c[0]), cases))
    for (args, needle), r in zip(cases, results, strict=True):
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr, (args, r.stderr)


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
