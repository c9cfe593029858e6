"""History output: formats round-trip, charts are drawn, revisions listed with reasons."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from index import backfill, history, store_history
from index.errors import SpotindexError
from index.importers import ImportOptions, run_import
from index.store import Store
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def thin_series_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests are about history output, not sufficiency or selection: let the o3 series publish
    with one venue, the OpenRouter ledger.

    A copy of data/ whose TOK.O3.IN definition lowers methodology v1's venue minimums to 1 and whose
    ``[tokens] routers`` leaves OpenRouter out: by METHODOLOGY.md §14 "Token indices" (T3.2) a router
    is never a constituent, so with the bundled rules an OpenRouter-only series has no input at all
    (tests/index/test_tokens.py and tests/test_backfill_real.py protect that rule).
    """
    import shutil

    from index import canonical
    from index.paths import data_dir

    data = tmp_path / "data"
    shutil.copytree(data_dir(), data, ignore=shutil.ignore_patterns("replay", "*.duckdb*"))
    text = (data / "indices.toml").read_text()
    assert 'id = "TOK.O3.IN"' in text and 'routers = ["openrouter", "vercel"]' in text
    (data / "indices.toml").write_text(text.replace('id = "TOK.O3.IN"', 'id = "TOK.O3.IN"\nmin_venues_low = 1\n'
                                                                       'min_venues_normal = 1', 1)
                                         .replace('routers = ["openrouter", "vercel"]', 'routers = ["vercel"]', 1))
    monkeypatch.setenv("SPOTINDEX_DATA", str(data))
    canonical.clear_caches()
    yield
    canonical.clear_caches()


@pytest.fixture
def filled(db: Path) -> Store:
    store = Store(db)
    run_import(store, "intervals", FIXTURES / "imports" / "ledger_openrouter.csv", ImportOptions(now=NOW))
    backfill.run_backfill(store, date(2025, 6, 5), date(2025, 6, 15), ["TOK.O3.IN"], now=NOW)
    return store


def test_formats_round_trip(filled: Store) -> None:
    df = history.shape(store_history.history(filled, "TOK.O3.IN", date(2025, 6, 8), date(2025, 6, 13), False),
                       revisions=False)
    assert df["date"].to_list() == [date(2025, 6, d) for d in range(8, 13)]
    assert df["value"].to_list() == [10.0, 10.0, 10.0, 2.0, 2.0]  # one venue (openrouter), cut at 06-11 00:00
    csv = pl.read_csv(io.BytesIO(history.render(df, "csv")), try_parse_dates=True)
    assert csv["value"].to_list() == df["value"].to_list() and csv["date"].to_list() == df["date"].to_list()
    records = json.loads(history.render(df, "json"))
    assert records[3]["date"] == "2025-06-11" and records[3]["value"] == 2.0 and records[3]["reason"] == "backfill"
    back = pl.read_parquet(io.BytesIO(history.render(df, "parquet")))
    assert back.equals(df)
    with pytest.raises(SpotindexError, match="unknown format"):
        history.render(df, "xml")


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_chart_is_drawn(filled: Store, tmp_path: Path, suffix: str) -> None:
    df = store_history.history(filled, "TOK.O3.IN", None, None, False)
    path = history.chart(df, tmp_path / f"o3{suffix}", "TOK.O3.IN", "USD/Mtok")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:2000]
    with pytest.raises(SpotindexError, match="png or .svg"):
        history.chart(df, tmp_path / "o3.jpg", "x", None)


def test_revisions_list_every_revision_with_reason(filled: Store, tmp_path: Path) -> None:
    extra = tmp_path / "late.csv"
    extra.write_text("observed_at,provider,model,usd_per_mtok_input,usd_per_mtok_output\n"
                     "2025-06-08T12:00:00Z,acme,openai/o3,4.0,16.0\n")
    run_import(filled, "quotes", extra, ImportOptions(now=NOW))
    backfill.run_backfill(filled, date(2025, 6, 8), date(2025, 6, 10), ["TOK.O3.IN"], now=NOW)
    revs = store_history.history(filled, "TOK.O3.IN", date(2025, 6, 8), date(2025, 6, 10), revisions=True)
    assert revs.select("date", "revision").rows() == [(date(2025, 6, 8), 0), (date(2025, 6, 8), 1),
                                                      (date(2025, 6, 9), 0), (date(2025, 6, 9), 1)]
    assert set(revs["reason"]) == {"backfill"}
    latest = store_history.history(filled, "TOK.O3.IN", date(2025, 6, 8), date(2025, 6, 10), revisions=False)
    # 06-08: 12 fixings with openrouter alone (10) then 12 with median(10, 4) = 7 -> 8.5; 06-09: 7 all day
    assert latest["revision"].to_list() == [1, 1] and latest["value"].to_list() == [8.5, 7.0]
